// ${secret:NAME} and ${env:VAR} references: the only way a secret may appear in a pipeline file.

export interface Ref {
  kind: 'secret' | 'env';
  name: string;
}

const REF = /^\$\{(secret|env):([A-Za-z_][A-Za-z0-9_.-]*)\}$/;
const ANY_REF = /\$\{([^}]*)\}?/g;

export function parseRef(value: string): Ref | undefined {
  const m = REF.exec(value);
  return m ? { kind: m[1] as Ref['kind'], name: m[2] } : undefined;
}

/** Every `${…}` in a string that is not a well-formed secret/env reference, for diagnostics. */
export function badRefs(value: string): string[] {
  const bad: string[] = [];
  for (const m of value.matchAll(ANY_REF)) {
    const whole = m[0];
    if (!whole.endsWith('}') || !REF.test(whole)) bad.push(whole.length > 40 ? whole.slice(0, 40) + '…' : whole);
  }
  return bad;
}

/** Looks up a secret by name. The CLI uses the environment; the editor uses SecretStorage. */
export type SecretLookup = (name: string) => Promise<string | undefined> | string | undefined;

export class MissingSecretError extends Error {
  constructor(readonly ref: Ref, where: string) {
    super(
      ref.kind === 'env'
        ? `${where}: environment variable ${ref.name} is not set. Set it before running, or use \${secret:NAME}.`
        : `${where}: secret ${ref.name} is not set. In the editor run "Data Pipelines: Set Secret…"; for the CLI set the environment variable ${ref.name}.`,
    );
    this.name = 'MissingSecretError';
  }
}

export interface Resolver {
  secret: SecretLookup;
  env: NodeJS.ProcessEnv;
}

export function envResolver(env: NodeJS.ProcessEnv = process.env): Resolver {
  return { secret: (name) => env[name], env };
}

/** Resolves a field that may hold a reference; plain values pass through unchanged. */
export async function resolveValue(value: string | undefined, resolver: Resolver, where: string): Promise<string | undefined> {
  if (value === undefined) return undefined;
  const ref = parseRef(value);
  if (!ref) return value;
  const got = ref.kind === 'env' ? resolver.env[ref.name] : await resolver.secret(ref.name);
  if (got === undefined || got === '') throw new MissingSecretError(ref, where);
  return got;
}
