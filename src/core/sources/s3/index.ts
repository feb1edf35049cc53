// s3-to-project: AWS S3 and any S3-compatible endpoint (MinIO, Ceph RGW, R2, B2, Wasabi, Scaleway,
// GCS's XML API with HMAC keys). Listing and downloads go through a small SigV4 client over
// node:http(s) (src/core/sources/s3/client.ts); the AWS SDK loads only to find ambient credentials.
// Importing this module loads no SDK.
import type { S3Block } from '../../pipeline/model';
import { resolveValue } from '../../pipeline/refs';
import { setMaxListeners } from 'node:events';
import { availableParallelism } from 'node:os';
import type { FetchedFile, Source, SourceExplanation, SourceObject, VerifyFile, VerifyResult } from '../../types';
import type { FetchPool } from './fetchPool';
import { errorMessage } from '../../util/errors';
import type { SourceContext } from '../index';
import { checkEndpoint, collectSampleFiles, errorKind, isTlsFailure } from '../common';
import { S3Client, type RequestCounts } from './client';
import { chooseCredentials, type CredentialChoice } from './credentials';
import { S3Error } from './errors';
import type { ListedObject, ListPage } from './xml';
import { parseBucketPath, type BucketPath } from '../location';

/** Transfers in flight to begin with, and how far they may grow while throughput grows (AIMD,
 * src/core/run/transfer/queue.ts); chosen from measurements (BENCHMARKS.md, "S3 sync"). */
export const S3_DEFAULT_CONCURRENCY = 32;
export const S3_MAX_CONCURRENCY = 512;
/** Listing in parallel (S3Source.parts): at most this many folders at one level are listed apart, */
const FANOUT_MAX = 64;
/** a level with fewer folders than this is looked into one level deeper (training/ and testing/ hold the labels), */
const FANOUT_DESCEND = 8;
const FANOUT_DEPTH = 1;
/** and this many parts are listed at once. */
const FANOUT_STREAMS = 16;

type ListPart = { objects: ListedObject[] } | { prefix: string };

/** Listings started from the last run's plan before the first round trip says which are needed: at most this many. */
const SPECULATE_MAX = FANOUT_STREAMS;

/** Below this many transfers the workers' start (about 30 ms) costs more than they save. */
const WORKERS_FROM = 500;

/**
 * Fetch threads for `count` transfers: DSP_FETCH_WORKERS pins the number (0: none); otherwise one
 * per core but the main thread's (at most 4) when there are at least WORKERS_FROM transfers. On 2
 * cores one worker was fastest: 10,000 × 4 KiB in 1.3 s instead of 1.7 s, two workers 1.4 s.
 */
export function fetchThreads(count: number, env: NodeJS.ProcessEnv = process.env): number {
  const pinned = env.DSP_FETCH_WORKERS;
  if (pinned !== undefined && pinned !== '' && Number.isInteger(Number(pinned))) return Math.max(0, Math.min(16, Number(pinned)));
  const cores = availableParallelism();
  return count >= WORKERS_FROM && cores > 1 ? Math.min(4, cores - 1) : 0;
}

/** verify answers a person waiting: one quick retry (a stale keep-alive socket), no long backoff. */
const VERIFY_ATTEMPTS = 2;

export type S3Path = BucketPath;

export function parseS3Path(p: string): S3Path {
  return parseBucketPath(p, 's3', 'an S3');
}

export class S3Source implements Source {
  readonly kind = 's3';
  readonly id: string;
  readonly defaultConcurrency = S3_DEFAULT_CONCURRENCY;
  readonly maxConcurrency = S3_MAX_CONCURRENCY;
  private pool: FetchPool | undefined;

  constructor(
    readonly client: S3Client,
    readonly location: S3Path,
    private readonly creds: CredentialChoice,
    /** Page size for listings (S3's maximum is 1000; smaller only for tests). */
    private readonly pageSize: number | undefined,
    private readonly secretRef: string | undefined,
    private readonly hint?: (sourceId: string) => string[] | undefined,
  ) {
    const where = client.loc.endpoint ? client.loc.endpoint.replace(/\/+$/, '') : 'aws';
    this.id = `s3:${where}/${location.bucket}/${location.prefix}`;
  }

  /** Requests made so far, by kind (tests and benchmarks count on it). */
  get counts(): RequestCounts {
    return this.client.counts;
  }

  private url(): string {
    return `s3://${this.location.bucket}/${this.location.prefix}`;
  }

