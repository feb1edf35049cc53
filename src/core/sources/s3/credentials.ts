// Where the S3 credentials come from, in the order the user expects: keys in the step, a named
// profile, environment variables, then the AWS default chain (SSO, config files, container and
// instance roles). The SDK's credential providers load only when a chain is actually needed.
import type { S3Block } from '../../pipeline/model';
import { parseRef, resolveValue, type Resolver } from '../../pipeline/refs';
import { UserError } from '../../util/errors';
import type { Credentials } from './sigv4';

export interface CredentialChoice {
  /** undefined means anonymous (unsigned) requests. */
  get(): Promise<Credentials | undefined>;
  /** For people: which source was used. Never a secret value. */
  describe(): string;
  anonymous(): boolean;
}

type SdkCredentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date; $source?: Record<string, unknown> };

const REFRESH_BEFORE_MS = 5 * 60 * 1000;

/** Caches credentials until shortly before they expire; concurrent callers share one lookup. */
function memoize(load: () => Promise<Credentials | undefined>): () => Promise<Credentials | undefined> {
  let current: Promise<Credentials | undefined> | undefined;
  let expires = Infinity;
  return () => {
    if (current && Date.now() < expires - REFRESH_BEFORE_MS) return current;
    current = load().then(
      (c) => {
        expires = c?.expiration ? c.expiration.getTime() : Infinity;
        return c;
      },
      (err) => {
        current = undefined;
        throw err;
      },
    );
    expires = Infinity;
    return current;
  };
}

const CHAIN_SOURCES: Record<string, string> = {
  CREDENTIALS_ENV_VARS: 'environment variables',
  CREDENTIALS_ENV_VARS_STS_WEB_ID_TOKEN: 'web identity token (environment)',
  CREDENTIALS_PROFILE_SSO: 'SSO profile',
  CREDENTIALS_PROFILE_SSO_LEGACY: 'SSO profile',
  CREDENTIALS_SSO: 'SSO',
  CREDENTIALS_SSO_LEGACY: 'SSO',
  CREDENTIALS_PROFILE_PROCESS: 'credential_process in the profile',
  CREDENTIALS_PROCESS: 'credential_process',
  CREDENTIALS_PROFILE_SOURCE_PROFILE: 'assumed role (source_profile)',
  CREDENTIALS_STS_ASSUME_ROLE: 'assumed role',
  CREDENTIALS_STS_ASSUME_ROLE_WEB_ID: 'web identity role',
  CREDENTIALS_PROFILE_STS_WEB_ID_TOKEN: 'web identity role (profile)',
  CREDENTIALS_PROFILE: 'shared credentials file',
  CREDENTIALS_HTTP: 'container credentials (ECS/EKS)',
  CREDENTIALS_IMDS: 'EC2 instance role',
  CREDENTIALS_PROFILE_LOGIN: 'aws login',
  CREDENTIALS_LOGIN: 'aws login',
};

/** The most specific name the SDK's feature tags give for where chained credentials came from. */
export function describeSdkSource(source: Record<string, unknown> | undefined): string | undefined {
  if (!source) return undefined;
  const names = Object.keys(source).map((k) => CHAIN_SOURCES[k]).filter((x): x is string => !!x);
  if (!names.length) return undefined;
  // Later tags are more specific (a profile that assumes a role tags both).
  return [...new Set(names)].reverse().join(', ');
}

function fromSdk(c: SdkCredentials): Credentials {
  return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration: c.expiration };
}

function refText(value: string | undefined): string | undefined {
  if (!value) return undefined;
  return parseRef(value) ? value : undefined;
}

export async function chooseCredentials(block: S3Block, resolver: Resolver, step: string): Promise<CredentialChoice> {
  const where = `step "${step}"`;
  const accessKey = await resolveValue(block.accessKey || undefined, resolver, `${where} accessKey`);
  const secretKey = await resolveValue(block.secretKey || undefined, resolver, `${where} secretKey`);
  const sessionToken = await resolveValue(block.sessionToken || undefined, resolver, `${where} sessionToken`);
  if (accessKey || secretKey) {
    if (!accessKey || !secretKey) throw new UserError(`${where}: accessKey and secretKey go together; set both, or neither to use the AWS credential chain.`, 'IncompleteKeys');
    const secretRef = refText(block.secretKey);
    const creds: Credentials = { accessKeyId: accessKey, secretAccessKey: secretKey, sessionToken };
    const desc = `static keys (accessKey${refText(block.accessKey) ? ` ${block.accessKey}` : ''} + ${secretRef ?? 'secretKey'})`;
    return { get: async () => creds, describe: () => desc, anonymous: () => false };
  }

  const env = resolver.env;
  if (block.profile) {
    const profile = block.profile;
    const get = memoize(async () => {
      const { fromIni } = await loadCredentialProviders();
      try {
        return fromSdk((await fromIni({ profile })()) as SdkCredentials);
      } catch (err) {
        throw new UserError(`AWS profile "${profile}" gave no credentials: ${(err as Error).message}. Check ~/.aws/config and ~/.aws/credentials, or run "aws sso login --profile ${profile}".`, 'CredentialsProviderError');
      }
    });
    return { get, describe: () => `AWS profile ${profile}`, anonymous: () => false };
  }

  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    const creds: Credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN || undefined };
    return { get: async () => creds, describe: () => 'environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)', anonymous: () => false };
  }

  // The default chain. With nothing found anywhere, requests go unsigned: public buckets work,
  // and a private one answers AccessDenied, which verify explains.
  let desc = env.AWS_PROFILE ? `default credential chain (AWS_PROFILE=${env.AWS_PROFILE})` : 'default credential chain';
  let anonymous = false;
  const get = memoize(async () => {
    const { fromNodeProviderChain } = await loadCredentialProviders();
    try {
      const c = (await fromNodeProviderChain({ profile: env.AWS_PROFILE || undefined })()) as SdkCredentials;
      const from = describeSdkSource(c.$source);
      desc = from ? `default credential chain: ${from}${env.AWS_PROFILE ? ` (AWS_PROFILE=${env.AWS_PROFILE})` : ''}` : desc;
      anonymous = false;
      return fromSdk(c);
    } catch (err) {
      const name = (err as Error).name;
      if (name !== 'CredentialsProviderError' && !/could not load credentials/i.test((err as Error).message)) throw err;
      anonymous = true;
      desc = 'none found: the default credential chain (environment, ~/.aws files, SSO, container and instance roles) had no credentials, so requests are anonymous';
      return undefined;
    }
  });
  return { get, describe: () => desc, anonymous: () => anonymous };
}

/** The AWS credential providers, loaded on first use. VS Code and these machines run Node 20: the
 * SDK's "upgrade to Node 22" warning is nothing a user of this tool can act on, so it is silenced. */
function loadCredentialProviders(): Promise<typeof import('@aws-sdk/credential-providers')> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return import('@aws-sdk/credential-providers');
}
