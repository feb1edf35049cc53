// azure-to-project: Azure Blob Storage with @azure/storage-blob, which loads on first use (importing
// this module loads no SDK). Credentials: a connection string, an account key, a SAS token, or none
// (a public container). The SDK's own retries are off: the engine retries downloads (and slows down
// when throttled); listing pages are retried here with short backoff.
import { PassThrough } from 'node:stream';
import type { AzureBlock } from '../pipeline/model';
import { parseRef, resolveValue } from '../pipeline/refs';
import type { Source, SourceExplanation, SourceObject, VerifyFile, VerifyResult } from '../types';
import { withRetries, RetryableError, RETRYABLE_NETWORK_CODES, sanitizeServerText, UserError } from '../util/errors';
import type { SourceContext } from './index';
import type { ContainerClient, ListBlobsFlatSegmentResponse } from '@azure/storage-blob';
import { parseBucketPath, type BucketPath } from './location';
import { SourceError as AzureError } from './errors';
import { checkEndpoint, collectSampleFiles, errorKind, isTlsFailure } from './common';

export const AZURE_DEFAULT_CONCURRENCY = 16;
const LIST_ATTEMPTS = 5;
/** Azure's largest page. */
const MAX_PAGE = 5000;

/** `az://container/prefix/`: the container is the path's bucket. */
export type AzurePath = BucketPath;

export function parseAzurePath(p: string): AzurePath {
  return parseBucketPath(p, 'az', 'an Azure Blob', 'container');
}

/** This store's failures are the one SourceError (the name is kept for the code that throws it). */
export { SourceError as AzureError } from './errors';

const THROTTLE_CODES = new Set(['ServerBusy', 'TooManyRequests', 'OperationTimedOut']);

function parts(err: unknown): { status?: number; code?: string; message: string } {
  const e = err as { statusCode?: number; code?: string; message?: string; details?: { errorCode?: string } };
  const firstLine = (e?.message ?? String(err)).split('\n')[0].trim();
  const code = e?.details?.errorCode ?? e?.code;
  return { status: e?.statusCode, code: code ? sanitizeServerText(code, 64) : undefined, message: sanitizeServerText(firstLine) };
}

/** Maps an SDK error: RetryableError for throttling, 5xx and network resets; AzureError otherwise. */
export function azureError(err: unknown, what: string): Error {
  if (err instanceof RetryableError || err instanceof AzureError || (err as Error)?.name === 'AbortError') return err as Error;
  const p = parts(err);
  const code = p.code ?? (p.status ? `HTTP${p.status}` : 'Error');
  const text = `${what}: ${p.message}${p.status ? ` [HTTP ${p.status} ${code}]` : ` (${code})`}`;
  if (p.status === 429 || p.status === 503 || THROTTLE_CODES.has(code)) return new RetryableError(`${text}; slowing down`, true, code);
  if ((p.status && (p.status >= 500 || p.status === 408)) || (!p.status && RETRYABLE_NETWORK_CODES.has(code))) return new RetryableError(text, false, code);
  return new AzureError(text, code, p.status);
}

export interface AzureAuth {
  kind: 'connectionString' | 'accountKey' | 'sas' | 'anonymous';
  /** For people: "account key ${secret:AZ_KEY} for account acme". Never a secret. */
  describe: string;
  /** Service URL without a query (https://acme.blob.core.windows.net, http://127.0.0.1:10000/devstoreaccount1). */
  serviceUrl: string;
  accountName?: string;
  /** Name of the reference holding the secret, for messages. */
  ref?: string;
  connectionString?: string;
  accountKey?: string;
  sasToken?: string;
}

export class AzureSource implements Source {
  readonly kind = 'azure';
  readonly id: string;
  readonly defaultConcurrency = AZURE_DEFAULT_CONCURRENCY;
  private container?: Promise<ContainerClient>;

  constructor(
    readonly location: AzurePath,
    private readonly auth: AzureAuth,
    private readonly pageSize: number,
  ) {
    this.id = `azure:${auth.serviceUrl}/${location.bucket}/${location.prefix}`;
  }

