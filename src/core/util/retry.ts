// The one retry policy: which failures are worth another try, how long to wait before it, and the
// loop that applies both. Sources (listing pages), the executor (transfers, through backoffMs and
// its own queue) and the notifiers (webhooks) all use it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { SourceErrorKind } from '../types';

/** An error worth retrying (network reset, 5xx, throttling, short body). */
export class RetryableError extends Error {
  constructor(message: string, readonly throttled = false, readonly code?: string) {
    super(message);
    this.name = 'RetryableError';
  }
}

/** Network failures another try may cure, as Node, undici and the cloud SDKs name them. */
export const RETRYABLE_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'ERR_STREAM_PREMATURE_CLOSE', 'REQUEST_SEND_ERROR',
]);

/**
 * The kind of a SourceError (src/core/sources/errors.ts), read by its name and field so that this
 * module needs nothing from the sources (which import it).
 */
function sourceErrorKindOf(err: unknown): SourceErrorKind | undefined {
  const e = err as { name?: unknown; kind?: unknown };
  return err instanceof Error && e.name === 'SourceError' && typeof e.kind === 'string' ? (e.kind as SourceErrorKind) : undefined;
}

const RETRYABLE_KINDS: ReadonlySet<SourceErrorKind> = new Set(['throttled', 'network']);
const FINAL_KINDS: ReadonlySet<SourceErrorKind> = new Set(['auth', 'denied', 'not-found', 'invalid', 'tls']);

export function isRetryable(err: unknown): boolean {
  if (err instanceof RetryableError) return true;
  const e = err as { code?: string; name?: string; final?: boolean };
  if (e?.name === 'AbortError' || e?.final) return false; // final: the source decided retrying cannot help
  const kind = sourceErrorKindOf(err);
  if (kind && RETRYABLE_KINDS.has(kind)) return true;
  if (kind && FINAL_KINDS.has(kind)) return false;
  return !!e?.code && RETRYABLE_NETWORK_CODES.has(e.code);
}

export function isThrottle(err: unknown): boolean {
  if (err instanceof RetryableError) return err.throttled;
  return sourceErrorKindOf(err) === 'throttled';
}

/** The wait before retry `attempt` (1, 2, …): exponential with jitter, longer when the server asked us to slow down. */
export function backoffMs(attempt: number, throttled: boolean): number {
  return Math.min(throttled ? 8000 : 2000, (throttled ? 400 : 100) * 2 ** attempt) * (0.5 + Math.random());
}

/** Waits backoffMs (or `baseMs` × 2^(attempt-1) when the caller sets its own base); rejects at once when the signal aborts. */
export function backoff(attempt: number, throttled: boolean, signal?: AbortSignal, baseMs?: number): Promise<void> {
  return sleep(baseMs === undefined ? backoffMs(attempt, throttled) : baseMs * 2 ** (attempt - 1), undefined, { signal });
}

/** Calls `fn` until it succeeds, fails for good, or `attempts` tries are spent, backing off in between. */
export async function withRetries<T>(attempts: number, signal: AbortSignal | undefined, fn: (attempt: number) => Promise<T>, retryable: (err: unknown) => boolean = isRetryable, baseMs?: number): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      if (signal?.aborted || !retryable(err) || attempt >= attempts) throw err;
      await backoff(attempt, isThrottle(err), signal, baseMs);
    }
  }
}
