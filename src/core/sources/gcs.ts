// gcs-to-project: Google Cloud Storage over its JSON API with @google-cloud/storage, which loads on
// first use (importing this module loads no SDK). The SDK's own retries are off: the engine retries
// downloads (and slows down when throttled), and listing pages are retried here with short backoff.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import type { GcsBlock } from '../pipeline/model';
import { parseRef, resolveValue } from '../pipeline/refs';
import type { Source, SourceExplanation, SourceObject, VerifyFile, VerifyResult } from '../types';
import { withRetries, errorMessage, RetryableError, RETRYABLE_NETWORK_CODES, sanitizeServerText, UserError } from '../util/errors';
import type { SourceContext } from './index';
import type { Storage, Bucket } from '@google-cloud/storage';
import { parseBucketPath, type BucketPath } from './location';
import { SourceError as GcsError } from './errors';
import { checkEndpoint, collectSampleFiles, errorKind, isLoopbackHttp, isTlsFailure } from './common';

export const GCS_DEFAULT_CONCURRENCY = 16;
/** GCS's largest page. */
const MAX_PAGE = 1000;
const LIST_ATTEMPTS = 5;
const LIST_FIELDS = 'items(name,size,generation,updated,contentEncoding,md5Hash),nextPageToken';

export type GcsPath = BucketPath;

export function parseGcsPath(p: string): GcsPath {
  return parseBucketPath(p, 'gs', 'a Google Cloud Storage');
}

/** This store's failures are the one SourceError (the name is kept for the code that throws it). */
export { SourceError as GcsError } from './errors';

const THROTTLE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'backendError', 'slowDown']);

/** GCS's own status, reason and message from an SDK error (stream errors carry the raw JSON body as message). */
function parts(err: unknown): { status?: number; reason?: string; message: string; net?: string } {
  const e = err as { code?: unknown; errors?: { reason?: string; message?: string }[]; message?: string; response?: { status?: number; data?: { error?: string; error_description?: string } } };
  let message = e?.message ?? String(err);
  let reason = e?.errors?.[0]?.reason;
  let status = typeof e?.code === 'number' ? e.code : undefined;
  if (message.startsWith('{')) {
    try {
      const body = JSON.parse(message) as { error?: { code?: number; message?: string; errors?: { reason?: string }[] } };
      if (body.error) {
        message = body.error.message ?? message;
        reason ??= body.error.errors?.[0]?.reason;
        status ??= body.error.code;
      }
    } catch {
      /* not JSON after all */
    }
  }
  message = sanitizeServerText(message);
  // google-auth-library (token endpoint) answers: invalid_grant, unauthorized_client, ...
  const oauth = e?.response?.data?.error;
  if (typeof oauth === 'string') {
    reason ??= oauth;
    status ??= e.response?.status;
    if (e.response?.data?.error_description) message = `${oauth}: ${e.response.data.error_description}`;
  }
  if (/Could not load the default credentials/.test(message)) reason ??= 'NoCredentials';
  const net = typeof e?.code === 'string' ? e.code : undefined;
  return { status, reason, message: message.replace(/\s+/g, ' ').slice(0, 300), net };
}

/** Maps an SDK error: RetryableError for throttling, 5xx and network resets; GcsError otherwise. */
export function gcsError(err: unknown, what: string): Error {
  if (err instanceof RetryableError || err instanceof GcsError || (err as Error)?.name === 'AbortError') return err as Error;
  const p = parts(err);
  if (p.net === 'CONTENT_DOWNLOAD_MISMATCH') return new RetryableError(`${what}: the content did not match GCS's checksum`, false, p.net);
  if (p.net && RETRYABLE_NETWORK_CODES.has(p.net)) return new RetryableError(`${what}: ${p.message} (${p.net})`, false, p.net);
  const code = p.reason ?? p.net ?? (p.status ? `HTTP${p.status}` : 'Error');
  const text = `${what}: ${p.message}${p.status ? ` [HTTP ${p.status}${p.reason ? ` ${p.reason}` : ''}]` : ''}`;
  if (p.status === 429 || p.status === 503 || (p.reason && THROTTLE_REASONS.has(p.reason))) return new RetryableError(`${text}; slowing down`, true, code);
  if (p.status && (p.status >= 500 || p.status === 408)) return new RetryableError(text, false, code);
  return new GcsError(text, code, p.status);
}

