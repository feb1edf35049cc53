// Errors that carry what the user should do next, and whether trying again may help.
import { setTimeout as sleep } from 'node:timers/promises';

export class UserError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** A transfer error that is worth retrying (network reset, 5xx, throttling, short body). */
export class RetryableError extends Error {
  constructor(message: string, readonly throttled = false, readonly code?: string) {
    super(message);
    this.name = 'RetryableError';
  }
}

const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_CONNECT_TIMEOUT', 'ECONNABORTED']);

export function isRetryable(err: unknown): boolean {
  if (err instanceof RetryableError) return true;
  const e = err as { code?: string; name?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e?.name === 'AbortError') return false;
  if (e?.code && RETRYABLE_CODES.has(e.code)) return true;
  const status = e?.$metadata?.httpStatusCode;
  if (status && (status >= 500 || status === 429)) return true;
  return !!e?.$retryable;
}

export function isThrottle(err: unknown): boolean {
  if (err instanceof RetryableError) return err.throttled;
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'SlowDown' || e?.name === 'ThrottlingException' || e?.$metadata?.httpStatusCode === 503 || e?.$metadata?.httpStatusCode === 429;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Waits before retry `attempt` (1, 2, …): exponential with jitter, longer when the server asked
 * us to slow down; rejects at once when the signal aborts. */
export function backoff(attempt: number, throttled: boolean, signal?: AbortSignal): Promise<void> {
  const ms = Math.min(throttled ? 8000 : 2000, (throttled ? 400 : 100) * 2 ** attempt) * (0.5 + Math.random());
  return sleep(ms, undefined, { signal });
}

/** Calls `fn` until it succeeds, fails for good, or `attempts` tries are spent, backing off in between. */
export async function withRetries<T>(attempts: number, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn();
    } catch (err) {
      if (signal?.aborted || !isRetryable(err) || attempt >= attempts) throw err;
      await backoff(attempt, isThrottle(err), signal);
    }
  }
}
