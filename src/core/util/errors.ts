// Errors that carry what the user should do next, and whether trying again may help.

export class UserError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'UserError';
  }
}

export { RetryableError, isRetryable, isThrottle, backoff, backoffMs, withRetries, RETRYABLE_NETWORK_CODES } from './retry';

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
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