/** Settles with the promise, or rejects as soon as the signal aborts (the request itself finishes unobserved). */
function raceAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

interface ListedItem {
  name: string;
  size?: string;
  generation?: string;
  updated?: string;
  contentEncoding?: string;
  /** Base64 MD5 of the stored bytes; absent for composite objects. */
  md5Hash?: string;
}

interface ListPage {
  items?: ListedItem[];
  prefixes?: string[];
  nextPageToken?: string;
}

export interface GcsCredentials {
  /** For people: "service-account key file ./key.json (sa@p.iam.gserviceaccount.com)". Never a secret. */
  describe: string;
  kind: 'keyFile' | 'secret' | 'adc';
  keyFilename?: string;
  credentials?: Record<string, unknown>;
  clientEmail?: string;
  projectId?: string;
}

export class GcsSource implements Source {
  readonly kind = 'gcs';
  readonly id: string;
  readonly defaultConcurrency = GCS_DEFAULT_CONCURRENCY;
  private storage?: Promise<Storage>;
  /** Objects stored gzip-compressed: downloaded as stored, so the bytes match the listed size. */
  private readonly gzipStored = new Set<string>();
  /** Set once ADC was looked for and nothing was found: requests go out anonymously. */
  private anonymous = false;

  constructor(
    readonly location: GcsPath,
    private readonly creds: GcsCredentials,
    private readonly apiEndpoint: string | undefined,
    private readonly pageSize: number,
  ) {
    this.id = `gcs:${apiEndpoint ?? 'google'}/${location.bucket}/${location.prefix}`;
  }

  private url(): string {
    return `gs://${this.location.bucket}/${this.location.prefix}`;
  }

  /** Credentials are used only where they can be: a local emulator endpoint gets unauthenticated requests. */
  private sendsCredentials(): boolean {
    return !this.apiEndpoint || !isLoopbackHttp(this.apiEndpoint);
  }

  private client(): Promise<Storage> {
    this.storage ??= (async () => {
      const { Storage } = await import('@google-cloud/storage');
      return new Storage({
        projectId: this.creds.projectId,
        keyFilename: this.creds.keyFilename,
        credentials: this.creds.credentials,
        apiEndpoint: this.apiEndpoint,
        useAuthWithCustomEndpoint: this.apiEndpoint ? this.sendsCredentials() : undefined,
        retryOptions: { autoRetry: false },
      });
    })();
    return this.storage;
  }

  private async bucket(): Promise<Bucket> {
    return (await this.client()).bucket(this.location.bucket);
  }

  /** One page of objects.list, retried on throttling and resets. */
  private async listPage(q: { prefix: string; pageToken?: string; maxResults: number; delimiter?: string; fields?: string }, signal?: AbortSignal, attempts = LIST_ATTEMPTS): Promise<ListPage> {
    const bucket = await this.bucket();
    const qs: Record<string, string | number> = { prefix: q.prefix, maxResults: q.maxResults, fields: q.fields ?? LIST_FIELDS };
    if (q.pageToken) qs.pageToken = q.pageToken;
    if (q.delimiter) qs.delimiter = q.delimiter;
    return withRetries(attempts, signal, async () => {
      try {
        const [body] = await raceAbort(bucket.request({ uri: '/o', qs }), signal);
        return (body ?? {}) as ListPage;
      } catch (err) {
        throw signal?.aborted ? err : gcsError(err, `listing ${this.url()}`);
      }
    });
  }

  async *list(signal?: AbortSignal): AsyncIterable<SourceObject> {
    const { prefix } = this.location;
    let pageToken: string | undefined;
    for (;;) {
      const page = await this.listPage({ prefix, pageToken, maxResults: this.pageSize }, signal);
      for (const it of page.items ?? []) {
        if (!it.name.startsWith(prefix)) continue;
        if (it.contentEncoding === 'gzip') this.gzipStored.add(it.name);
        else this.gzipStored.delete(it.name);
        // The stored bytes' MD5; a gzip-stored object arrives decompressed, so it has none to check.
        const md5 = it.md5Hash && it.contentEncoding !== 'gzip' ? Buffer.from(it.md5Hash, 'base64').toString('hex') : undefined;
        yield { key: it.name, rel: it.name.slice(prefix.length), size: Number(it.size ?? 0), version: it.generation ?? '', lastModified: it.updated, md5: md5?.length === 32 ? md5 : undefined };
      }
      if (!page.nextPageToken) return;
      if (page.nextPageToken === pageToken) throw new Error(`listing ${this.url()}: the server repeated a page token; stopping to avoid an endless listing.`);
      pageToken = page.nextPageToken;
    }
  }