  /** Every page of one listing (flat, or one level with a delimiter), the next requested while this one is handed out. */
  private async *pages(prefix: string, delimiter: string | undefined, signal?: AbortSignal): AsyncIterable<ListPage> {
    let token: string | undefined;
    let lastKey: string | undefined;
    const opts = { maxKeys: this.pageSize, delimiter };
    let pending: Promise<ListPage> | undefined = this.client.listPage(prefix, opts, signal);
    while (pending) {
      const page = await pending;
      pending = undefined;
      // Where the page ends (for stores that give no token): its last key or folder, whichever sorts last.
      const lastObject = page.objects.length ? page.objects[page.objects.length - 1].key : undefined;
      const lastFolder = page.prefixes.length ? page.prefixes[page.prefixes.length - 1] : undefined;
      const last = lastObject === undefined ? (lastFolder ?? lastKey) : lastFolder === undefined || lastObject > lastFolder ? lastObject : lastFolder;
      if (page.truncated) {
        if (page.nextToken) {
          if (page.nextToken === token) throw new Error(`listing ${this.url()}: the server repeated a continuation token; stopping to avoid an endless listing.`);
          token = page.nextToken;
          pending = this.client.listPage(prefix, { ...opts, token }, signal);
        } else if (last !== undefined && last !== lastKey) {
          pending = this.client.listPage(prefix, { ...opts, startAfter: last }, signal);
        } else throw new Error(`listing ${this.url()}: the server said there is more but gave no way to continue.`);
        pending.catch(() => undefined); // awaited above; this only keeps an abandoned listing quiet
      }
      lastKey = last;
      yield page;
    }
  }

  /**
   * Listings requested ahead, by kind and prefix: a part the last run's plan named is requested at
   * the start (speculate), and handed over (and let go of: a part's objects are not held past their
   * turn) when the cut into parts reaches it. One the listing no longer has is a request spent.
   */
  private ahead = new Map<string, Promise<ListPart[] | ListedObject[]>>();
  /** The parts of the last list(), for the next (listingPlan). */
  private plan: string[] = [];

  private levelOf(prefix: string, depth: number, signal?: AbortSignal, speculative = false): Promise<ListPart[]> {
    return this.take(`level:${prefix}`, () => this.parts(prefix, depth, signal), speculative) as Promise<ListPart[]>;
  }

  private flatOf(prefix: string, signal?: AbortSignal, speculative = false): Promise<ListedObject[]> {
    const list = async () => {
      const got: ListedObject[] = [];
      for await (const page of this.pages(prefix, undefined, signal)) for (const o of page.objects) got.push(o);
      return got;
    };
    return this.take(`flat:${prefix}`, list, speculative) as Promise<ListedObject[]>;
  }

  /** The listing requested ahead for `id` (removed from those kept), or a new one; `speculative`: keep it for later. */
  private take(id: string, start: () => Promise<ListPart[] | ListedObject[]>, speculative: boolean): Promise<ListPart[] | ListedObject[]> {
    const known = this.ahead.get(id);
    if (known && !speculative) this.ahead.delete(id);
    if (known) return known;
    const p = start();
    p.catch(() => undefined); // awaited where it is used; an unused (speculative) one stays quiet
    if (speculative) this.ahead.set(id, p);
    return p;
  }

  listingPlan(): string[] | undefined {
    return this.plan.length ? this.plan : undefined;
  }

  /**
   * The listing, cut into parts that can be listed at once: one level with a delimiter shows the
   * folders, and each folder (or each subfolder, when there are few) is then listed flat, in
   * parallel. A listing is a chain of pages (each needs the previous one's token), so a bucket
   * 20 ms away lists 100,000 keys in 100 round trips flat, and in about 12 this way. Parts keep the
   * byte order of a flat listing. Many folders (over FANOUT_MAX) are listed flat as one part.
   */
  private async parts(prefix: string, depth: number, signal?: AbortSignal): Promise<ListPart[]> {
    const objects: ListedObject[] = [];
    const folders: string[] = [];
    for await (const page of this.pages(prefix, '/', signal)) {
      objects.push(...page.objects);
      folders.push(...page.prefixes);
      if (folders.length > FANOUT_MAX) return [{ prefix }];
    }
    if (!folders.length) return objects.length ? [{ objects }] : [];
    const deeper = depth < FANOUT_DEPTH && folders.length < FANOUT_DESCEND;
    if (deeper) this.plan.push(...folders.map((f) => `level:${f}`));
    const under = await Promise.all(folders.map((f) => (deeper ? this.levelOf(f, depth + 1, signal) : Promise.resolve([{ prefix: f }] as ListPart[]))));
    // Merge the level's own objects and its folders in byte order (S3's order).
    const out: ListPart[] = [];
    let i = 0;
    for (let f = 0; f < folders.length; f++) {
      const cut = Buffer.from(folders[f]);
      const before: ListedObject[] = [];
      while (i < objects.length && Buffer.compare(Buffer.from(objects[i].key), cut) < 0) before.push(objects[i++]);
      if (before.length) out.push({ objects: before });
      out.push(...under[f]);
    }
    if (i < objects.length) out.push({ objects: objects.slice(i) });
    return out;
  }

