// The API key: generated once, sent as x-api-key (or Authorization: Bearer), compared in constant
// time on SHA-256 digests (equal lengths, so timingSafeEqual never throws) and never logged.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type * as http from 'node:http';

export function generateApiKey(): string {
  return 'dsp_' + randomBytes(24).toString('base64url');
}

function keyDigest(k: string): Buffer {
  return createHash('sha256').update(k).digest();
}

/** The key a request carries, from x-api-key or a Bearer authorization header. */
function givenKey(req: http.IncomingMessage): string | undefined {
  const header = req.headers['x-api-key'] as string | undefined;
  if (header !== undefined) return header;
  return req.headers.authorization?.startsWith('Bearer ') ? req.headers.authorization.slice(7) : undefined;
}

/** A check that a request carries `apiKey`. */
export function apiKeyCheck(apiKey: string): (req: http.IncomingMessage) => boolean {
  const expected = keyDigest(apiKey);
  return (req) => {
    const given = givenKey(req);
    return !!given && timingSafeEqual(keyDigest(given), expected);
  };
}