  /** Streams one generation of the object (the listed one: a newer upload is picked up by the next run). */
  async open(obj: SourceObject, signal?: AbortSignal): Promise<NodeJS.ReadableStream> {
    signal?.throwIfAborted();
    const bucket = await this.bucket();
    const generation = /^\d+$/.test(obj.version) && Number.isSafeInteger(Number(obj.version)) ? Number(obj.version) : undefined; // microseconds since 1970: safe until 2255
    const file = bucket.file(obj.key, generation ? { generation } : undefined);
    const what = `downloading gs://${this.location.bucket}/${obj.key}`;
    const src = file.createReadStream({ decompress: !this.gzipStored.has(obj.key) });
    const out = new PassThrough();
    const onAbort = () => src.destroy(signal?.reason as Error);
    signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => signal?.removeEventListener('abort', onAbort);
    src.on('error', (err) => {
      cleanup();
      out.destroy(gcsError(err, what));
    });
    src.on('end', cleanup);
    // Whoever reads `out` may stop early (a wrong size) or fail: the download stops with it.
    out.on('close', () => {
      cleanup();
      if (!src.destroyed) src.destroy();
    });
    src.pipe(out);
    return out;
  }

  /** Where the credentials come from, looking for Application Default Credentials only when needed. */
  private async credentialSource(): Promise<string> {
    if (!this.sendsCredentials()) {
      return this.creds.kind === 'adc' ? `none (requests to the local endpoint ${this.apiEndpoint} are not authenticated)` : `${this.creds.describe}; not sent to the local endpoint ${this.apiEndpoint}`;
    }
    if (this.creds.kind !== 'adc') return this.creds.describe;
    try {
      const storage = await this.client();
      const client = await storage.authClient.getClient();
      const email = (client as { email?: string }).email;
      const where = this.creds.describe;
      return email ? `${where} (${email})` : where;
    } catch {
      this.anonymous = true;
      return 'none (public bucket): no Application Default Credentials were found, so requests are anonymous';
    }
  }

  async verify(signal?: AbortSignal): Promise<VerifyResult> {
    const { bucket, prefix } = this.location;
    const credentialSource = await this.credentialSource();
    const base = { credentialSource, sampleFiles: [] as VerifyFile[] };
    try {
      const b = await this.bucket();
      // buckets.get needs storage.buckets.get, which a reader often lacks: it only adds the location.
      const meta = raceAbort(b.request({ uri: '', qs: { fields: 'name,location' } }), signal).then(
        ([m]) => m as { location?: string },
        () => undefined,
      );
      const page = await this.listPage({ prefix, maxResults: Math.min(this.pageSize, 100) }, signal, 2);
      const items = page.items ?? [];
      const sampleFiles = await collectSampleFiles(items, (it) => it.name.slice(prefix.length), (it) => Number(it.size ?? 0));
      const location = (await meta)?.location;
      const at = `${this.apiEndpoint ? ` at ${this.apiEndpoint}` : ''}${location ? ` (${location.toLowerCase()})` : ''}`;
      let detail: string;
      if (items.length) {
        detail = `Listed ${this.url()}${at}: ${page.nextPageToken ? `more than ${items.length}` : items.length} object(s).`;
      } else {
        detail = `Bucket ${bucket}${at} is reachable, but nothing is under ${prefix ? `prefix "${prefix}"` : 'it'}.`;
        if (prefix) {
          const hint = await this.siblingFolders(signal).catch(() => [] as string[]);
          detail += hint.length ? ` Folders next to it: ${hint.slice(0, 10).join(', ')}${hint.length > 10 ? ', …' : ''}. Check the path.` : ' Check the path.';
        }
      }
      return { ...base, ok: true, detail, sampleFiles };
    } catch (err) {
      if (signal?.aborted) throw err;
      return { ...base, ok: false, ...this.explain(err, credentialSource) };
    }
  }

