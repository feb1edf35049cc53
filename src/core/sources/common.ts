// What every source shares instead of keeping its own copy: the sample files verify shows, the
// checks on a custom endpoint URL, and the kind of a failure for explain().
import type { SourceErrorKind, SourceExplanation, VerifyFile } from '../types';
import { errorMessage, RetryableError, UserError } from '../util/errors';
import { SourceError, sourceErrorKind, TLS_CODES } from './errors';

/** How many files verify shows as a sample. */
export const VERIFY_SAMPLE = 20;

/**
 * The first `max` files of a listing as verify shows them (name, size, folder). Entries whose
 * relative path is empty or ends in '/' (the prefix itself, folder markers) are not files.
 * Stops reading an async listing as soon as it has enough.
 */
export async function collectSampleFiles<T>(items: Iterable<T> | AsyncIterable<T>, relOf: (item: T) => string, sizeOf: (item: T) => number, max = VERIFY_SAMPLE): Promise<VerifyFile[]> {
  const out: VerifyFile[] = [];
  if (max <= 0) return out;
  for await (const it of items) {
    const rel = relOf(it);
    if (!rel || rel.endsWith('/')) continue;
    const slash = rel.lastIndexOf('/');
    out.push({ name: rel.slice(slash + 1), size: sizeOf(it), folder: slash >= 0 ? rel.slice(0, slash) : '' });
    if (out.length >= max) break;
  }
  return out;
}

/** What an endpoint setting is called and what its messages say. */
export interface EndpointSpec {
  /** `step "Fetch"`: starts every message. */
  where: string;
  /** The setting's name in the block: endpoint, apiEndpoint. */
  field: string;
  /** Examples for the "is not a URL" message: "https://... or http://127.0.0.1:9000". */
  examples: string;
  /** The message (after `where: `) for a URL holding a user name or password. */
  noUserInfo: string;
  /** The message (after `where: `) for a URL with a query; unset: a query is allowed (and dropped). */
  noQuery?: string;
}

export interface CheckedEndpoint {
  /** origin + path without trailing slashes: https://s3.example.com, http://127.0.0.1:10000/devstoreaccount1. */
  url: string;
  /** https: the connection is TLS. */
  secure: boolean;
  /** Plain http to this machine (an emulator): no TLS, and the GCS source sends no credentials there. */
  loopbackHttp: boolean;
}

const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

/** True for an http:// URL to this machine (localhost, 127.x.x.x, [::1]). */
export function isLoopbackHttp(endpoint: string | URL): boolean {
  const u = typeof endpoint === 'string' ? new URL(endpoint) : endpoint;
  return u.protocol === 'http:' && LOOPBACK_HOST.test(u.hostname);
}

/** A custom endpoint URL as the S3, GCS and Azure steps accept it: http or https, no credentials in it. */
export function checkEndpoint(raw: string, spec: EndpointSpec): CheckedEndpoint {
  const { where, field } = spec;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UserError(`${where}: ${field} "${raw}" is not a URL; write it like ${spec.examples}.`, 'InvalidEndpoint');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UserError(`${where}: ${field} must start with http:// or https://.`, 'InvalidEndpoint');
  if (spec.noQuery && u.search) throw new UserError(`${where}: ${spec.noQuery}`, 'InvalidEndpoint');
  if (u.username || u.password) throw new UserError(`${where}: ${spec.noUserInfo}`, 'InvalidEndpoint');
  return { url: u.origin + u.pathname.replace(/\/+$/, ''), secure: u.protocol === 'https:', loopbackHttp: isLoopbackHttp(u) };
}

/** A TLS failure: Node's certificate and handshake codes, and anything named like one. */
export function isTlsFailure(code: string): boolean {
  return TLS_CODES.has(code) || /CERT|SSL|TLS|EPROTO/.test(code);
}

/** The kind of any failure a source meets: a SourceError's own, else read from the code and status. */
export function errorKind(err: unknown, code?: string, status?: number): SourceErrorKind {
  if (err instanceof SourceError) return err.kind;
  if (err instanceof RetryableError && err.throttled) return 'throttled';
  const c = code ?? (err as { code?: unknown })?.code;
  const s = status ?? (err as { status?: unknown; statusCode?: unknown })?.status ?? (err as { statusCode?: unknown })?.statusCode;
  const kind = sourceErrorKind(typeof c === 'string' ? c : undefined, typeof s === 'number' ? s : undefined);
  if (kind === 'other' && typeof c === 'string' && isTlsFailure(c)) return 'tls';
  if (kind === 'other' && err instanceof UserError) return 'invalid';
  return kind;
}

/** A failure explained without knowing the store: its code, its message, its kind. */
export function genericExplanation(err: unknown): SourceExplanation {
  const c = (err as { code?: unknown })?.code;
  const code = typeof c === 'string' && c ? c : err instanceof Error ? err.name : 'Error';
  return { code, detail: errorMessage(err), kind: errorKind(err, code) };
}

