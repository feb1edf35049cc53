// A small S3 client for what a sync needs (ListObjectsV2, GetObject, HeadBucket): SigV4 over
// node:http(s) with one keep-alive agent. Every response body is read or destroyed.
import * as http from 'node:http';
import type * as https from 'node:https';
import { withRetries, RetryableError } from '../../util/errors';
import type { CredentialChoice } from './credentials';
import { errorFromResponse, networkError, S3Error } from './errors';
import { canonicalQuery, encodeKeyPath, Signer, type Credentials } from './sigv4';
import { MalformedResponseError, parseErrorXml, parseListObjectsV2, type ListPage } from './xml';

const USER_AGENT = 'data-source-pipelines/0.1';
const ERROR_BODY_LIMIT = 64 * 1024;
const LIST_ATTEMPTS = 6;
// A connection that sends nothing for this long is dropped and the request retried (the AWS CLI's
// read timeout is 60 s too). SourceContext.idleTimeoutMs, else the DSP_S3_IDLE_TIMEOUT_MS environment
// variable (read per request: a user setting for a flaky link), overrides it.
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
const idleTimeoutFromEnv = () => (Number(process.env.DSP_S3_IDLE_TIMEOUT_MS) > 0 ? Number(process.env.DSP_S3_IDLE_TIMEOUT_MS) : DEFAULT_IDLE_TIMEOUT_MS);

export interface S3ClientOptions {
  /** Drop a connection that sends nothing for this long; unset: DSP_S3_IDLE_TIMEOUT_MS, else 60 s. */
  idleTimeoutMs?: number;
}

export interface S3Location {
  /** Custom endpoint URL; undefined for AWS. */
  endpoint?: string;
  bucket: string;
  region: string;
  pathStyle: boolean;
  requesterPays: boolean;
}

export interface RequestCounts {
  list: number;
  get: number;
  head: number;
  /** Requests repeated after a region redirect. */
  redirects: number;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
}

function awsHost(bucket: string, region: string, virtual: boolean): string {
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `${virtual ? bucket + '.' : ''}s3.${region}.${suffix}`;
}