  private url(): string {
    return `az://${this.location.bucket}/${this.location.prefix}`;
  }

  private client(): Promise<ContainerClient> {
    this.container ??= (async () => {
      const sdk = await import('@azure/storage-blob');
      const options = { retryOptions: { maxTries: 1 }, userAgentOptions: { userAgentPrefix: 'data-source-pipelines' } };
      const a = this.auth;
      let service: InstanceType<typeof sdk.BlobServiceClient>;
      switch (a.kind) {
        case 'connectionString':
          try {
            service = sdk.BlobServiceClient.fromConnectionString(a.connectionString!, options);
          } catch {
            // The SDK's message may quote the string: never shown.
            throw new UserError(`The connection string ${a.ref ?? ''} is not valid. Copy it again from the storage account's "Access keys" page (DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...;EndpointSuffix=core.windows.net).`, 'InvalidConnectionString');
          }
          break;
        case 'accountKey':
          service = new sdk.BlobServiceClient(a.serviceUrl, new sdk.StorageSharedKeyCredential(a.accountName!, a.accountKey!), options);
          break;
        case 'sas':
          service = new sdk.BlobServiceClient(`${a.serviceUrl}?${a.sasToken!.replace(/^\?/, '')}`, new sdk.AnonymousCredential(), options);
          break;
        default:
          service = new sdk.BlobServiceClient(a.serviceUrl, new sdk.AnonymousCredential(), options);
      }
      return service.getContainerClient(this.location.bucket);
    })();
    return this.container;
  }

  private async listPage(prefix: string, continuationToken: string | undefined, maxPageSize: number, signal?: AbortSignal, attempts = LIST_ATTEMPTS): Promise<ListBlobsFlatSegmentResponse> {
    const container = await this.client();
    return withRetries(attempts, signal, async () => {
      try {
        const pages = container.listBlobsFlat({ prefix: prefix || undefined, abortSignal: signal }).byPage({ continuationToken, maxPageSize });
        const { value, done } = await pages.next();
        if (done || !value) return { segment: { blobItems: [] } } as unknown as ListBlobsFlatSegmentResponse;
        return value;
      } catch (err) {
        throw signal?.aborted ? err : azureError(err, `listing ${this.url()}`);
      }
    });
  }

  async *list(signal?: AbortSignal): AsyncIterable<SourceObject> {
    const { prefix } = this.location;
    let token: string | undefined;
    for (;;) {
      const page = await this.listPage(prefix, token, this.pageSize, signal);
      for (const b of page.segment.blobItems) {
        if (!b.name.startsWith(prefix)) continue;
        // Hierarchical-namespace accounts list folders as blobs; they are not samples.
        if ((b.properties as { resourceType?: string }).resourceType === 'directory') continue;
        const md5 = b.properties.contentMD5?.length === 16 ? Buffer.from(b.properties.contentMD5).toString('hex') : undefined;
        yield { key: b.name, rel: b.name.slice(prefix.length), size: b.properties.contentLength ?? 0, version: b.properties.etag ?? '', lastModified: b.properties.lastModified?.toISOString(), md5 };
      }
      const next = page.continuationToken || undefined;
      if (!next) return;
      if (next === token) throw new Error(`listing ${this.url()}: the server repeated a continuation token; stopping to avoid an endless listing.`);
      token = next;
    }
  }

  /** Streams the listed version of the blob (If-Match its ETag: a blob replaced since is picked up by the next run). */
  async open(obj: SourceObject, signal?: AbortSignal): Promise<NodeJS.ReadableStream> {
    const container = await this.client();
    const what = `downloading az://${this.location.bucket}/${obj.key}`;
    const etag = obj.version ? (obj.version.startsWith('"') ? obj.version : `"${obj.version}"`) : undefined;
    let body: NodeJS.ReadableStream | undefined;
    try {
      const res = await container.getBlobClient(obj.key).download(0, undefined, { abortSignal: signal, conditions: etag ? { ifMatch: etag } : undefined, maxRetryRequests: 0 });
      body = res.readableStreamBody;
    } catch (err) {
      if (signal?.aborted) throw err;
      throw azureError(err, what);
    }
    if (!body) throw new AzureError(`${what}: the answer had no body`, 'NoBody');
    const src = body as NodeJS.ReadableStream & { destroy(err?: Error): void; destroyed?: boolean };
    const out = new PassThrough();
    src.on('error', (err: Error) => out.destroy(azureError(err, what)));
    // Whoever reads `out` may stop early (a wrong size) or fail: the download stops with it.
    out.on('close', () => {
      if (!src.destroyed) src.destroy();
    });
    src.pipe(out);
    return out;
  }