  /** The last run's parts under this prefix, requested now, before the first level says which exist. */
  private speculate(prefix: string, signal?: AbortSignal): void {
    const planned = (this.hint?.(this.id) ?? []).filter((p) => typeof p === 'string').slice(0, SPECULATE_MAX);
    for (const p of planned) {
      const [kind, at] = [p.slice(0, p.indexOf(':')), p.slice(p.indexOf(':') + 1)];
      if (!at.startsWith(prefix) || at === prefix) continue;
      if (kind === 'level') void this.levelOf(at, 1, signal, true);
      else if (kind === 'flat') void this.flatOf(at, signal, true);
    }
  }

  async *list(outer?: AbortSignal): AsyncIterable<SourceObject> {
    // One signal for the listing's requests (tens at once, each listening): ended with the listing,
    // which also cancels a speculative request the listing did not need.
    const own = new AbortController();
    setMaxListeners(0, own.signal);
    const onAbort = () => own.abort(outer?.reason);
    outer?.addEventListener('abort', onAbort, { once: true });
    try {
      yield* this.listParts(own.signal);
    } finally {
      outer?.removeEventListener('abort', onAbort);
      own.abort();
      this.ahead = new Map();
    }
  }

  private async *listParts(signal: AbortSignal): AsyncIterable<SourceObject> {
    const { prefix } = this.location;
    [this.ahead, this.plan] = [new Map(), []];
    const level = this.parts(prefix, 0, signal); // requested first: it says which parts exist
    this.speculate(prefix, signal);
    const parts = await level;
    // Flat parts are listed FANOUT_STREAMS at a time, handed out in order as each is done.
    const flat = parts.map(() => undefined as Promise<ListedObject[]> | undefined);
    let started = 0;
    const startMore = (upTo: number) => {
      for (; started < parts.length && started < upTo; started++) {
        const part = parts[started];
        if (!('prefix' in part)) continue;
        if (this.plan.length < SPECULATE_MAX * 4) this.plan.push(`flat:${part.prefix}`);
        flat[started] = this.flatOf(part.prefix, signal);
      }
    };
    for (let p = 0; p < parts.length; p++) {
      startMore(p + FANOUT_STREAMS);
      const part = parts[p];
      const objects = 'objects' in part ? part.objects : await flat[p]!;
      flat[p] = undefined;
      for (const o of objects) {
        if (!o.key.startsWith(prefix)) continue;
        // No lastModified (nothing reads it) and the MD5 the same string as the version when it is one:
        // at a million keys each field kept per object is tens of megabytes.
        yield { key: o.key, rel: o.key.slice(prefix.length), size: o.size, version: o.etag, md5: md5OfEtag(o.etag) };
      }
    }
  }

  async open(obj: SourceObject, signal?: AbortSignal): Promise<NodeJS.ReadableStream> {
    return this.client.getObject(obj.key, obj.version || undefined, signal);
  }

  /** Many transfers: fetched on worker threads (fetchPool.ts), when the machine has a core to spare. */
  async prepareTransfers(count: number, tmpBase: string): Promise<string | undefined> {
    const threads = fetchThreads(count);
    if (!threads) return undefined;
    const { FetchPool } = await import('./fetchPool');
    this.pool ??= new FetchPool(threads, { loc: { ...this.client.loc }, idleTimeoutMs: this.client.idleTimeoutMs, tmpBase }, () => this.creds.get());
    return `fetching on ${this.pool.threads} worker thread(s)`;
  }

  fetchToFile(obj: SourceObject, signal: AbortSignal): Promise<FetchedFile> | undefined {
    if (!this.pool?.usable) return undefined;
    this.client.counts.get++;
    return this.pool.fetch(obj, signal);
  }

