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
  const e = err as { code?: string; name?: string; final?: boolean; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e?.name === 'AbortError' || e?.final) return false; // final: the source decided retrying cannot help
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

/** Server-supplied error text (XML/JSON messages, status text, response bodies) made safe to keep
 * and show: credentials and signatures removed, control characters escaped, cut to `max` chars. */
export function sanitizeServerText(text: unknown, max = 300): string {
  let s = String(text ?? '');
  s = s.replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[redacted private key]');
  s = s.replace(/\b(authorization|proxy-authorization|x-amz-security-token|x-amz-signature|x-amz-credential|x-goog-signature|x-goog-credential|x-ms-copy-source-authorization)\s*[:=]\s*[^\r\n&<"]*/gi, '$1: [redacted]');
  s = s.replace(/AWS4-HMAC-SHA256[^\r\n<"]*/g, 'AWS4-HMAC-SHA256 [redacted]');
  s = s.replace(/\b(Credential|Signature|SignedHeaders)=[^,\s&<"]*/g, '$1=[redacted]');
  s = s.replace(/([?&](?:sig|se|sv|sp|spr|srt|ss|st|skoid|sktid|skt|ske|sks|skv|signature|token|access_token|X-Amz-[A-Za-z-]+|X-Goog-[A-Za-z-]+)=)[^&\s<"]*/gi, '$1[redacted]');
  s = s.replace(/\b(sv=[^&\s<"]*&[^\s<"]*sig=)[^&\s<"]*/gi, '$1[redacted]');
  s = s.replace(/\b(AccountKey|SharedAccessSignature|SharedAccessKey|password|secret|private_key|client_secret|session_token|aws_secret_access_key|aws_session_token)(["']?\s*[:=]\s*["']?)[^;\s&<"',}]*/gi, '$1$2[redacted]');
  s = s.replace(/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, 'Bearer [redacted]');
  s = s.replace(/\b(key|token|secret|signature|sig|credential|auth)([A-Za-z_-]*["']?\s*[:=>]\s*["']?)[A-Za-z0-9+/_=-]{16,}/gi, '$1$2[redacted]');
  s = s.replace(/[A-Za-z0-9+/]{32,}={0,2}|[0-9a-fA-F]{32,}/g, '[redacted]');
// eslint-disable-next-line no-control-regex
  s = s.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  if (s.length > max) s = `${s.slice(0, max)}…`;
  return s;
}
