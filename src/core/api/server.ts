// "Run the pipeline from code": a local HTTP API guarded by an API key, plus the scheduler.
// Binds to 127.0.0.1 by default. The key is compared in constant time and never logged.
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { DatasetLockedError } from '../dataset/lock';
import type { NotifyOptions } from '../notify';
import type { Resolver } from '../pipeline/refs';
import { loadPipelineFile } from '../pipeline/validate';
import { runPipeline } from '../run/engine';
import { getRun, listRuns } from '../run/history';
import { Scheduler } from '../schedule/scheduler';
import type { Logger, RunRecord, Trigger } from '../types';
import { errorMessage, sanitizeServerText } from '../util/errors';

export interface ApiOptions {
  /** Pipeline files served; ids are their paths relative to `root` without `.pipeline.json`. */
  files: string[];
  root: string;
  apiKey: string;
  host?: string;
  port?: number;
  schedule?: boolean;
  logger: Logger;
  resolver?: Resolver;
  notify?: NotifyOptions;
}

export interface ApiServer {
  url: string;
  port: number;
  scheduler?: Scheduler;
  close(): Promise<void>;
}

const SKIP_DIRS = new Set(['node_modules', '.git', '.dsp', '.tools', 'dist', 'out']);

/** Finds *.pipeline.json files below a folder (or takes the given files as they are). */
export function findPipelineFiles(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 8) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of entries) {
      if (d.isDirectory() && !SKIP_DIRS.has(d.name) && !d.name.startsWith('.')) walk(path.join(dir, d.name), depth + 1);
      else if (d.isFile() && d.name.endsWith('.pipeline.json')) out.push(path.join(dir, d.name));
    }
  };
  for (const p of paths) {
    const abs = path.resolve(p);
    if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) walk(abs, 0);
    else out.push(abs);
  }
  return [...new Set(out)].sort();
}

export function pipelineId(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/').replace(/\.pipeline\.json$/, '');
}

function keyDigest(k: string): Buffer {
  return createHash('sha256').update(k).digest();
}