  async verify(signal?: AbortSignal): Promise<VerifyResult> {
    const { bucket, prefix } = this.location;
    const base = () => ({ credentialSource: this.creds.describe(), sampleFiles: [] as VerifyFile[] });
    try {
      await this.creds.get();
    } catch (err) {
      return { ...base(), ok: false, code: (err as { code?: string }).code ?? 'CredentialsProviderError', detail: errorMessage(err), kind: 'auth' };
    }
    try {
      const page = await this.client.listPage(prefix, { maxKeys: Math.min(this.pageSize ?? 100, 100), attempts: VERIFY_ATTEMPTS }, signal);
      const sampleFiles = await collectSampleFiles(page.objects, (o) => o.key.slice(prefix.length), (o) => o.size);
      const notes: string[] = [];
      if (this.client.redirectedFrom) notes.push(`The bucket is in region ${this.client.region}, not ${this.client.redirectedFrom}: set "region": "${this.client.region}" on the step to save a redirect.`);
      if (this.creds.anonymous()) notes.push('No credentials were found, so requests are anonymous; that works because the bucket allows public listing.');
      let detail: string;
      if (page.objects.length) {
        detail = `Listed ${this.url()} at ${this.client.describeEndpoint()}: ${page.truncated ? `more than ${page.objects.length}` : page.objects.length} object(s).`;
      } else {
        detail = `Bucket ${bucket} is reachable, but nothing is under ${prefix ? `prefix "${prefix}"` : 'it'}.`;
        if (prefix) {
          const hint = await this.siblingFolders(signal).catch(() => [] as string[]);
          detail += hint.length ? ` Folders next to it: ${hint.slice(0, 10).join(', ')}${hint.length > 10 ? ', …' : ''}. Check the path.` : ' Check the path.';
        }
      }
      return { ...base(), ok: true, detail: [detail, ...notes].join(' '), sampleFiles };
    } catch (err) {
      if (signal?.aborted) throw err;
      return { ...base(), ok: false, ...this.explain(err) };
    }
  }

  /** Folders at the level of the step's prefix, to suggest when the prefix is empty. */
  private async siblingFolders(signal?: AbortSignal): Promise<string[]> {
    const trimmed = this.location.prefix.replace(/\/$/, '');
    const parent = trimmed.includes('/') ? trimmed.slice(0, trimmed.lastIndexOf('/') + 1) : '';
    const page = await this.client.listPage(parent, { delimiter: '/', maxKeys: 50, attempts: VERIFY_ATTEMPTS }, signal);
    return page.prefixes.map((p) => `"${p}"`);
  }

  /** A failure -> what went wrong and what to do, with the storage's own code. Never a secret. */
  explain(err: unknown): SourceExplanation {
    const c = (err as { code?: unknown } | undefined)?.code;
    const code = typeof c === 'string' && c ? c : err instanceof Error ? err.name : 'Error';
    return { ...this.describeFailure(err, code), kind: errorKind(err, code) };
  }