  async verify(signal?: AbortSignal): Promise<VerifyResult> {
    const { prefix, bucket: container } = this.location;
    const base = { credentialSource: this.auth.describe, sampleFiles: [] as VerifyFile[] };
    try {
      const page = await this.listPage(prefix, undefined, Math.min(this.pageSize, 100), signal, 2);
      const blobs = page.segment.blobItems;
      const sampleFiles = await collectSampleFiles(blobs, (b) => b.name.slice(prefix.length), (b) => b.properties.contentLength ?? 0);
      let detail: string;
      if (blobs.length) detail = `Listed ${this.url()} at ${this.auth.serviceUrl}: ${page.continuationToken ? `more than ${blobs.length}` : blobs.length} blob(s).`;
      else {
        detail = `Container ${container} at ${this.auth.serviceUrl} is reachable, but nothing is under ${prefix ? `prefix "${prefix}"` : 'it'}.`;
        if (prefix) {
          const hint = await this.siblingFolders(signal).catch(() => [] as string[]);
          detail += hint.length ? ` Folders next to it: ${hint.slice(0, 10).join(', ')}${hint.length > 10 ? ', …' : ''}. Check the path.` : ' Check the path.';
        }
      }
      return { ...base, ok: true, detail, sampleFiles };
    } catch (err) {
      if (signal?.aborted) throw err;
      return { ...base, ok: false, ...this.explain(err) };
    }
  }

  private async siblingFolders(signal?: AbortSignal): Promise<string[]> {
    const trimmed = this.location.prefix.replace(/\/$/, '');
    const parent = trimmed.includes('/') ? trimmed.slice(0, trimmed.lastIndexOf('/') + 1) : '';
    const container = await this.client();
    const pages = container.listBlobsByHierarchy('/', { prefix: parent || undefined, abortSignal: signal }).byPage({ maxPageSize: 50 });
    const { value } = await pages.next();
    return (value?.segment.blobPrefixes ?? []).map((p: { name: string }) => `"${p.name}"`);
  }

  /** A failure -> what went wrong and what to do, with Azure's own code. Never a secret. */
  explain(err: unknown): SourceExplanation {
    if (err instanceof UserError) return { code: err.code ?? 'UserError', detail: err.message, kind: 'invalid' };
    const p = parts(err);
    const c = (err as { code?: unknown } | undefined)?.code;
    const code = (typeof c === 'string' && c ? c : undefined) ?? p.code ?? (p.status ? `HTTP${p.status}` : 'Error');
    return { ...this.describeFailure(p, code), kind: errorKind(err, code, p.status) };
  }