export function generateApiKey(): string {
  return 'dsp_' + randomBytes(24).toString('base64url');
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

const MAX_BODY = 64 * 1024;

/** A request the API refuses, with its status and a message that says what to send instead. */
class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readBody(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY) throw new RequestError(413, `The request body is over ${MAX_BODY / 1024} KB; a run request is {"steps": ["name", ...]} at most.`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw new RequestError(413, `The request body is over ${MAX_BODY / 1024} KB; a run request is {"steps": ["name", ...]} at most.`);
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

/** The steps a run request names, checked against the pipeline. */
function requestedSteps(body: Record<string, unknown>, pipeline: { steps: { name: string }[] }): string[] | undefined {
  if (body.steps === undefined || body.steps === null) return undefined;
  if (!Array.isArray(body.steps) || !body.steps.every((x) => typeof x === 'string')) throw new RequestError(400, '"steps" must be a list of step names.');
  const names = new Set(pipeline.steps.map((x) => x.name));
  const unknown = (body.steps as string[]).filter((x) => !names.has(x));
  if (unknown.length) throw new RequestError(400, `No step ${unknown.map((x) => JSON.stringify(x)).join(', ')} in this pipeline. Its steps: ${[...names].map((x) => JSON.stringify(x)).join(', ')}.`);
  return body.steps as string[];
}

export async function startApiServer(o: ApiOptions): Promise<ApiServer> {
  const expected = keyDigest(o.apiKey);
  const byId = new Map(o.files.map((f) => [pipelineId(o.root, f), f]));
  const active = new Map<string, { controller: AbortController; runId?: string }>();

  const runOne = (file: string, trigger: Trigger, steps?: string[]): { started: Promise<RunRecord>; finished: Promise<RunRecord> } => {
    const loaded = loadPipelineFile(file);
    const controller = new AbortController();
    let onStarted!: (r: RunRecord) => void;
    const started = new Promise<RunRecord>((resolve) => (onStarted = resolve));
    active.set(file, { controller });
    scheduler?.markRunning(file, true);
    const finished = runPipeline(loaded, {
      trigger,
      steps,
      signal: controller.signal,
      logger: o.logger,
      resolver: o.resolver,
      notify: o.notify,
      onStart: (r) => {
        const a = active.get(file);
        if (a) a.runId = r.id;
        onStarted(r);
      },
    }).finally(() => {
      active.delete(file);
      scheduler?.markRunning(file, false);
    });
    return { started: Promise.race([started, finished]), finished };
  };

  const scheduler = o.schedule === false ? undefined : new Scheduler((file) => runOne(file, 'schedule').finished, o.logger);
  scheduler?.set(o.files);

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/api/health') return send(res, 200, { ok: true });
      const given = (req.headers['x-api-key'] as string | undefined) ?? (req.headers.authorization?.startsWith('Bearer ') ? req.headers.authorization.slice(7) : undefined);
      if (!given || !timingSafeEqual(keyDigest(given), expected)) return send(res, 401, { error: 'Missing or wrong API key: send it as the x-api-key header (or Authorization: Bearer KEY).' });
      const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
      if (parts[0] !== 'api') return send(res, 404, { error: 'Unknown path. See GET /api/pipelines.' });
      if (parts[1] === 'pipelines' && parts.length === 2 && req.method === 'GET') {
        const sched = new Map((scheduler?.list() ?? []).map((e) => [e.file, e]));
        return send(
          res,
          200,
          [...byId].map(([id, file]) => {
            const loaded = loadPipelineFile(file);
            const last = listRuns(loaded.datasetDir, 1)[0];
            return { id, name: loaded.pipeline?.name, file, valid: !!loaded.pipeline, running: active.has(file), nextRunAt: sched.get(file)?.nextRunAt?.toISOString(), lastRun: last ? { id: last.id, status: last.status, startedAt: last.startedAt } : undefined };
          }),
        );
      }
      if (parts[1] === 'pipelines' && parts.length >= 4) {
        // The id may contain '/', so the action is the last segment(s).
        const tail = parts.slice(2);
        let id: string;
        let action: string;
        let runId: string | undefined;
        if (tail.length >= 3 && tail[tail.length - 2] === 'runs') {
          runId = tail[tail.length - 1];
          action = 'run-detail';
          id = tail.slice(0, -2).join('/');
        } else {
          action = tail[tail.length - 1];
          id = tail.slice(0, -1).join('/');
        }
        const file = byId.get(id);
        if (!file) return send(res, 404, { error: `No pipeline "${id}". GET /api/pipelines lists them.` });
        const loaded = loadPipelineFile(file);
        if (action === 'run' && req.method === 'POST') {
          if (!loaded.pipeline) return send(res, 422, { error: 'The pipeline file has errors; fix them first.', problems: loaded.problems });
          // The whole body first: deciding and recording a run is then one step, with no await
          // between the check and the start (a late body cannot overwrite a run in progress).
          const steps = requestedSteps(await readBody(req), loaded.pipeline);
          if (active.has(file)) return send(res, 409, { error: 'A run of this pipeline is in progress.', runId: active.get(file)?.runId });
          const wait = url.searchParams.get('wait') === '1' || url.searchParams.get('wait') === 'true';
          const r = runOne(file, 'api', steps);
          try {
            if (wait) return send(res, 200, await r.finished);
            const first = await r.started;
            r.finished.catch(() => undefined);
            return send(res, 202, { runId: first.id, status: first.status });
          } catch (err) {
            if (err instanceof DatasetLockedError) return send(res, 409, { error: err.message });
            return send(res, 500, { error: sanitizeServerText(errorMessage(err)) });
          }
        }
        if (action === 'cancel' && req.method === 'POST') {
          const a = active.get(file);
          if (!a) return send(res, 409, { error: 'No run of this pipeline is in progress.' });
          a.controller.abort();
          return send(res, 202, { runId: a.runId, cancelling: true });
        }
        if (action === 'runs' && req.method === 'GET') {
          const limit = Number(url.searchParams.get('limit') ?? 50);
          return send(res, 200, listRuns(loaded.datasetDir, Number.isInteger(limit) && limit > 0 ? Math.min(limit, 1000) : 50));
        }
        if (action === 'run-detail' && req.method === 'GET') {
          const r = getRun(loaded.datasetDir, runId!);
          return r ? send(res, 200, r) : send(res, 404, { error: `No run ${runId}.` });
        }
      }
      return send(res, 404, { error: 'Unknown path or method. Endpoints: GET /api/pipelines, POST /api/pipelines/ID/run[?wait=1], POST /api/pipelines/ID/cancel, GET /api/pipelines/ID/runs, GET /api/pipelines/ID/runs/RUN_ID.' });
    } catch (err) {
      if (res.headersSent) return;
      if (err instanceof RequestError) {
        send(res, err.status, { error: err.message });
        if (err.status === 413) req.destroy(); // do not read the rest
      } else if (err instanceof URIError) send(res, 400, { error: 'The path is not valid percent-encoding. Pipeline ids are as GET /api/pipelines lists them.' });
      else send(res, 500, { error: sanitizeServerText(errorMessage(err)) });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A deep accept queue: a burst of triggers (a CI fan-out) is answered 409, never reset.
    server.listen({ port: o.port ?? 8787, host: o.host ?? '127.0.0.1', backlog: 4096 }, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${o.host ?? '127.0.0.1'}:${port}`,
    port,
    scheduler,
    close: async () => {
      scheduler?.stop();
      for (const a of active.values()) a.controller.abort();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
    },
  };
}