  private describeFailure(err: unknown, code: string): { code: string; detail: string } {
    const e = (err ?? {}) as { code?: string; message?: string };
    const { bucket } = this.location;
    const at = this.client.describeEndpoint();
    const from = this.creds.describe();
    const host = this.client.loc.endpoint ? new URL(this.client.loc.endpoint).host : 'the AWS S3 endpoint';
    switch (code) {
      case 'InvalidAccessKeyId':
        return { code, detail: `${at} does not know the access key (credentials: ${from}). Check accessKey, and that the endpoint is the service the keys belong to.` };
      case 'SignatureDoesNotMatch':
        return { code, detail: `The secret key does not match the access key (credentials: ${from}). Check the secret${this.secretRef ? ` ${this.secretRef}` : ''} for typos or stray whitespace.` };
      case 'NoSuchBucket':
        return { code, detail: `Bucket "${bucket}" does not exist at ${at}. Check the bucket name in path${this.client.loc.endpoint ? ' and the endpoint' : ''}.` };
      case 'AccessDenied':
      case 'AllAccessDisabled':
        if (this.creds.anonymous()) return { code, detail: `No AWS credentials were found, and bucket "${bucket}" does not allow anonymous listing. Set accessKey and secretKey (\${secret:NAME}), or profile, or configure the AWS CLI (aws configure, aws sso login).` };
        return { code, detail: `Access denied: the credentials (${from}) work, but may not list ${this.url()}. Grant s3:ListBucket on arn:aws:s3:::${bucket} and s3:GetObject on arn:aws:s3:::${bucket}/${this.location.prefix}*, or use other credentials.` };
      case 'PermanentRedirect':
      case 'AuthorizationHeaderMalformed':
      case 'IllegalLocationConstraintException':
        return { code, detail: `Bucket "${bucket}" is in another region than ${this.client.region}. Set "region" on the step to the bucket's region. (${e.message ?? code})` };
      case 'ExpiredToken':
      case 'TokenRefreshRequired':
      case 'InvalidToken':
        return { code, detail: `The session token is expired or invalid (credentials: ${from}). Refresh the credentials (aws sso login, or new keys).` };
      case 'RequestTimeTooSkewed':
        return { code, detail: `This machine's clock differs from the server's by more than 15 minutes; S3 rejects the signature. Fix the clock.` };
      case 'InvalidBucketName':
        return { code, detail: `"${bucket}" is not a valid bucket name. Check path.` };
      case 'ECONNREFUSED':
        return { code, detail: `Nothing answers at ${at} (connection refused). Is the server running, and are the host and port in the endpoint right?` };
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return { code, detail: `The host ${host} was not found (DNS). Check the endpoint URL${this.client.loc.endpoint ? '' : ` and the region "${this.client.region}" (for an S3-compatible service, set endpoint)`}, and the network or VPN.` };
      case 'ETIMEDOUT':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return { code, detail: `${at} cannot be reached (${code}). Check the endpoint URL, the network, a proxy or firewall.` };
      case 'ECONNRESET':
      case 'EPIPE':
        return { code, detail: `${at} closed the connection (${code}). If the server speaks TLS, the endpoint must start with https://; otherwise check a proxy or firewall.` };
      case 'ERR_SSL_WRONG_VERSION_NUMBER':
      case 'ERR_SSL_PACKET_LENGTH_TOO_LONG':
      case 'EPROTO':
        return { code, detail: `TLS handshake with ${host} failed (${code}): the server does not speak TLS on this port. If it is plain HTTP, write the endpoint as http://.` };
      case 'ERR_TLS_CERT_ALTNAME_INVALID':
        return { code, detail: `TLS problem: the certificate of ${host} is for another host name (${code}). Check the endpoint${this.client.loc.pathStyle ? '' : '; for bucket names with dots set "forcePathStyle": true'}.` };
      default:
        if (isTlsFailure(code))
          return { code, detail: `TLS problem: the certificate of ${host} is not trusted (${code}). For a private certificate authority, run with NODE_EXTRA_CA_CERTS=/path/to/ca.pem; also check the host name and this machine's clock.` };
        if (code.startsWith('HPE_')) return { code, detail: `${at} did not answer with valid HTTP (${code}). If it is an HTTPS server, the endpoint must start with https://.` };
        if (err instanceof S3Error) return { code, detail: `${e.message}` };
        return { code, detail: `Checking ${this.url()} at ${at} failed: ${errorMessage(err)}` };
    }
  }

  async close(): Promise<void> {
    this.client.close();
    await this.pool?.close();
    this.pool = undefined;
  }
}

export async function createS3Source(block: S3Block, ctx: SourceContext): Promise<Source> {
  const where = `step "${ctx.step}"`;
  const location = parseS3Path(block.path);
  const endpointRaw = (await resolveValue(block.endpoint || undefined, ctx.resolver, `${where} endpoint`))?.trim();
  const endpoint = endpointRaw
    ? checkEndpoint(endpointRaw, { where, field: 'endpoint', examples: 'https://s3.fr-par.scw.cloud or http://127.0.0.1:9000', noUserInfo: 'the endpoint URL must not hold a user name or password; use accessKey and secretKey.' }).url
    : undefined;
  const env = ctx.resolver.env;
  const region = (await resolveValue(block.region || undefined, ctx.resolver, `${where} region`)) || env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  const creds = await chooseCredentials(block, ctx.resolver, ctx.step);
  // ctx.pageSize for tests in this process; DSP_S3_PAGE_SIZE for tests that start the CLI (the reliability suite).
  const pageSize = ctx.pageSize ?? (Number(env.DSP_S3_PAGE_SIZE) || undefined);
  const client = new S3Client({ endpoint, bucket: location.bucket, region, pathStyle: block.forcePathStyle ?? !!endpoint, requesterPays: !!block.requesterPays }, creds, { idleTimeoutMs: ctx.idleTimeoutMs });
  return new S3Source(client, location, creds, pageSize, block.secretKey && /^\$\{/.test(block.secretKey) ? block.secretKey : undefined, ctx.listingHint);
}

const MD5_HEX = /^[0-9a-f]{32}$/;

/** A single-part upload's ETag is the MD5 of its bytes (32 hex digits); a multipart ETag ("…-N") is not. */
export function md5OfEtag(etag: string): string | undefined {
  if (MD5_HEX.test(etag)) return etag; // the usual case: no copy
  const v = etag.replace(/"/g, '').toLowerCase();
  return /^[0-9a-f]{32}$/.test(v) ? v : undefined;
}
