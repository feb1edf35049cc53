// AWS Signature Version 4 for S3 requests with an unsigned payload (GET/HEAD only need that).
// Hand-written because the SDK's per-request middleware costs more than the transfer of a small
// object (see BENCHMARKS.md, "S3 sync"); the signing key is cached per day, region and secret.
import { createHash, createHmac } from 'node:crypto';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When temporary credentials stop working. */
  expiration?: Date;
}

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const ALGORITHM = 'AWS4-HMAC-SHA256';

/** RFC 3986 percent-encoding of one URI component, as SigV4 requires (`!'()*` too). */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

const UNRESERVED_PATH = /^[A-Za-z0-9\-._~/]*$/;

/** An S3 object key in a URL path: every byte encoded except the unreserved set and '/'. */
export function encodeKeyPath(key: string): string {
  // Most dataset keys need no encoding: one regex test instead of a split, map and join per request.
  if (UNRESERVED_PATH.test(key)) return key;
  return key.split('/').map(uriEncode).join('/');
}

/** The canonical query string: names and values encoded, sorted by name then value. */
export function canonicalQuery(query: Record<string, string>): string {
  return Object.keys(query)
    .map((k) => [uriEncode(k), uriEncode(query[k])] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** `20130524T000000Z` */
export function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

// The stamp changes once a second; thousands of requests a second share it.
let stampCache = { second: -1, stamp: '' };
function stampNow(): string {
  const second = Math.floor(Date.now() / 1000);
  if (stampCache.second !== second) stampCache = { second, stamp: amzDate(new Date(second * 1000)) };
  return stampCache.stamp;
}

export interface SignInput {
  method: string;
  host: string;
  /** Already encoded path, e.g. `/bucket/a%20b.jpg`. */
  path: string;
  /** The canonical query string (see canonicalQuery), also sent as is. */
  query: string;
  /** Extra headers to sign, names in lower case (x-amz-request-payer, range, ...). */
  headers?: Record<string, string>;
  region: string;
  service?: string;
  now?: Date;
  /** Hex SHA-256 of the body; UNSIGNED-PAYLOAD unless given. */
  payloadHash?: string;
}

export class Signer {
  private keyCache: { scope: string; secret: string; key: Buffer } | undefined;

  constructor(private readonly credentials: Credentials) {}

  private signingKey(date: string, region: string, service: string): Buffer {
    const scope = `${date}/${region}/${service}`;
    const c = this.keyCache;
    if (c && c.scope === scope && c.secret === this.credentials.secretAccessKey) return c.key;
    const kDate = createHmac('sha256', 'AWS4' + this.credentials.secretAccessKey).update(date).digest();
    const kRegion = createHmac('sha256', kDate).update(region).digest();
    const kService = createHmac('sha256', kRegion).update(service).digest();
    const key = createHmac('sha256', kService).update('aws4_request').digest();
    this.keyCache = { scope, secret: this.credentials.secretAccessKey, key };
    return key;
  }

  /** Returns every header the request must carry (host included), with Authorization. */
  sign(input: SignInput): Record<string, string> {
    const service = input.service ?? 's3';
    const stamp = input.now ? amzDate(input.now) : stampNow();
    const date = stamp.slice(0, 8);
    const payload = input.payloadHash ?? UNSIGNED_PAYLOAD;
    const headers: Record<string, string> = { host: input.host, 'x-amz-content-sha256': payload, 'x-amz-date': stamp };
    if (this.credentials.sessionToken) headers['x-amz-security-token'] = this.credentials.sessionToken;
    if (input.headers) for (const [k, v] of Object.entries(input.headers)) headers[k.toLowerCase()] = v;
    const names = Object.keys(headers).sort();
    const canonicalHeaders = names.map((n) => `${n}:${headers[n].trim().replace(/\s+/g, ' ')}\n`).join('');
    const signedHeaders = names.join(';');
    const canonicalRequest = `${input.method}\n${input.path}\n${input.query}\n${canonicalHeaders}\n${signedHeaders}\n${payload}`;
    const scope = `${date}/${input.region}/${service}/aws4_request`;
    const stringToSign = `${ALGORITHM}\n${stamp}\n${scope}\n${createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')}`;
    const signature = createHmac('sha256', this.signingKey(date, input.region, service)).update(stringToSign, 'utf8').digest('hex');
    headers.authorization = `${ALGORITHM} Credential=${this.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return headers;
  }
}