  private describeFailure(p: ReturnType<typeof parts>, code: string): { code: string; detail: string } {
    const { bucket: container } = this.location;
    const at = this.auth.serviceUrl;
    const host = (() => {
      try {
        return new URL(at).host;
      } catch {
        return at;
      }
    })();
    const from = this.auth.describe;
    const ref = this.auth.ref ? ` ${this.auth.ref}` : '';
    switch (code) {
      case 'ContainerNotFound':
        return { code, detail: `Container "${container}" does not exist in ${at}. Check the container name in path${this.auth.kind === 'connectionString' ? ' and the account in the connection string' : ' and accountName/endpoint'}.` };
      case 'ResourceNotFound':
        if (this.auth.kind === 'anonymous') return { code, detail: `Container "${container}" at ${at} is not public, or does not exist (HTTP 404 to an anonymous caller). Set connectionString, accountKey or sasToken (\${secret:NAME}).` };
        return { code, detail: `Container "${container}" or account at ${at} was not found (${p.message}). Check path and accountName/endpoint.` };
      case 'AuthenticationFailed':
      case 'AuthorizationFailure':
        if (this.auth.kind === 'anonymous') return { code, detail: `Container "${container}" at ${at} does not allow anonymous listing (${code}). Set connectionString, accountKey or sasToken (\${secret:NAME}).` };
        if (this.auth.kind === 'sas') return { code, detail: `The SAS token was rejected (${code}; credentials: ${from}): it may be expired, revoked, for another account or container, or mistyped. Create a new SAS with read and list permissions and store it in${ref || ' the secret'}.` };
        return { code, detail: `The storage account rejected the key (${code}; credentials: ${from}): the account key is wrong or was rotated. Copy key1 or key2 from the account's "Access keys" page into${ref || ' the secret'}.` };
      case 'AuthorizationPermissionMismatch':
      case 'AuthorizationResourceTypeMismatch':
      case 'AuthorizationServiceMismatch':
      case 'InsufficientAccountPermissions':
        return { code, detail: `Access denied (${code}): the credentials (${from}) are valid but may not list ${this.url()}. A SAS needs read (r) and list (l) permissions on the container; check the SAS's signed resource types (sr/srt) and services (ss=b).` };
      case 'AuthorizationSourceIPMismatch':
        return { code, detail: `Access denied (${code}): the credentials (${from}) do not allow this machine's IP address. Check the SAS's IP range or the account's firewall.` };
      case 'PublicAccessNotPermitted':
        return { code, detail: `The storage account does not allow anonymous access (${code}). Set connectionString, accountKey or sasToken (\${secret:NAME}).` };
      case 'InvalidResourceName':
      case 'OutOfRangeInput':
        return { code, detail: `"${container}" is not a valid container name (${code}): 3-63 lowercase letters, digits and hyphens. Check path.` };
      case 'AccountIsDisabled':
        return { code, detail: `The storage account at ${at} is disabled (${code}).` };
      case 'ECONNREFUSED':
        return { code, detail: `Nothing answers at ${at} (connection refused). Is the server running, and are the host and port in the endpoint right?` };
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return { code, detail: `The host ${host} was not found (DNS, ${code}). Check accountName or endpoint, the network, a proxy or VPN.` };
      case 'ETIMEDOUT':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
      case 'ECONNRESET':
      case 'REQUEST_SEND_ERROR':
        return { code, detail: `${at} cannot be reached (${code}: ${p.message}). Check the endpoint, the network, a proxy or firewall.` };
      default:
        if (isTlsFailure(code)) return { code, detail: `TLS problem talking to ${host} (${code}). For a private certificate authority run with NODE_EXTRA_CA_CERTS=/path/to/ca.pem; for a plain-HTTP emulator write the endpoint as http://.` };
        return { code, detail: `Checking ${this.url()} at ${at} failed (${code}): ${p.message}` };
    }
  }
}

function refName(value: string | undefined, field: string): string {
  const ref = value ? parseRef(value) : undefined;
  return ref ? `\${${ref.kind}:${ref.name}}` : field;
}

