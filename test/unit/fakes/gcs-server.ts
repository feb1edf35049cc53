// A small Google Cloud Storage JSON API server for tests, written from Google's API reference
// (https://cloud.google.com/storage/docs/json_api/v1): buckets.get, objects.list (prefix,
// delimiter, maxResults, pageToken, fields), objects.get (metadata, and `alt=media` with Range and
// generation). Answers carry what GCS sends: sizes and generations as strings, md5Hash and crc32c
// in base64, x-goog-hash / x-goog-generation / x-goog-stored-content-* headers, and JSON errors
// {error: {code, message, errors: [{domain, reason, message}]}}. No emulator runs here, so this is
// the peer the GCS source is tested against; every request is recorded so tests can count them.
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeObject {
  data: Buffer;
  generation: string;
  metageneration: string;
  updated: string;
  contentType: string;
  contentEncoding?: string;
}

export interface RecordedRequest {
  method: string;
  kind: 'bucket' | 'list' | 'media' | 'metadata' | 'other';
  bucket?: string;
  object?: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
}

/** Decides an injected failure for a request: an HTTP status (with reason), or 'reset' to drop the socket. */
export type Fault = (req: RecordedRequest) => { status: number; reason: string; message?: string } | 'reset' | undefined;

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC32C (Castagnoli), as GCS reports it: the 4 bytes big-endian, base64. */
export function crc32cBase64(data: Buffer): string {
  let crc = 0xffffffff;
  for (const b of data) crc = CRC32C_TABLE[(crc ^ b) & 0xff] ^ (crc >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}

const md5Base64 = (data: Buffer) => createHash('md5').update(data).digest('base64');

/** UTF-8 byte order, which is how GCS sorts object names. */
function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * The `fields` partial-response syntax: `a,b(c,d),e/f`. Returns a filter for a JSON value; nested
 * selections apply to each element of arrays.
 */
export function fieldsFilter(spec: string): (v: unknown) => unknown {
  type Sel = Map<string, Sel | null>;
  let i = 0;
  const parse = (): Sel => {
    const sel: Sel = new Map();
    while (i < spec.length && spec[i] !== ')') {
      let name = '';
      while (i < spec.length && !',()'.includes(spec[i])) name += spec[i++];
      name = name.trim();
      let sub: Sel | null = null;
      if (spec[i] === '(') {
        i++;
        sub = parse();
        i++; // ')'
      }
      // a/b is shorthand for a(b)
      const parts = name.split('/');
      let leaf: Sel | null = sub;
      for (let k = parts.length - 1; k > 0; k--) leaf = new Map([[parts[k], leaf]]);
      if (parts[0]) sel.set(parts[0], leaf);
      if (spec[i] === ',') i++;
    }
    return sel;
  };
  const sel = parse();
  const apply = (v: unknown, s: Sel | null): unknown => {
    if (s === null || v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map((x) => apply(x, s));
    const out: Record<string, unknown> = {};
    for (const [k, sub] of s) if (k in (v as object)) out[k] = apply((v as Record<string, unknown>)[k], sub);
    return out;
  };
  return (v) => apply(v, sel);
}

export class FakeGcsServer {
  readonly buckets = new Map<string, Map<string, FakeObject>>();
  readonly requests: RecordedRequest[] = [];
  fault?: Fault;
  /** When set, every request without `Authorization: Bearer <token>` gets 401 (an invalid or expired credential). */
  requiredToken?: string;
  /** When set, every request gets 403 for this caller (a credential without storage permissions). */
  denyAs?: string;
  private server?: http.Server;
  private nextGeneration = 1_700_000_000_000_000;
  port = 0;

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Map());
  }

  /** Writes an object with a new generation, as an upload would. */
  put(bucket: string, name: string, data: Buffer | string, opts: { contentType?: string; contentEncoding?: string } = {}): FakeObject {
    this.createBucket(bucket);
    const obj: FakeObject = {
      data: Buffer.isBuffer(data) ? data : Buffer.from(data),
      generation: String(this.nextGeneration++),
      metageneration: '1',
      updated: new Date().toISOString(),
      contentType: opts.contentType ?? 'application/octet-stream',
      contentEncoding: opts.contentEncoding,
    };
    this.buckets.get(bucket)!.set(name, obj);
    return obj;
  }

  delete(bucket: string, name: string): void {
    this.buckets.get(bucket)?.delete(name);
  }

  count(kind: RecordedRequest['kind']): number {
    return this.requests.filter((r) => r.kind === kind).length;
  }

  private resource(bucket: string, name: string, o: FakeObject): Record<string, unknown> {
    const enc = encodeURIComponent(name);
    const r: Record<string, unknown> = {
      kind: 'storage#object',
      id: `${bucket}/${name}/${o.generation}`,
      selfLink: `${this.endpoint}/storage/v1/b/${bucket}/o/${enc}`,
      mediaLink: `${this.endpoint}/download/storage/v1/b/${bucket}/o/${enc}?generation=${o.generation}&alt=media`,
      name,
      bucket,
      generation: o.generation,
      metageneration: o.metageneration,
      contentType: o.contentType,
      storageClass: 'STANDARD',
      size: String(o.data.length),
      md5Hash: md5Base64(o.data),
      crc32c: crc32cBase64(o.data),
      etag: Buffer.from(o.generation).toString('base64'),
      timeCreated: o.updated,
      updated: o.updated,
      timeStorageClassUpdated: o.updated,
    };
    if (o.contentEncoding) r.contentEncoding = o.contentEncoding;
    return r;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    // Split the raw path so an encoded '/' inside an object name stays inside it.
    const raw = url.pathname.split('/').slice(1);
    const rec: RecordedRequest = { method: req.method ?? 'GET', kind: 'other', query, headers: req.headers };
    let route: 'bucket' | 'list' | 'object' | undefined;
    try {
      if (raw[0] === 'storage' && raw[1] === 'v1' && raw[2] === 'b' && raw[3]) {
        rec.bucket = decodeURIComponent(raw[3]);
        if (raw.length === 4) route = 'bucket';
        else if (raw[4] === 'o' && raw.length === 5) route = 'list';
        else if (raw[4] === 'o' && raw.length === 6 && raw[5]) {
          route = 'object';
          rec.object = decodeURIComponent(raw[5]);
        }
      }
    } catch {
      route = undefined; // malformed percent-encoding
    }
    rec.kind = route === 'bucket' ? 'bucket' : route === 'list' ? 'list' : route === 'object' ? (query.alt === 'media' ? 'media' : 'metadata') : 'other';
    this.requests.push(rec);
    req.resume();

    const fault = this.fault?.(rec);
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault) return this.error(res, fault.status, fault.reason, fault.message ?? fault.reason);
    if (this.requiredToken !== undefined && req.headers.authorization !== `Bearer ${this.requiredToken}`)
      return this.error(res, 401, 'required', 'Anonymous caller does not have storage.objects.list access to the Google Cloud Storage bucket. Permission \'storage.objects.list\' denied on resource (or it may not exist).', { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' });
    if (this.denyAs) return this.error(res, 403, 'forbidden', `${this.denyAs} does not have storage.objects.list access to the Google Cloud Storage bucket. Permission 'storage.objects.list' denied on resource (or it may not exist).`);
    if (req.method !== 'GET' || !route) return this.error(res, 404, 'notFound', 'Not Found');
    const objects = this.buckets.get(rec.bucket!);
    if (!objects) return this.error(res, 404, 'notFound', 'The specified bucket does not exist.');

    if (route === 'bucket') {
      return this.json(res, query.fields, { kind: 'storage#bucket', id: rec.bucket, name: rec.bucket, projectNumber: '123456789012', metageneration: '1', location: 'EUROPE-WEST1', storageClass: 'STANDARD', etag: 'CAE=', timeCreated: '2024-01-01T00:00:00.000Z', updated: '2024-01-01T00:00:00.000Z' });
    }
    if (route === 'list') return this.list(res, rec.bucket!, objects, query);

    const obj = objects.get(rec.object!);
    if (!obj || (query.generation && query.generation !== obj.generation)) return this.error(res, 404, 'notFound', `No such object: ${rec.bucket}/${rec.object}${query.generation ? `#${query.generation}` : ''}`);
    if (query.alt !== 'media') return this.json(res, query.fields, this.resource(rec.bucket!, rec.object!, obj));
    return this.media(req, res, obj);
  }

  private list(res: http.ServerResponse, bucket: string, objects: Map<string, FakeObject>, q: Record<string, string>): void {
    const prefix = q.prefix ?? '';
    const delimiter = q.delimiter;
    const max = Math.min(1000, Math.max(1, Number(q.maxResults) || 1000));
    let after: string | undefined;
    if (q.pageToken) {
      try {
        const t = JSON.parse(Buffer.from(q.pageToken, 'base64url').toString('utf8')) as { after: string; prefix: string };
        if (t.prefix !== prefix) throw new Error('prefix');
        after = t.after;
      } catch {
        return this.error(res, 400, 'invalid', 'Invalid page token.');
      }
    }
    const names = [...objects.keys()].filter((n) => n.startsWith(prefix) && (after === undefined || byteCompare(n, after) > 0)).sort(byteCompare);
    const items: Record<string, unknown>[] = [];
    const prefixes: string[] = [];
    let last: string | undefined;
    let more = false;
    for (const n of names) {
      if (items.length + prefixes.length >= max) {
        more = true;
        break;
      }
      if (delimiter) {
        const cut = n.indexOf(delimiter, prefix.length);
        if (cut >= 0) {
          const p = n.slice(0, cut + delimiter.length);
          if (prefixes[prefixes.length - 1] !== p) prefixes.push(p);
          last = n;
          continue;
        }
      }
      items.push(this.resource(bucket, n, objects.get(n)!));
      last = n;
    }
    const body: Record<string, unknown> = { kind: 'storage#objects' };
    if (more && last !== undefined) body.nextPageToken = Buffer.from(JSON.stringify({ after: last, prefix })).toString('base64url');
    if (prefixes.length) body.prefixes = prefixes;
    if (items.length) body.items = items;
    this.json(res, q.fields, body);
  }

  private media(req: http.IncomingMessage, res: http.ServerResponse, obj: FakeObject): void {
    const headers: http.OutgoingHttpHeaders = {
      'content-type': obj.contentType,
      'x-goog-generation': obj.generation,
      'x-goog-metageneration': obj.metageneration,
      'x-goog-stored-content-encoding': obj.contentEncoding ?? 'identity',
      'x-goog-stored-content-length': String(obj.data.length),
      'x-goog-hash': `crc32c=${crc32cBase64(obj.data)},md5=${md5Base64(obj.data)}`,
      'x-goog-storage-class': 'STANDARD',
      etag: Buffer.from(obj.generation).toString('base64'),
      'last-modified': new Date(obj.updated).toUTCString(),
      'accept-ranges': 'bytes',
    };
    if (obj.contentEncoding) headers['content-encoding'] = obj.contentEncoding;
    const range = req.headers.range;
    const size = obj.data.length;
    if (range) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range);
      let start = 0;
      let end = size - 1;
      if (m && m[1] === '' && m[2] !== '') {
        start = Math.max(0, size - Number(m[2]));
      } else if (m && m[1] !== '') {
        start = Number(m[1]);
        if (m[2] !== '') end = Math.min(size - 1, Number(m[2]));
      }
      if (!m || start >= size || start > end) {
        res.writeHead(416, { 'content-type': 'application/xml; charset=UTF-8', 'content-range': `bytes */${size}` });
        res.end("<?xml version='1.0' encoding='UTF-8'?><Error><Code>InvalidRange</Code><Message>The requested range cannot be satisfied.</Message></Error>");
        return;
      }
      // x-goog-hash stays: GCS sends the whole object's hashes, so a client must not check a part against them.
      res.writeHead(206, { ...headers, 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${size}` });
      res.end(obj.data.subarray(start, end + 1));
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': size });
    res.end(obj.data);
  }

  private json(res: http.ServerResponse, fields: string | undefined, body: unknown): void {
    const out = fields ? fieldsFilter(fields)(body) : body;
    const text = JSON.stringify(out);
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private error(res: http.ServerResponse, code: number, reason: string, message: string, extra: http.OutgoingHttpHeaders = {}): void {
    const text = JSON.stringify({ error: { code, message, errors: [{ message, domain: 'global', reason }] } });
    res.writeHead(code, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), ...extra });
    res.end(text);
  }
}
