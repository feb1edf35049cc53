// S3 answers and network failures -> errors the engine can act on (retry, slow down) and a person
// can act on (which setting to fix). Messages never carry a secret.
import { RetryableError, sanitizeServerText } from '../../util/errors';
import { SourceError as S3Error, TLS_CODES } from '../errors';

/** S3's failures are the one SourceError (the name is kept for the S3 code that throws it). */
export { SourceError as S3Error, TLS_CODES } from '../errors';

const THROTTLE_CODES = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequests', 'TooManyRequestsException', 'RequestThrottled', 'ServiceUnavailable']);
const RETRY_CODES = new Set(['InternalError', 'RequestTimeout', 'RequestTimeoutException', 'ServiceUnavailable', 'IDPCommunicationError', 'BadDigest']);



export interface HttpFailure {
  status: number;
  code?: string;
  message?: string;
  /** What was asked: "listing s3://b/p/" or "downloading s3://b/k". */
  what: string;
}

/** Maps an S3 error answer to a thrown error: RetryableError for 5xx/429/throttling, S3Error otherwise. */
export function errorFromResponse(f: HttpFailure): Error {
  // The server's code and message are its own text: cut, escaped and stripped of anything that looks like a credential.
  const code = f.code ? sanitizeServerText(f.code, 64) : f.status === 404 ? 'NotFound' : f.status === 403 ? 'AccessDenied' : `HTTP${f.status}`;
  const message = f.message ? sanitizeServerText(f.message) : '';
  const text = `${f.what}: ${code}${message ? ` (${message})` : ''} [HTTP ${f.status}]`;
  if (f.status === 429 || f.status === 503 || THROTTLE_CODES.has(code)) return new RetryableError(`${text}; slowing down`, true, code);
  if (f.status >= 500 || RETRY_CODES.has(code)) return new RetryableError(text, false, code);
  const hint = HINTS[code];
  return new S3Error(hint ? `${text}. ${hint}` : text, code, f.status);
}

const HINTS: Record<string, string> = {
  NoSuchKey: 'The object was deleted after the listing; the next run will report it as removed.',
  PreconditionFailed: 'The object changed after the listing; the next run will download the new version.',
  AccessDenied: 'The credentials may not read this object: grant s3:GetObject on it.',
  InvalidAccessKeyId: 'The access key is not known to this endpoint: check accessKey.',
  SignatureDoesNotMatch: 'The secret key does not match the access key: check secretKey.',
  ExpiredToken: 'The session token has expired: refresh the credentials (aws sso login, or new keys).',
  RequestTimeTooSkewed: "This machine's clock is off by more than 15 minutes: fix the clock.",
  NoSuchBucket: 'The bucket does not exist at this endpoint: check the bucket in path (and endpoint).',
};

/** A network error as a retryable error with its code kept, or unchanged when retrying cannot help. */
export function networkError(err: NodeJS.ErrnoException, what: string): Error {
  if (err instanceof RetryableError || err instanceof S3Error || err.name === 'AbortError') return err;
  const code = err.code ?? 'ECONNRESET';
  if (TLS_CODES.has(code) || code === 'ENOTFOUND' || code === 'ERR_INVALID_URL') return err;
  const e = new RetryableError(`${what}: ${sanitizeServerText(err.message)} (${code})`, false, code);
  return e;
}
