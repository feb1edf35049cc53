// A lightweight in-memory S3 endpoint for benchmarks: it costs the client almost nothing, so the
// times measure the client. ListObjectsV2 and V1 (prefix, delimiter, max-keys, continuation
// token, marker, encoding-type=url), GetObject, HeadObject, HeadBucket, PutObject, ListBuckets.
// No authentication. Objects can be synthesised by count (content derived from the key), and
// requests are counted by kind.
//
//   node out/bench/mem-s3.js [PORT]          prints "PORT" on stdout when listening
//   GET  /__stats                             {"list":…,"get":…,"head":…,"put":…}
//   POST /__reset                             zero the counters
//   POST /__seed?bucket=B&prefix=P&count=N&size=S&labels=L   N objects P<label>/<i>.csv, S bytes each
//   POST /__clear?bucket=B                    drop a bucket's objects
//   POST /__latency?ms=M                      answer every S3 request M ms late (a bucket in
//                                             another region: one round trip per request)
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

interface Obj {
  body: Buffer;
  etag: string;
  mtime: string;
}

class Bucket {
  readonly objects = new Map<string, Obj>();
  private sorted: string[] | undefined;
  keys(): string[] {
    if (!this.sorted) this.sorted = [...this.objects.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    return this.sorted;
  }
  set(key: string, o: Obj): void {
    if (!this.objects.has(key)) this.sorted = undefined;
    this.objects.set(key, o);
  }
  clear(): void {
    this.objects.clear();
    this.sorted = undefined;
  }
}

const buckets = new Map<string, Bucket>();
const stats = { list: 0, get: 0, head: 0, put: 0, other: 0 };
const MTIME = new Date('2024-01-01T00:00:00Z').toISOString();
let latencyMs = 0;

function bucket(name: string, create = false): Bucket | undefined {
  let b = buckets.get(name);
  if (!b && create) buckets.set(name, (b = new Bucket()));
  return b;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const urlEncode = (s: string) => encodeURIComponent(s).replace(/%2F/g, '/');

function errorXml(res: http.ServerResponse, status: number, code: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** First index whose key sorts after `after` (byte order). */
function firstAfter(keys: string[], after: string): number {
  const target = Buffer.from(after);
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (Buffer.compare(Buffer.from(keys[mid]), target) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function list(res: http.ServerResponse, name: string, b: Bucket, q: URLSearchParams): void {
  stats.list++;
  const v2 = q.get('list-type') === '2';
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const max = Math.min(1000, Number(q.get('max-keys') ?? 1000) || 1000);
  const enc = q.get('encoding-type') === 'url';
  const e = (s: string) => xmlEscape(enc ? urlEncode(s) : s);
  const after = v2 ? (q.get('continuation-token') ? Buffer.from(q.get('continuation-token')!, 'base64url').toString() : (q.get('start-after') ?? '')) : (q.get('marker') ?? '');
  const keys = b.keys();
  let i = after ? firstAfter(keys, after) : prefix ? firstAfter(keys, prefix) - (b.objects.has(prefix) ? 1 : 0) : 0;
  const parts: string[] = [];
  const prefixes: string[] = [];
  let n = 0;
  let last = '';
  let truncated = false;
  for (; i < keys.length; i++) {
    const k = keys[i];
    if (!k.startsWith(prefix)) {
      if (k > prefix) break;
      continue;
    }
    if (n >= max) {
      truncated = true;
      break;
    }
    if (delimiter) {
      const d = k.indexOf(delimiter, prefix.length);
      if (d >= 0) {
        const cp = k.slice(0, d + delimiter.length);
        prefixes.push(`<CommonPrefixes><Prefix>${e(cp)}</Prefix></CommonPrefixes>`);
        n++;
        // Skip every key under this common prefix.
        while (i + 1 < keys.length && keys[i + 1].startsWith(cp)) i++;
        last = keys[i];
        continue;
      }
    }
    const o = b.objects.get(k)!;
    parts.push(`<Contents><Key>${e(k)}</Key><LastModified>${o.mtime}</LastModified><ETag>&quot;${o.etag}&quot;</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`);
    n++;
    last = k;
  }
  const head = `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xmlEscape(name)}</Name><Prefix>${e(prefix)}</Prefix>${delimiter ? `<Delimiter>${e(delimiter)}</Delimiter>` : ''}<MaxKeys>${max}</MaxKeys>${enc ? '<EncodingType>url</EncodingType>' : ''}<IsTruncated>${truncated}</IsTruncated>`;
  const next = truncated ? (v2 ? `<NextContinuationToken>${Buffer.from(last).toString('base64url')}</NextContinuationToken>` : `<NextMarker>${e(last)}</NextMarker>`) : '';
  const body = head + (v2 ? `<KeyCount>${n}</KeyCount>` : '') + next + parts.join('') + prefixes.join('') + '</ListBucketResult>';
  res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function synthesize(q: URLSearchParams): number {
  const b = bucket(q.get('bucket') ?? 'bench', true)!;
  const prefix = q.get('prefix') ?? '';
  const count = Number(q.get('count') ?? 0);
  const size = Number(q.get('size') ?? 4096);
  const labels = Math.max(1, Number(q.get('labels') ?? 10));
  for (let i = 0; i < count; i++) {
    const key = `${prefix}class${String(i % labels).padStart(2, '0')}/${String(i).padStart(7, '0')}.csv`;
    const body = Buffer.alloc(size, `${key},${i}\n`);
    b.set(key, { body, etag: createHash('md5').update(body).digest('hex'), mtime: MTIME });
  }
  return b.objects.size;
}

const server = http.createServer((req, res) => {
  const u = new URL(req.url ?? '/', 'http://mem');
  if (u.pathname.startsWith('/__')) {
    let out: unknown = {};
    if (u.pathname === '/__stats') out = stats;
    else if (u.pathname === '/__latency') out = { latencyMs: (latencyMs = Math.max(0, Number(u.searchParams.get('ms')) || 0)) };
    else if (u.pathname === '/__reset') for (const k of Object.keys(stats) as (keyof typeof stats)[]) stats[k] = 0;
    else if (u.pathname === '/__seed') out = { objects: synthesize(u.searchParams) };
    else if (u.pathname === '/__clear') bucket(u.searchParams.get('bucket') ?? '')?.clear();
    const body = JSON.stringify(out);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    return res.end(body);
  }
  if (latencyMs > 0) setTimeout(() => handle(req, res, u), latencyMs);
  else handle(req, res, u);
});

function handle(req: http.IncomingMessage, res: http.ServerResponse, u: URL) {
  const segs = u.pathname.split('/');
  const name = decodeURIComponent(segs[1] ?? '');
  const key = decodeURIComponent(segs.slice(2).join('/'));
  if (!name) {
    stats.other++;
    const body = `<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult><Owner><ID>bench</ID></Owner><Buckets>${[...buckets.keys()].map((b) => `<Bucket><Name>${xmlEscape(b)}</Name><CreationDate>${MTIME}</CreationDate></Bucket>`).join('')}</Buckets></ListAllMyBucketsResult>`;
    res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
    return res.end(body);
  }
  if (req.method === 'PUT') {
    stats.put++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const b = bucket(name, true)!;
      if (key) {
        const body = Buffer.concat(chunks);
        const etag = createHash('md5').update(body).digest('hex');
        b.set(key, { body, etag, mtime: new Date().toISOString() });
        res.writeHead(200, { etag: `"${etag}"`, 'content-length': 0 });
      } else res.writeHead(200, { 'content-length': 0 });
      res.end();
    });
    return;
  }
  const b = bucket(name);
  if (!b) {
    if (req.method === 'HEAD') stats.head++;
    return errorXml(res, 404, 'NoSuchBucket');
  }
  if (!key) {
    if (req.method === 'HEAD') {
      stats.head++;
      res.writeHead(200, { 'x-amz-bucket-region': 'us-east-1', 'content-length': 0 });
      return res.end();
    }
    if (u.searchParams.has('location')) {
      stats.other++;
      const body = '<?xml version="1.0" encoding="UTF-8"?><LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></LocationConstraint>';
      res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
      return res.end(body);
    }
    return list(res, name, b, u.searchParams);
  }
  const o = b.objects.get(key);
  if (req.method === 'HEAD') stats.head++;
  else stats.get++;
  if (!o) return errorXml(res, 404, 'NoSuchKey');
  const headers = { 'content-type': 'application/octet-stream', 'content-length': o.body.length, etag: `"${o.etag}"`, 'last-modified': new Date(o.mtime).toUTCString(), 'accept-ranges': 'bytes' };
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : o.body);
}
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
