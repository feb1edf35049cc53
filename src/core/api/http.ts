// JSON over HTTP for the local API: responses, request errors and the request body.
import type * as http from 'node:http';
import { errorMessage, sanitizeServerText } from '../util/errors';

export function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** 500 with the error's message, cleaned of anything a server should not echo. */
export function sendServerError(res: http.ServerResponse, err: unknown): void {
  send(res, 500, { error: sanitizeServerText(errorMessage(err)) });
}

export const MAX_BODY = 64 * 1024;

/** A request the API refuses, with its status and a message that says what to send instead. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Answers an error thrown while handling a request (unless an answer has already started). */
export function sendRequestFailure(req: http.IncomingMessage, res: http.ServerResponse, err: unknown): void {
  if (res.headersSent) return;
  if (err instanceof RequestError) {
    send(res, err.status, { error: err.message });
    if (err.status === 413) req.destroy(); // do not read the rest
  } else if (err instanceof URIError) send(res, 400, { error: 'The path is not valid percent-encoding. Pipeline ids are as GET /api/pipelines lists them.' });
  else sendServerError(res, err);
}

const TOO_LARGE = `The request body is over ${MAX_BODY / 1024} KB; a run request is {"steps": ["name", ...]} at most.`;

export async function readBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY) throw new RequestError(413, TOO_LARGE);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new RequestError(413, TOO_LARGE);
    chunks.push(c);
  }
  if (!size) return {};
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new RequestError(400, `The request body is not JSON (${(err as Error).message}). Send {} or {"steps": ["name", ...]}, or no body.`);
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new RequestError(400, 'The request body must be a JSON object: {} or {"steps": ["name", ...]}.');
  return body as Record<string, unknown>;
}