  private async siblingFolders(signal?: AbortSignal): Promise<string[]> {
    const trimmed = this.location.prefix.replace(/\/$/, '');
    const parent = trimmed.includes('/') ? trimmed.slice(0, trimmed.lastIndexOf('/') + 1) : '';
    const page = await this.listPage({ prefix: parent, delimiter: '/', maxResults: 50, fields: 'prefixes' }, signal, 1);
    return (page.prefixes ?? []).map((p) => `"${p}"`);
  }

  /** A failure -> what went wrong and what to do, with GCS's own code. Never a secret. */
  explain(err: unknown, from = this.creds.describe): SourceExplanation {
    const p = parts(err);
    const c = (err as { code?: unknown } | undefined)?.code;
    const code = c && typeof c === 'string' ? c : (p.reason ?? p.net ?? (p.status ? `HTTP${p.status}` : 'Error'));
    const status = p.status ?? (err as GcsError | undefined)?.status;
    return { ...this.describeFailure(p, code, status, from), kind: errorKind(err, code, status) };
  }

  private describeFailure(p: ReturnType<typeof parts>, code: string, status: number | undefined, from: string): { code: string; detail: string } {
    const { bucket } = this.location;
    const at = this.apiEndpoint ?? 'Google Cloud Storage';
    const gcsSays = p.message ? ` GCS says: ${p.message.replace(/^[a-z]+ gs:\/\/[^:]*: /, '')}` : '';
    if (code === 'NoCredentials')
      return { code, detail: `No Google credentials were found (tried Application Default Credentials), and ${this.url()} is not public. Set keyFile, or credentials to \${secret:NAME} holding a service-account JSON key, or run "gcloud auth application-default login".` };
    if (code === 'invalid_grant' || code === 'unauthorized_client' || code === 'invalid_client')
      return { code, detail: `Google's token endpoint rejected the credentials (${from}): ${p.message}. The key may have been deleted or disabled (create a new key), or this machine's clock is off.` };
    if (status === 404 || code === 'notFound')
      return { code, detail: `Bucket "${bucket}" does not exist at ${at} (HTTP 404). Check the bucket name in path${this.apiEndpoint ? ' and apiEndpoint' : ''}.` };
    if (status === 401)
      return { code, detail: `${at} rejected the credentials (${from}) with HTTP 401 (${code}): they are invalid or expired. Create a new service-account key, or run "gcloud auth application-default login" again.` };
    if (status === 403) {
      if (this.anonymous || !this.sendsCredentials())
        return { code, detail: `Access denied (HTTP 403) to ${this.url()} for an anonymous caller: the bucket is not public. Set keyFile, or credentials to \${secret:NAME} holding a service-account JSON key, or run "gcloud auth application-default login".${gcsSays}` };
      return { code, detail: `Access denied (HTTP 403): the credentials (${from}) work, but may not list ${this.url()}. Grant roles/storage.objectViewer on bucket ${bucket}${this.creds.clientEmail ? ` to ${this.creds.clientEmail}` : ''}, or use other credentials.${gcsSays}` };
    }
    if (status === 400 && code === 'invalid') return { code, detail: `GCS refused the request (HTTP 400): ${p.message}. Check the bucket name "${bucket}" in path.` };
    switch (code) {
      case 'ECONNREFUSED':
        return { code, detail: `Nothing answers at ${at} (connection refused). Is the server running, and are the host and port in apiEndpoint right?` };
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return { code, detail: `The host of ${at} was not found (DNS, ${code}). Check apiEndpoint, the network, a proxy or VPN.` };
      case 'ETIMEDOUT':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
      case 'ECONNRESET':
        return { code, detail: `${at} cannot be reached (${code}). Check the network, a proxy or firewall${this.apiEndpoint ? ', and apiEndpoint' : ''}.` };
      default:
        if (isTlsFailure(code)) return { code, detail: `TLS problem talking to ${at} (${code}). For a private certificate authority run with NODE_EXTRA_CA_CERTS=/path/to/ca.pem; for a plain-HTTP emulator write apiEndpoint as http://.` };
        return { code, detail: `Checking ${this.url()} at ${at} failed (${code}): ${p.message}` };
    }
  }
}