export async function readBodyBytes(res: http.IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) {
      res.destroy();
      break;
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

export async function readBody(res: http.IncomingMessage, limit: number): Promise<string> {
  return (await readBodyBytes(res, limit)).toString('utf8');
}


export class S3Client {
  readonly counts: RequestCounts = { list: 0, get: 0, head: 0, redirects: 0 };
  /** The region the bucket answered from, when it differs from the configured one. */
  redirectedFrom?: string;
  private agent: http.Agent | undefined;
  private readonly secure: boolean;
  private readonly base?: URL;
  private signer?: { creds: Credentials; signer: Signer };
  /** Whether the endpoint has answered at all in this run (any status). */
  private answered = false;

  constructor(
    readonly loc: S3Location,
    private readonly creds: CredentialChoice,
    private readonly options: S3ClientOptions = {},
  ) {
    this.base = loc.endpoint ? new URL(loc.endpoint) : undefined;
    this.secure = this.base ? this.base.protocol === 'https:' : true;
  }

  /**
   * node:http, or node:https loaded with the first request to an https endpoint (TLS is about 5 ms
   * of a start that a plain-HTTP endpoint never needs), and the client's one keep-alive pool.
   */
  private async transport(): Promise<{ mod: typeof http | typeof https; agent: http.Agent }> {
    const mod = this.secure ? await import('node:https') : http;
    // No socket cap: the engine bounds requests in flight, and the pool keeps that many warm.
    this.agent ??= new mod.Agent({ keepAlive: true, keepAliveMsecs: 15_000, maxFreeSockets: 1024, scheduling: 'lifo' });
    return { mod, agent: this.agent };
  }

  get region(): string {
    return this.loc.region;
  }

  /** The idle timeout this client was given (unset: DSP_S3_IDLE_TIMEOUT_MS, else 60 s), for a client in another thread. */
  get idleTimeoutMs(): number | undefined {
    return this.options.idleTimeoutMs;
  }

  /** Human form of where requests go: the endpoint URL, or "AWS S3 (region)". */
  describeEndpoint(): string {
    return this.base ? this.base.origin + this.base.pathname.replace(/\/$/, '') : `AWS S3 (${this.loc.region})`;
  }

  private target(key: string | undefined): { host: string; hostname: string; port?: number; path: string } {
    const keyPath = key === undefined ? '' : encodeKeyPath(key);
    if (this.base) {
      const basePath = this.base.pathname.replace(/\/$/, '');
      if (this.loc.pathStyle) return { host: this.base.host, hostname: this.base.hostname, port: this.base.port ? Number(this.base.port) : undefined, path: `${basePath}/${encodeKeyPath(this.loc.bucket)}/${keyPath}` };
      return { host: `${this.loc.bucket}.${this.base.host}`, hostname: `${this.loc.bucket}.${this.base.hostname}`, port: this.base.port ? Number(this.base.port) : undefined, path: `${basePath}/${keyPath}` };
    }
    // Bucket names with dots break the wildcard certificate of virtual-hosted URLs.
    const virtual = !this.loc.pathStyle && !this.loc.bucket.includes('.');
    const host = awsHost(this.loc.bucket, this.loc.region, virtual);
    return { host, hostname: host, path: virtual ? `/${keyPath}` : `/${encodeKeyPath(this.loc.bucket)}/${keyPath}` };
  }

  private async signerFor(): Promise<Signer | undefined> {
    const c = await this.creds.get();
    if (!c) return undefined;
    if (this.signer?.creds !== c) this.signer = { creds: c, signer: new Signer(c) };
    return this.signer.signer;
  }

  /** One request, no retries, no redirects. The caller owns the body. */
  async send(method: 'GET' | 'HEAD', key: string | undefined, query: Record<string, string>, extra: Record<string, string>, what: string, signal?: AbortSignal): Promise<RawResponse> {
    const t = this.target(key);
    const qs = canonicalQuery(query);
    const signer = await this.signerFor();
    const headers: Record<string, string> = { ...extra };
    if (this.loc.requesterPays) headers['x-amz-request-payer'] = 'requester';
    const signed = signer ? signer.sign({ method, host: t.host, path: t.path, query: qs, headers, region: this.loc.region }) : { host: t.host, ...headers };
    signed['user-agent'] = USER_AGENT;
    const { mod, agent } = await this.transport();
    return new Promise<RawResponse>((resolve, reject) => {
      const req = mod.request({ method, agent, hostname: t.hostname, port: t.port, path: qs ? `${t.path}?${qs}` : t.path, headers: signed, signal });
      const idle = this.options.idleTimeoutMs && this.options.idleTimeoutMs > 0 ? this.options.idleTimeoutMs : idleTimeoutFromEnv();
      req.setTimeout(idle, () => req.destroy(new RetryableError(`${what}: the connection sent nothing for ${idle / 1000} s (stalled); retrying`, false, 'ETIMEDOUT')));
      req.on('error', (err) => reject(networkError(err as NodeJS.ErrnoException, what)));
      req.once('response', (res) => {
        this.answered = true;
        // A body that ends early arrives as an error on the response stream; keep its code.
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
      });
      req.end();
    });
  }

  /** Reads an error answer and turns it into an error; follows nothing. */
  private async failure(res: RawResponse, what: string): Promise<{ err: Error; region?: string }> {
    let body = '';
    if (res.body.readable) {
      try {
        body = await readBody(res.body, ERROR_BODY_LIMIT);
      } catch {
        /* the error code is in the status anyway */
      }
    }
    const parsed = parseErrorXml(body);
    const hdrRegion = res.headers['x-amz-bucket-region'];
    const region = (Array.isArray(hdrRegion) ? hdrRegion[0] : hdrRegion) || parsed.region;
    return { err: errorFromResponse({ status: res.status, code: parsed.code, message: parsed.message, what }), region };
  }

  /**
   * A request that follows S3's region redirect once (301 PermanentRedirect, 307, 400
   * AuthorizationHeaderMalformed/IllegalLocationConstraint naming another region) and throws
   * mapped errors for any non-2xx answer.
   */
  async request(method: 'GET' | 'HEAD', key: string | undefined, query: Record<string, string>, extra: Record<string, string>, what: string, signal?: AbortSignal): Promise<RawResponse> {
    for (let hop = 0; ; hop++) {
      const res = await this.send(method, key, query, extra, what, signal);
      if (res.status >= 200 && res.status < 300) return res;
      if (res.status === 304 || res.status === 412) {
        res.body.resume();
        throw errorFromResponse({ status: 412, code: 'PreconditionFailed', what });
      }
      const { err, region } = await this.failure(res, what);
      const redirectable = res.status === 301 || res.status === 307 || (res.status === 400 && /AuthorizationHeaderMalformed|IllegalLocationConstraint/.test((err as S3Error).code ?? ''));
      if (hop === 0 && redirectable && region && region !== this.loc.region) {
        this.redirectedFrom ??= this.loc.region;
        this.loc.region = region;
        this.counts.redirects++;
        continue;
      }
      if (redirectable && res.status === 301) throw new S3Error(`${what}: the bucket is in another region${region ? ` (${region})` : ''}; set "region"${region ? `: "${region}"` : ''} on the step. [HTTP 301 ${(err as S3Error).code ?? ''}]`, 'PermanentRedirect', 301);
      throw err;
    }
  }

  /** One page of ListObjectsV2 with URL-encoded keys; retried on resets, 5xx and throttling. */
  async listPage(prefix: string, opts: { token?: string; maxKeys?: number; delimiter?: string; startAfter?: string; attempts?: number }, signal?: AbortSignal): Promise<ListPage> {
    const query: Record<string, string> = { 'list-type': '2', 'encoding-type': 'url', prefix };
    if (opts.token) query['continuation-token'] = opts.token;
    if (opts.maxKeys) query['max-keys'] = String(opts.maxKeys);
    if (opts.delimiter) query.delimiter = opts.delimiter;
    if (opts.startAfter) query['start-after'] = opts.startAfter;
    const what = `listing s3://${this.loc.bucket}/${prefix}`;
    let attempt = 0;
    return withRetries(opts.attempts ?? LIST_ATTEMPTS, signal, async () => {
      this.counts.list++;
      attempt++;
      let res: RawResponse;
      try {
        res = await this.request('GET', undefined, query, {}, what, signal);
      } catch (err) {
        // An endpoint that has never answered and refuses the connection is dead, not busy: one
        // retry (a server starting up), then fail fast instead of backing off for seconds.
        const code = (err as { code?: string }).code;
        if (!this.answered && attempt >= 2 && (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH')) {
          throw Object.assign(new S3Error(`${(err as Error).message}. Nothing answers at this endpoint: check "endpoint" (and the port) and that the server is running.`, code), { final: true });
        }
        throw err;
      }
      const xml = await readBodyBytes(res.body, 256 * 1024 * 1024);
      const len = Number(res.headers['content-length']);
      if (Number.isFinite(len) && xml.length !== len) throw new RetryableError(`${what}: short listing (${xml.length} of ${len} bytes)`);
      try {
        return parseListObjectsV2(xml);
      } catch (err) {
        if (err instanceof MalformedResponseError) throw new RetryableError(`${what}: ${err.message}`);
        throw err;
      }
    });
  }

  async getObject(key: string, etag: string | undefined, signal?: AbortSignal): Promise<http.IncomingMessage> {
    this.counts.get++;
    const extra: Record<string, string> = {};
    if (etag) extra['if-match'] = `"${etag}"`;
    const res = await this.request('GET', key, {}, extra, `downloading s3://${this.loc.bucket}/${key}`, signal);
    return res.body;
  }

  close(): void {
    this.agent?.destroy();
  }
}