/** The fields of a connection string, without keeping any secret part. */
function connectionStringInfo(cs: string): { accountName?: string; blobEndpoint?: string; protocol?: string; suffix?: string; hasSas: boolean; dev: boolean } {
  const fields = new Map<string, string>();
  for (const part of cs.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return {
    accountName: fields.get('accountname'),
    blobEndpoint: fields.get('blobendpoint'),
    protocol: fields.get('defaultendpointsprotocol'),
    suffix: fields.get('endpointsuffix'),
    hasSas: fields.has('sharedaccesssignature'),
    dev: /^UseDevelopmentStorage=true/i.test(cs.trim()),
  };
}

export async function createAzureSource(block: AzureBlock, ctx: SourceContext): Promise<Source> {
  const where = `step "${ctx.step}"`;
  const location = parseAzurePath(block.path);
  const accountName = (await resolveValue(block.accountName || undefined, ctx.resolver, `${where} accountName`))?.trim() || undefined;
  const endpointRaw = (await resolveValue(block.endpoint || undefined, ctx.resolver, `${where} endpoint`))?.trim();
  const endpoint = endpointRaw
    ? checkEndpoint(endpointRaw, {
        where,
        field: 'endpoint',
        examples: 'https://acme.blob.core.windows.net or http://127.0.0.1:10000/devstoreaccount1',
        noQuery: 'endpoint must not hold a query (a SAS token goes in sasToken).',
        noUserInfo: 'endpoint must not hold a user name or password.',
      }).url
    : undefined;
  const pageSize = Math.min(MAX_PAGE, ctx.pageSize || MAX_PAGE);
  const serviceUrlFor = (name: string | undefined) => {
    if (endpoint) return endpoint;
    if (!name) throw new UserError(`${where}: set accountName (the storage account), or endpoint, or connectionString.`, 'MissingAccount');
    if (!/^[a-z0-9]{3,24}$/.test(name)) throw new UserError(`${where}: accountName "${name}" is not a storage account name (3-24 lowercase letters and digits).`, 'InvalidAccountName');
    return `https://${name}.blob.core.windows.net`;
  };

  let auth: AzureAuth;
  if (block.connectionString) {
    const ref = refName(block.connectionString, 'connectionString');
    const cs = (await resolveValue(block.connectionString, ctx.resolver, `${where} connectionString`))!;
    const info = connectionStringInfo(cs);
    const name = info.dev ? 'devstoreaccount1' : info.accountName;
    const serviceUrl = info.blobEndpoint?.replace(/\/+$/, '') ?? (info.dev ? 'http://127.0.0.1:10000/devstoreaccount1' : name ? `${info.protocol ?? 'https'}://${name}.blob.${info.suffix ?? 'core.windows.net'}` : undefined);
    if (!serviceUrl) throw new UserError(`${where}: the connection string ${ref} names no AccountName or BlobEndpoint. Copy it again from the storage account's "Access keys" page.`, 'InvalidConnectionString');
    auth = { kind: 'connectionString', ref, connectionString: cs, serviceUrl, accountName: name, describe: `connection string ${ref}${name ? ` (account ${name}${info.hasSas ? ', SAS' : ''})` : ''}` };
  } else if (block.accountKey) {
    const ref = refName(block.accountKey, 'accountKey');
    const key = (await resolveValue(block.accountKey, ctx.resolver, `${where} accountKey`))!.trim();
    if (!accountName) throw new UserError(`${where}: accountKey needs accountName (the storage account the key belongs to).`, 'MissingAccount');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key)) throw new UserError(`${where}: the account key ${ref} is not base64. Copy key1 or key2 from the storage account's "Access keys" page.`, 'InvalidAccountKey');
    auth = { kind: 'accountKey', ref, accountKey: key, accountName, serviceUrl: serviceUrlFor(accountName), describe: `account key ${ref} for account ${accountName}` };
  } else if (block.sasToken) {
    const ref = refName(block.sasToken, 'sasToken');
    const sas = (await resolveValue(block.sasToken, ctx.resolver, `${where} sasToken`))!.trim().replace(/^\?/, '');
    const q = new URLSearchParams(sas);
    if (!q.get('sig')) throw new UserError(`${where}: the SAS token ${ref} has no signature (sig=...). Store the whole token, like sv=...&sp=rl&se=...&sig=...`, 'InvalidSasToken');
    const notes = [q.get('sp') ? `permissions ${q.get('sp')}` : '', q.get('se') ? `expires ${q.get('se')}` : ''].filter(Boolean).join(', ');
    auth = { kind: 'sas', ref, sasToken: sas, accountName, serviceUrl: serviceUrlFor(accountName), describe: `SAS token ${ref}${notes ? ` (${notes})` : ''}` };
  } else {
    auth = { kind: 'anonymous', accountName, serviceUrl: serviceUrlFor(accountName), describe: 'anonymous (public container): no connectionString, accountKey or sasToken is set' };
  }
  return new AzureSource(location, auth, pageSize);
}
