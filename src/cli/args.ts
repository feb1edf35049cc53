// The command line: node:util's tokenizer, with our own messages for what it would refuse.
import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';

export interface Args {
  command?: string;
  file?: string;
  json: boolean;
  dryRun: boolean;
  verifyLocal: boolean;
  shard?: string;
  shards?: number;
  image?: string;
  volumeClaim?: string;
  quiet: boolean;
  verbose: boolean;
  steps: string[];
  concurrency?: number;
  limit?: number;
  files: string[];
  port?: number;
  host?: string;
  schedule: boolean;
  keep?: number;
  to?: string;
  pipeline?: string;
  pretrained: boolean;
  label?: string;
  unlabel: boolean;
  category?: 'training' | 'validation' | 'testing';
  png?: string;
}

export class UsageError extends Error {}

const OPTIONS = {
  json: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'verify-local': { type: 'boolean' },
  shard: { type: 'string' },
  shards: { type: 'string' },
  image: { type: 'string' },
  'volume-claim': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  verbose: { type: 'boolean', short: 'v' },
  step: { type: 'string', multiple: true },
  concurrency: { type: 'string' },
  limit: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'no-schedule': { type: 'boolean' },
  keep: { type: 'string' },
  to: { type: 'string' },
  pipeline: { type: 'string' },
  'no-pretrained': { type: 'boolean' },
  label: { type: 'string' },
  unlabel: { type: 'boolean' },
  category: { type: 'string' },
  png: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

type OptionName = keyof typeof OPTIONS;
type OptionToken = { name: string; rawName: string; value?: string; inlineValue?: boolean };

/** A whole number in [min, max], or the usage error `message`. */
function wholeNumber(text: string, min: number, max: number, message: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(message);
  return n;
}

/** One of `choices`, or the usage error `message`. */
function oneOf<T extends string>(text: string, choices: readonly T[], message: string): T {
  if (!(choices as readonly string[]).includes(text)) throw new UsageError(message);
  return text as T;
}

/** Sets what one option token says on `a`. */
function applyOption(a: Args, name: OptionName, value: () => string): void {
  switch (name) {
    case 'json':
      a.json = true;
      break;
    case 'dry-run':
      a.dryRun = true;
      break;
    case 'verify-local':
      a.verifyLocal = true;
      break;
    case 'shard':
      a.shard = value();
      if (!/^\s*\d+\s*\/\s*\d+\s*$/.test(a.shard)) throw new UsageError('--shard takes K/N, shard K (1 to N) of N shards, e.g. --shard 2/4');
      break;
    case 'shards':
      a.shards = wholeNumber(value(), 1, 1024, '--shards takes the number of shards, 1 to 1024');
      break;
    case 'image':
      a.image = value();
      break;
    case 'volume-claim':
      a.volumeClaim = value();
      break;
    case 'quiet':
      a.quiet = true;
      break;
    case 'verbose':
      a.verbose = true;
      break;
    case 'step':
      a.steps.push(value());
      break;
    case 'concurrency':
      a.concurrency = wholeNumber(value(), 1, 512, '--concurrency takes a whole number from 1 to 512');
      break;
    case 'limit':
      a.limit = Number(value());
      break;
    case 'port':
      a.port = wholeNumber(value(), 0, 65535, '--port takes a port number');
      break;
    case 'host':
      a.host = value();
      break;
    case 'no-schedule':
      a.schedule = false;
      break;
    case 'keep':
      a.keep = wholeNumber(value(), 0, 1_000_000, '--keep takes a whole number of versions to keep');
      break;
    case 'to':
      a.to = value();
      break;
    case 'pipeline':
      a.pipeline = value();
      break;
    case 'no-pretrained':
      a.pretrained = false;
      break;
    case 'label':
      a.label = value();
      break;
    case 'unlabel':
      a.unlabel = true;
      break;
    case 'category':
      a.category = oneOf(value(), ['training', 'validation', 'testing'] as const, '--category takes training, validation or testing');
      break;
    case 'png':
      a.png = value();
      break;
    case 'help':
      a.command = 'help';
      break;
  }
}

/** Checks an option token against OPTIONS; the first problem on the line is the one reported. */
function option(a: Args, t: OptionToken): void {
  const spelled = t.inlineValue ? `${t.rawName}=${t.value}` : t.rawName;
  if (!Object.hasOwn(OPTIONS, t.name)) throw new UsageError(`unknown option ${spelled}`);
  const name = t.name as OptionName;
  if (OPTIONS[name].type === 'boolean' && t.value !== undefined) throw new UsageError(`${t.rawName} takes no value`);
  applyOption(a, name, () => {
    if (t.value === undefined) throw new UsageError(`${t.rawName} needs a value`);
    return t.value;
  });
}

export function parseArgs(argv: string[]): Args {
  const a: Args = { json: false, dryRun: false, verifyLocal: false, quiet: false, verbose: false, steps: [], files: [], schedule: true, pretrained: true, unlabel: false };
  // Not strict: node's own messages for unknown options and missing values are replaced by ours
  // below, token by token in command-line order, so the first problem is the one reported.
  const { tokens } = nodeParseArgs({ args: argv, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const positional: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') positional.push(t.value);
    else if (t.kind === 'option') option(a, t); // '--' ends the options; what follows is positional
  }
  a.command ??= positional[0];
  a.file = positional[1];
  a.files = positional.slice(1);
  return a;
}

export function requireFile(a: Args): string {
  if (!a.file) throw new UsageError(`${a.command} needs a pipeline file: data-pipelines ${a.command} FILE`);
  return a.file;
}