/** Reads the step's credential settings. A key's content never appears in a message. */
export async function gcsCredentials(block: GcsBlock, ctx: SourceContext): Promise<GcsCredentials> {
  const where = `step "${ctx.step}"`;
  if (block.credentials) {
    const ref = parseRef(block.credentials);
    const name = ref ? `\${${ref.kind}:${ref.name}}` : 'the credentials field';
    const text = (await resolveValue(block.credentials, ctx.resolver, `${where} credentials`))!;
    const json = parseKeyJson(text, `${where}: credentials (${name})`, 'Store the whole content of the service-account key file in it.');
    return { kind: 'secret', describe: `service-account JSON from credentials ${name}${json.client_email ? ` (${json.client_email})` : ''}`, credentials: json, clientEmail: json.client_email as string | undefined, projectId: json.project_id as string | undefined };
  }
  if (block.keyFile) {
    const raw = (await resolveValue(block.keyFile, ctx.resolver, `${where} keyFile`))!;
    const file = path.resolve(ctx.baseDir, raw.replace(/^~(?=\/|$)/, ctx.resolver.env.HOME ?? '~'));
    let text: string;
    try {
      text = await fs.promises.readFile(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UserError(`${where}: keyFile ${file} cannot be read (${code ?? errorMessage(err)}). Relative paths start at the pipeline file's folder.`, code === 'ENOENT' ? 'KeyFileNotFound' : code);
    }
    const json = parseKeyJson(text, `${where}: keyFile ${file}`, 'Download a JSON key for the service account (IAM > Service accounts > Keys).');
    return { kind: 'keyFile', describe: `service-account key file ${raw}${json.client_email ? ` (${json.client_email})` : ''}`, keyFilename: file, clientEmail: json.client_email as string | undefined, projectId: json.project_id as string | undefined };
  }
  const env = ctx.resolver.env;
  const adcFile = env.GOOGLE_APPLICATION_CREDENTIALS;
  return { kind: 'adc', describe: adcFile ? `Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS=${adcFile})` : 'Application Default Credentials (gcloud auth application-default login, or the metadata server)' };
}

function parseKeyJson(text: string, what: string, fix: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UserError(`${what} is not a JSON key (it does not parse as JSON). ${fix}`, 'InvalidCredentials');
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new UserError(`${what} is not a JSON key object. ${fix}`, 'InvalidCredentials');
  const o = json as Record<string, unknown>;
  const type = o.type;
  if (type === 'service_account' && (typeof o.client_email !== 'string' || typeof o.private_key !== 'string'))
    throw new UserError(`${what} is a service-account key without client_email or private_key. ${fix}`, 'InvalidCredentials');
  if (typeof type !== 'string') throw new UserError(`${what} has no "type" (service_account, authorized_user, external_account). ${fix}`, 'InvalidCredentials');
  return o;
}

export async function createGcsSource(block: GcsBlock, ctx: SourceContext): Promise<Source> {
  const where = `step "${ctx.step}"`;
  const location = parseGcsPath(block.path);
  const endpointRaw = (await resolveValue(block.apiEndpoint || undefined, ctx.resolver, `${where} apiEndpoint`))?.trim();
  let apiEndpoint: string | undefined;
  if (endpointRaw) {
    const checked = checkEndpoint(endpointRaw, { where, field: 'apiEndpoint', examples: 'https://storage.googleapis.com or http://127.0.0.1:4443', noUserInfo: 'apiEndpoint must not hold a user name or password; use keyFile or credentials.' });
    // The SDK adds /storage/v1 itself.
    apiEndpoint = checked.url.replace(/\/storage\/v1$/, '');
    if (apiEndpoint === 'https://storage.googleapis.com') apiEndpoint = undefined;
  }
  const creds = await gcsCredentials(block, ctx);
  const projectId = (await resolveValue(block.projectId || undefined, ctx.resolver, `${where} projectId`)) ?? creds.projectId;
  if (projectId) creds.projectId = projectId;
  const pageSize = Math.min(MAX_PAGE, ctx.pageSize || MAX_PAGE);
  return new GcsSource(location, creds, apiEndpoint, pageSize);
}
