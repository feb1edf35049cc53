// Loader fuzzing: 10,000 mutations of valid pipeline files through the core's loader, in process.
// Each mutated file must load without a throw, within a second, with positioned diagnostics when it
// is invalid, without echoing a planted secret, and (when valid) re-load as valid from its own
// JSON.stringify. Then a sample of invalid mutations goes through `node dist/cli.js validate`.
//
//   node out/test/reliability/fuzz.js        (after: node esbuild.mjs && npx tsc -p .)
//   FUZZ_SEED=1234 FUZZ_N=10000 node out/test/reliability/fuzz.js
//   RELIABILITY fuzz: seed=… mutations=10000 crashes=0 max ms=… p99 ms=… …
//
// Failures are written, byte for byte, to /tmp/dsp-fuzz-<seed>/ (the mutated file as given to the
// loader, and a shrunk version when shrinking kept the failure), with a .txt saying which check failed.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadPipelineFile, loadPipelineText, type LoadedPipeline } from '../../src/core/pipeline/validate';
import { generateDemo } from '../../src/demo/generate';
import { CLI, ROOT, tempRoot } from './common';

const PART = 'fuzz';
const log = (s: string) => process.stderr.write(`${PART}: ${s}\n`);
const N = Number(process.env.FUZZ_N ?? 10_000);
const CLI_SAMPLES = Number(process.env.FUZZ_CLI_SAMPLES ?? 30);
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
const CANARY = 'CANARYwJalrXUtnFEMI';
/** Any 8 consecutive characters of the canary in a message count as a leak. */
const CANARY_PIECES = Array.from({ length: CANARY.length - 7 }, (_, i) => CANARY.slice(i, i + 8));
const SLOW_MS = 1000;
const REPRO_DIR = `/tmp/dsp-fuzz-${SEED}`;

// ---------------------------------------------------------------------------------------------
// Seeded PRNG (mulberry32)

let state = SEED;
function rand(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1)); // inclusive
const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];

// ---------------------------------------------------------------------------------------------
// Seeds

interface Seed {
  name: string;
  text: string;
  file: string;
}

function edgeImpulseExample(): string {
  const src = fs.readFileSync(path.join(ROOT, 'test', 'unit', 'validate.test.ts'), 'utf8');
  const m = /export const EDGE_IMPULSE_EXAMPLE = `([^`]*)`/.exec(src);
  if (!m) throw new Error('EDGE_IMPULSE_EXAMPLE not found in test/unit/validate.test.ts');
  const text = m[1].replace('"secretKeyEncrypted": "xxxxxx"', '"secretKey": "${env:SK}"');
  if (!text.includes('"secretKey": "${env:SK}"')) throw new Error('EDGE_IMPULSE_EXAMPLE: secretKeyEncrypted not found');
  return text;
}

function ownSeeds(): [string, unknown][] {
  return [
    [
      's3-full',
      {
        $schema: './pipeline.schema.json',
        name: 'S3 with everything',
        description: 'An S3-compatible import with keys, a session token and globs',
        dataset: 'datasets/s3',
        intervalStr: '4h',
        notificationWebhook: 'https://hooks.example.com/pipelines',
        notificationWebhookSecret: '${secret:WEBHOOK_SECRET}',
        emailRecipients: ['ml-team@example.com'],
        whenToEmail: 'on_new_data',
        steps: [
          {
            name: 'Fetch from MinIO',
            builtinTransformationBlock: {
              type: 's3-to-project',
              path: 's3://bucket/images/',
              endpoint: 'http://127.0.0.1:9000',
              region: 'us-east-1',
              accessKey: 'AKIAEXAMPLE',
              secretKey: '${env:SK}',
              sessionToken: '${secret:SESSION}',
              forcePathStyle: true,
              requesterPays: false,
              category: 'split',
              labelStrategy: 'infer-from-file-name',
              splitRatio: { training: 0.7, validation: 0.1, testing: 0.2 },
              include: ['**/*.jpg', 'cars/**'],
              exclude: ['**/tmp/**'],
              deleteRemoved: true,
              allowDuplicates: false,
              concurrency: 32,
            },
          },
          { name: 'Refresh', builtinTransformationBlock: { type: 'project-action', refreshDataExplorer: true } },
        ],
      },
    ],
    [
      's3-profile',
      {
        name: 'S3 by profile',
        schedule: '*/30 * * * 1-5',
        steps: [{ name: 'Fetch', builtinTransformationBlock: { type: 's3-to-project', path: 's3://public-bucket', profile: 'default', label: 'cars', splitRatio: 0.9 } }],
      },
    ],
    [
      'gcs',
      {
        name: 'GCS import',
        steps: [
          {
            name: 'Fetch from GCS',
            builtinTransformationBlock: { type: 'gcs-to-project', path: 'gs://my-bucket/images/', projectId: 'proj-1', credentials: '${env:GCS_KEY}', apiEndpoint: 'http://127.0.0.1:4443', category: 'training' },
          },
        ],
      },
    ],
    [
      'azure',
      {
        name: 'Azure import',
        whenToEmail: 'never',
        steps: [
          { name: 'Fetch with key', builtinTransformationBlock: { type: 'azure-to-project', path: 'az://images/cars/', accountName: 'acct', accountKey: '${env:SK}', endpoint: 'http://127.0.0.1:10000/devstoreaccount1', category: 'testing' } },
          { name: 'Fetch with SAS', builtinTransformationBlock: { type: 'azure-to-project', path: 'az://images/other/', accountName: 'acct', sasToken: '${secret:SAS}', labelStrategy: 'keep-unlabeled' } },
          { name: 'Fetch with connection string', builtinTransformationBlock: { type: 'azure-to-project', path: 'az://c', connectionString: '${secret:AZ_CONN}' } },
        ],
      },
    ],
    [
      'folder',
      {
        name: 'Folder import',
        dataset: 'datasets/folder',
        steps: [{ name: 'Fetch from folder', builtinTransformationBlock: { type: 'folder-to-project', path: 'sources/infer-from-folder', category: 'split', labelStrategy: 'infer-from-folder-name', include: ['**/*.png'] } }],
      },
    ],
    [
      'actions',
      {
        name: 'Every project action',
        steps: [
          { name: 'Fetch', builtinTransformationBlock: { type: 'folder-to-project', path: 'sources/train-test' } },
          { name: 'Refresh', builtinTransformationBlock: { type: 'project-action', refreshDataExplorer: true } },
          { name: 'Retrain', builtinTransformationBlock: { type: 'project-action', retrainModel: true, trainCommand: 'python train.py' } },
          { name: 'Version', builtinTransformationBlock: { type: 'project-action', createVersion: true } },
          { name: 'Deploy', builtinTransformationBlock: { type: 'project-action', buildBinary: 'zip', buildBinaryModelType: 'float32' } },
        ],
      },
    ],
    [
      'custom',
      {
        name: 'Custom blocks',
        steps: [
          {
            name: 'Resize',
            transformationBlock: { command: 'python3 blocks/resize.py --size 96', cwd: 'blocks', timeoutSeconds: 600, env: { API_TOKEN: '${secret:API_TOKEN}', SK: '${env:SK}', MODE: 'fast' } },
            parameters: { size: 96, grayscale: false, names: ['a', 'b'] },
            enabled: true,
          },
          { name: 'Remote block', transformationBlockId: 42, transformationBlock: { command: 'node block.js' }, enabled: false },
        ],
      },
    ],
    [
      'bare-steps',
      [
        { name: 'Fetch', builtinTransformationBlock: { type: 's3-to-project', path: 's3://b/p/', accessKey: 'AKIA', secretKey: '${env:SK}' } },
        { name: 'Refresh', builtinTransformationBlock: { type: 'project-action', refreshDataExplorer: true } },
      ],
    ],
  ];
}

// ---------------------------------------------------------------------------------------------
// Mutations

type Kind = 'truncate' | 'bytes' | 'typeSwap' | 'huge' | 'deep' | 'dupKey' | 'unicode' | 'bom';
const KINDS: Kind[] = ['truncate', 'bytes', 'typeSwap', 'huge', 'deep', 'dupKey', 'unicode', 'bom'];
const WEIGHTS: Record<Kind, number> = { truncate: 14, bytes: 20, typeSwap: 20, huge: 0.4, deep: 3, dupKey: 12, unicode: 18, bom: 10 };

interface Mutant {
  kind: Kind;
  variant: string;
  seed: string;
  /** Loaded with loadPipelineFile from these bytes when set, else loadPipelineText(text). */
  bytes?: Buffer;
  text?: string;
  canary: boolean;
  /** How the canary was planted: the bare literal, or the literal inside a broken ${…} reference. */
  canaryForm?: 'literal' | 'broken-ref';
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JPath = (string | number)[];

function allPaths(v: Json, p: JPath = [], out: JPath[] = []): JPath[] {
  out.push(p);
  if (Array.isArray(v)) v.forEach((x, i) => allPaths(x, [...p, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) allPaths(x, [...p, k], out);
  return out;
}
const getAt = (v: Json, p: JPath): Json => p.reduce<any>((o, k) => o[k], v);
function setAt(v: Json, p: JPath, x: Json): Json {
  if (!p.length) return x;
  const parent = getAt(v, p.slice(0, -1)) as any;
  parent[p[p.length - 1]] = x;
  return v;
}
const clone = (v: Json): Json => JSON.parse(JSON.stringify(v));

/** JSON text with an extra [key, value] pair written into the object at `at` (before or after the rest). */
function serializeWithDup(v: Json, at: JPath, key: string, value: Json, first: boolean, indent: boolean): string {
  const nl = indent ? '\n' : '';
  const emit = (x: Json, p: JPath): string => {
    if (Array.isArray(x)) return `[${x.map((y, i) => emit(y, [...p, i])).join(',' + nl)}]`;
    if (x && typeof x === 'object') {
      const parts = Object.entries(x).map(([k, y]) => `${JSON.stringify(k)}: ${emit(y, [...p, k])}`);
      if (JSON.stringify(p) === JSON.stringify(at)) {
        const extra = `${JSON.stringify(key)}: ${JSON.stringify(value)}`;
        if (first) parts.unshift(extra);
        else parts.push(extra);
      }
      return `{${nl}${parts.join(',' + nl)}${nl}}`;
    }
    return JSON.stringify(x);
  };
  return emit(v, []);
}

function stringify(v: Json): string {
  return rand() < 0.5 ? JSON.stringify(v, null, pick([2, 4, '\t'])) : JSON.stringify(v);
}

const SECRET_KEYS = ['secretKey', 'sessionToken', 'accountKey', 'sasToken', 'connectionString', 'credentials'];

/** Puts the canary, as a literal, into one secret field of the seed (the text stays valid JSON). */
let lastPlantForm: 'literal' | 'broken-ref' = 'literal';
function plantCanary(v: Json): { value: Json; planted: boolean } {
  const v2 = clone(v);
  const secrets = allPaths(v2).filter((p) => typeof p[p.length - 1] === 'string' && SECRET_KEYS.includes(p[p.length - 1] as string) && typeof getAt(v2, p) === 'string');
  if (!secrets.length) return { value: v2, planted: false };
  // Mostly the bare literal; sometimes the literal pasted into a broken reference, as a user might:
  // the field still holds the secret, so no message may echo it.
  const literal = rand() < 0.8 ? CANARY : pick(['${' + CANARY, '${env:' + CANARY, '${secret:' + CANARY + '/K7MDENG}', '${' + CANARY + '}']);
  lastPlantForm = literal === CANARY ? 'literal' : 'broken-ref';
  setAt(v2, pick(secrets), literal);
  return { value: v2, planted: true };
}

const ODD: [string, string][] = [
  ['lone-high-escaped', '\\ud800'],
  ['lone-low-escaped', '\\udfff'],
  ['swapped-pair-escaped', '\\udc00\\ud800'],
  ['high-then-letter', '\\ud83dA'],
  ['lone-high-raw', '\ud800'],
  ['rtl-mark', '\u200f'],
  ['rlo', '\u202e'],
  ['lro-pdf', '\u202dabc\u202c'],
  ['nul-escaped', '\\u0000'],
  ['nul-raw', '\u0000'],
  ['feff', '\ufeff'],
  ['zwj-zwsp', '\u200d\u200b'],
  ['combining', 'e\u0301\u0308\u0323'],
  ['combining-many', 'a' + '\u0301'.repeat(500)],
  ['esc-escaped', '\\u001b[31mred\\u001b[0m'],
  ['cr-escaped', '\\rOVERWRITE'],
  ['bell-backspace-escaped', '\\u0007\\b\\b'],
  ['line-sep', '\u2028\u2029'],
  ['nbsp', '\u00a0'],
  ['astral', '\u{1F600}\u{10FFFF}'],
  ['del-c1', '\u007f\u0085\u009b'],
];

function stringTokenSpans(text: string): [number, number][] {
  const spans: [number, number][] = [];
  const re = /"(?:[^"\\\n]|\\.)*"/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) spans.push([m.index, m.index + m[0].length]);
  return spans;
}

function mutate(kind: Kind, seed: Seed, forceVariant?: number): Mutant {
  let value: Json = JSON.parse(seed.text);
  let canary = false;
  if (rand() < 0.35 || kind === 'dupKey') {
    const r = plantCanary(value);
    if (r.planted && (kind !== 'dupKey' || rand() < 0.5)) [value, canary] = [r.value, true];
  }
  const base = canary ? stringify(value) : rand() < 0.5 ? seed.text : stringify(value);
  const m: Mutant = { kind, variant: '', seed: seed.name, canary, canaryForm: canary ? lastPlantForm : undefined };
  const v = (n: number) => (forceVariant !== undefined ? forceVariant % n : int(0, n - 1));
  switch (kind) {
    case 'truncate': {
      const at = int(0, base.length);
      m.variant = `at ${at}/${base.length}`;
      m.text = base.slice(0, at);
      if (rand() < 0.3) m.bytes = Buffer.from(m.text); // through the file loader too
      break;
    }
    case 'bytes': {
      const b = Buffer.from(base, 'utf8');
      const ops = int(1, 8);
      const out: number[] = [...b];
      const names: string[] = [];
      const interesting = [0x00, 0xff, 0xfe, 0xc0, 0xc1, 0x80, 0xbf, 0xe2, 0xed, 0xf0, 0xf4, 0xf8, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x0a, 0x0d, 0x1b, 0x7f];
      for (let k = 0; k < ops; k++) {
        const op = int(0, 2);
        const at = int(0, Math.max(0, out.length - 1));
        const byte = rand() < 0.5 ? pick(interesting) : int(0, 255);
        if (op === 0 && out.length) {
          out[at] = rand() < 0.5 ? out[at] ^ (1 << int(0, 7)) : byte;
          names.push(`flip@${at}`);
        } else if (op === 1) {
          out.splice(at, 0, byte);
          names.push(`ins@${at}`);
        } else if (out.length) {
          out.splice(at, int(1, 4));
          names.push(`del@${at}`);
        }
      }
      m.variant = names.join(',');
      m.bytes = Buffer.from(out);
      break;
    }
    case 'typeSwap': {
      const times = rand() < 0.8 ? 1 : int(2, 5);
      const names: string[] = [];
      for (let k = 0; k < times; k++) {
        const p = pick(allPaths(value));
        const cur = getAt(value, p);
        const alternatives: Json[] = ['', 'text', '${env:SK}', 0, -1, 1.5, 1e308, 2 ** 53 + 1, [], [1, 'a'], {}, { a: 1 }, null, true, false];
        const cands = alternatives.filter((x) => (Array.isArray(x) ? 'array' : x === null ? 'null' : typeof x) !== (Array.isArray(cur) ? 'array' : cur === null ? 'null' : typeof cur));
        const x = clone(pick(cands));
        value = setAt(value, p, x);
        names.push(`${JSON.stringify(p)}=${JSON.stringify(x)}`);
        if (!p.length) break;
      }
      m.variant = names.join(' ');
      m.text = stringify(value);
      if (rand() < 0.25) m.bytes = Buffer.from(m.text);
      break;
    }
    case 'huge': {
      const MB = 1 << 20;
      const strings = allPaths(value).filter((p) => typeof getAt(value, p) === 'string');
      const variant = v(6);
      const p = pick(strings.length ? strings : [[]]);
      if (variant === 0) value = setAt(value, p, 'x'.repeat(MB));
      else if (variant === 1) value = setAt(value, p, 'é'.repeat(MB / 2));
      else if (variant === 2) value = setAt(value, p, '${env:' + 'A'.repeat(MB) + '}');
      else if (variant === 3) value = setAt(value, p, '${'.repeat(MB / 2));
      else if (variant === 4) {
        // A 1 MB property name where the schema allows none.
        const objs = allPaths(value).filter((q) => { const o = getAt(value, q); return !!o && typeof o === 'object' && !Array.isArray(o); });
        const o = getAt(value, pick(objs)) as Record<string, Json>;
        o['k'.repeat(MB)] = 1;
      } else value = setAt(value, p, '\u0000'.repeat(MB / 8)); // escaped as \u0000 by stringify: 768 KB
      m.variant = `v${variant} at ${JSON.stringify(p)}`;
      m.text = JSON.stringify(value);
      if (rand() < 0.25) m.bytes = Buffer.from(m.text);
      break;
    }
    case 'deep': {
      const depth = pick([5000, 100_000]);
      const variant = v(6);
      const open = variant % 2 ? '{"a":' : '[';
      const close = variant % 2 ? '}' : ']';
      let text: string;
      if (variant < 2) text = open.repeat(depth) + '1' + close.repeat(depth); // balanced
      else if (variant < 4) text = open.repeat(depth); // unbalanced
      else {
        // Deep value inside a real pipeline.
        const at = base.indexOf('"steps"');
        const colon = base.indexOf(':', Math.max(0, at)) + 1;
        text = base.slice(0, colon) + open.repeat(depth) + '1' + close.repeat(depth) + (rand() < 0.5 ? ',' : '') + base.slice(colon);
      }
      m.variant = `${variant < 2 ? 'balanced' : variant < 4 ? 'unbalanced' : 'inside'} ${open}x${depth}`;
      m.text = text;
      if (rand() < 0.25) m.bytes = Buffer.from(text);
      break;
    }
    case 'dupKey': {
      const variant = v(3);
      const objs = allPaths(value).filter((q) => { const o = getAt(value, q); return !!o && typeof o === 'object' && !Array.isArray(o); });
      let at: JPath = pick(objs);
      let key: string;
      let dupValue: Json;
      let first = rand() < 0.5;
      if (variant === 2) {
        // A duplicated secretKey: a literal and a ${env:} reference, in either order.
        const blocks = objs.filter((q) => q[q.length - 1] === 'builtinTransformationBlock' && typeof getAt(value, q) === 'object');
        at = blocks.length ? pick(blocks) : at;
        const o = getAt(value, at) as Record<string, Json>;
        key = 'secretKey';
        const literalFirst = rand() < 0.5;
        o[key] = literalFirst ? '${env:SK}' : CANARY; // the pair written by the serializer holds the other one
        dupValue = literalFirst ? CANARY : '${env:SK}';
        first = literalFirst;
        m.canary = true;
        m.canaryForm ??= 'literal';
      } else {
        const o = getAt(value, at) as Record<string, Json>;
        const keys = Object.keys(o);
        key = keys.length ? pick(keys) : 'name';
        // The canary only ever goes where a secret belongs: other fields may echo their values.
        dupValue = variant === 0 && key in o ? clone(o[key]) : SECRET_KEYS.includes(key) && rand() < 0.5 ? CANARY : pick<Json>(['other', 7, null, [], { x: 1 }]);
        if (dupValue === CANARY) [m.canary, m.canaryForm] = [true, m.canaryForm ?? 'literal'];
      }
      m.variant = `${['same', 'different', 'secretKey literal+ref'][variant]} ${JSON.stringify(key)} at ${JSON.stringify(at)} ${first ? 'first' : 'last'}`;
      m.text = serializeWithDup(value, at, key, dupValue, first, rand() < 0.5);
      if (rand() < 0.25) m.bytes = Buffer.from(m.text);
      break;
    }
    case 'unicode': {
      const [name, s] = forceVariant !== undefined ? ODD[forceVariant % ODD.length] : pick(ODD);
      const spans = stringTokenSpans(base);
      let text: string;
      let where: string;
      const mode = int(0, 9);
      if (mode < 6 && spans.length) {
        // Inside a string (a key or a value): usually still valid JSON.
        const [a, b] = pick(spans);
        const at = int(a + 1, b - 1);
        text = base.slice(0, at) + s + base.slice(at);
        where = `in string@${at}`;
      } else if (mode < 8 && spans.length) {
        // Replace a whole string's content.
        const [a, b] = pick(spans);
        text = base.slice(0, a + 1) + s + base.slice(b - 1);
        where = `replace string@${a}`;
      } else {
        const at = int(0, base.length);
        text = base.slice(0, at) + s + base.slice(at);
        where = `anywhere@${at}`;
      }
      m.variant = `${name} ${where}`;
      m.text = text;
      if (rand() < 0.3) m.bytes = Buffer.from(text, 'utf8'); // raw lone surrogates become U+FFFD here
      break;
    }
    case 'bom': {
      const variant = v(8);
      const u8 = Buffer.from(base, 'utf8');
      const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
      const names = ['utf8-bom', 'double-utf8-bom', 'utf16be-bom-bytes+utf8', 'utf16le-bom-bytes+utf8', 'utf16le-whole', 'utf16be-whole', 'utf8-bom-mid', 'utf32le-bom+utf8'];
      let b: Buffer;
      if (variant === 0) b = Buffer.concat([BOM, u8]);
      else if (variant === 1) b = Buffer.concat([BOM, BOM, u8]);
      else if (variant === 2) b = Buffer.concat([Buffer.from([0xfe, 0xff]), u8]);
      else if (variant === 3) b = Buffer.concat([Buffer.from([0xff, 0xfe]), u8]);
      else if (variant === 4) b = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(base, 'utf16le')]);
      else if (variant === 5) b = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(base, 'utf16le').swap16()]);
      else if (variant === 6) {
        const at = int(0, u8.length);
        b = Buffer.concat([u8.subarray(0, at), BOM, u8.subarray(at)]);
      } else b = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0x00]), u8]);
      m.variant = names[variant];
      m.bytes = b;
      break;
    }
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Checks

interface Failure {
  check: 'crash' | 'slow' | 'unpositioned' | 'canary' | 'idempotence';
  detail: string;
}

/** The text a file load must position its problems in: UTF-8 decoded, leading BOM dropped. */
function decodedText(b: Buffer): string {
  return new TextDecoder('utf-8', { fatal: false, ignoreBOM: false }).decode(b);
}

function positionProblem(r: LoadedPipeline, textLength: number): string | undefined {
  const hasError = r.problems.some((p) => p.severity === 'error');
  if (!r.pipeline && !hasError) return `invalid (no pipeline) but no error problem: ${JSON.stringify(r.problems.map((p) => `${p.severity}: ${p.message}`)).slice(0, 300)}`;
  for (const p of r.problems) {
    const g = p.range;
    const ok =
      !!g &&
      Number.isInteger(g.line) &&
      Number.isInteger(g.column) &&
      Number.isInteger(g.offset) &&
      g.line >= 1 &&
      g.column >= 1 &&
      g.offset >= 0 &&
      g.offset <= textLength;
    if (!ok) return `problem without a valid position (text length ${textLength}): ${JSON.stringify(g)} ${p.severity}: ${p.message.slice(0, 200)}`;
  }
  return undefined;
}

function leaks(r: LoadedPipeline): string | undefined {
  for (const p of r.problems) {
    const s = p.message + (p.data ? JSON.stringify(p.data) : '');
    const piece = CANARY_PIECES.find((c) => s.includes(c));
    if (piece) return `message holds "${piece}": ${p.message.slice(0, 300)}`;
  }
  return undefined;
}

function load(m: Mutant, file: string): LoadedPipeline {
  if (m.bytes) {
    fs.writeFileSync(file, m.bytes);
    return loadPipelineFile(file);
  }
  return loadPipelineText(m.text!, file);
}

/** Runs every check on one mutant; `ms` gets the load's duration. */
function check(m: Mutant, file: string, timing?: { ms: number }): { failures: Failure[]; result?: LoadedPipeline } {
  const failures: Failure[] = [];
  let r: LoadedPipeline;
  const t0 = performance.now();
  try {
    r = load(m, file);
  } catch (err) {
    const ms = performance.now() - t0;
    if (timing) timing.ms = ms;
    failures.push({ check: 'crash', detail: (err as Error)?.stack ?? String(err) });
    return { failures };
  }
  const ms = performance.now() - t0;
  if (timing) timing.ms = ms;
  if (ms > SLOW_MS) failures.push({ check: 'slow', detail: `load took ${ms.toFixed(0)} ms` });
  const len = m.bytes ? decodedText(m.bytes).length : m.text!.length;
  const pos = positionProblem(r, len);
  if (pos) failures.push({ check: 'unpositioned', detail: pos });
  const leak = leaks(r);
  if (leak) failures.push({ check: 'canary', detail: leak });
  if (r.pipeline) {
    let again: LoadedPipeline | undefined;
    try {
      again = loadPipelineText(JSON.stringify(r.pipeline), file);
    } catch (err) {
      failures.push({ check: 'crash', detail: `re-loading JSON.stringify(pipeline): ${(err as Error)?.stack ?? String(err)}` });
    }
    if (again && !again.pipeline)
      failures.push({ check: 'idempotence', detail: `JSON.stringify(pipeline) is invalid: ${again.problems.filter((p) => p.severity === 'error').map((p) => p.message).join(' | ').slice(0, 400)}` });
  }
  return { failures, result: r };
}

/** Greedy delta shrinking of a failing mutant's content, keeping the same check failing. */
function shrink(m: Mutant, failing: Failure['check'], file: string, budget = 400): Mutant {
  const asBytes = !!m.bytes;
  let cur: Buffer | string = asBytes ? m.bytes! : m.text!;
  const still = (c: Buffer | string): boolean => {
    const t: Mutant = { ...m, bytes: asBytes ? (c as Buffer) : undefined, text: asBytes ? undefined : (c as string) };
    return check(t, file).failures.some((f) => f.check === failing);
  };
  if (failing === 'slow' || cur.length > 200_000) return m; // too costly to shrink by re-running
  let chunk = Math.max(1, Math.floor(cur.length / 2));
  while (chunk >= 1 && budget > 0) {
    let removed = false;
    for (let at = 0; at + chunk <= cur.length && budget > 0; ) {
      const cand: Buffer | string = asBytes ? Buffer.concat([(cur as Buffer).subarray(0, at), (cur as Buffer).subarray(at + chunk)]) : (cur as string).slice(0, at) + (cur as string).slice(at + chunk);
      budget--;
      if (still(cand)) {
        cur = cand;
        removed = true;
      } else at += chunk;
    }
    if (!removed) chunk = Math.floor(chunk / 2);
  }
  return { ...m, bytes: asBytes ? (cur as Buffer) : undefined, text: asBytes ? undefined : (cur as string) };
}

function saveRepro(name: string, m: Mutant, note: string): string {
  fs.mkdirSync(REPRO_DIR, { recursive: true });
  const ext = m.bytes ? 'bytes.pipeline.json' : 'text.pipeline.json';
  const file = path.join(REPRO_DIR, `${name}.${ext}`);
  fs.writeFileSync(file, m.bytes ?? m.text!);
  fs.writeFileSync(path.join(REPRO_DIR, `${name}.txt`), `${note}\nload with: ${m.bytes ? 'loadPipelineFile(file)' : "loadPipelineText(fs.readFileSync(file, 'utf8'), file)"}\n`);
  return file;
}

// ---------------------------------------------------------------------------------------------
// CLI sample

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}
function runCli(args: string[], cwd: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

// C0 controls other than \n and \t (ESC, CR, NUL, BEL, backspace, …) and DEL.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;
const describeControls = (s: string) => [...new Set([...s].filter((c) => CONTROL.test(c)))].map((c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0')).join(' ');

async function cliSample(samples: { m: Mutant; idx: number }[], dir: string) {
  const cliDir = path.join(dir, 'cli');
  fs.mkdirSync(cliDir, { recursive: true });
  const problems: string[] = [];
  const controlFiles: { file: string; chars: string; line: string }[] = [];
  let checked = 0;
  const jobs = samples.map(({ m, idx }) => async () => {
    const file = path.join(cliDir, `m${idx}-${m.kind}.pipeline.json`);
    fs.writeFileSync(file, m.bytes ?? Buffer.from(m.text!, 'utf8'));
    const [human, json] = await Promise.all([runCli(['validate', file], dir), runCli(['validate', '--json', file], dir)]);
    checked++;
    const where = `#${idx} ${m.kind} (${m.variant.slice(0, 80)}) ${file}`;
    if (human.code === 0 || human.code === null) problems.push(`${where}: validate exited ${human.code} for an invalid file`);
    if (json.code === 0 || json.code === null) problems.push(`${where}: validate --json exited ${json.code} for an invalid file`);
    try {
      const doc = JSON.parse(json.stdout);
      if (doc.valid !== false) problems.push(`${where}: validate --json says valid=${doc.valid}`);
    } catch (e) {
      problems.push(`${where}: validate --json stdout is not JSON (${(e as Error).message.slice(0, 100)}); first bytes ${JSON.stringify(json.stdout.slice(0, 80))}`);
    }
    const humanText = human.stdout + human.stderr;
    const lines = human.stdout.split('\n').filter((l) => l.startsWith(file + ':'));
    if (!lines.some((l) => /^.*:\d+:\d+: (error|warning|info): /.test(l))) problems.push(`${where}: no FILE:LINE:COL: error line in the human output: ${JSON.stringify(humanText.slice(0, 200))}`);
    if (CONTROL.test(humanText)) {
      const bad = humanText.split('\n').find((l) => CONTROL.test(l)) ?? '';
      controlFiles.push({ file, chars: describeControls(humanText), line: JSON.stringify(bad.slice(0, 240)) });
    }
  });
  // A few at a time: each is a fresh node process.
  const workers = Array.from({ length: Math.max(2, Math.min(6, os.cpus().length)) }, async () => {
    for (let job = jobs.shift(); job; job = jobs.shift()) await job();
  });
  await Promise.all(workers);
  return { checked, problems, controlFiles };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  const dir = tempRoot('fuzz');
  log(`seed=${SEED} (set FUZZ_SEED to repeat) dir=${dir}`);
  fs.rmSync(REPRO_DIR, { recursive: true, force: true });
  const demoFiles = generateDemo(dir, 2);
  const seeds: Seed[] = demoFiles.map((f) => ({ name: path.basename(f), text: fs.readFileSync(f, 'utf8'), file: f }));
  seeds.push({ name: 'edge-impulse-example', text: edgeImpulseExample(), file: path.join(dir, 'edge-impulse-example.pipeline.json') });
  for (const [name, v] of ownSeeds()) seeds.push({ name, text: JSON.stringify(v, null, 2) + '\n', file: path.join(dir, `${name}.pipeline.json`) });
  // Every seed must be valid as it stands, through both entry points.
  for (const s of seeds) {
    fs.writeFileSync(s.file, s.text);
    for (const r of [loadPipelineText(s.text, s.file), loadPipelineFile(s.file)]) {
      if (!r.pipeline) throw new Error(`seed ${s.name} is not valid: ${r.problems.map((p) => `${p.range.line}:${p.range.column} ${p.severity}: ${p.message}`).join(' | ')}`);
    }
  }

  const scratch = path.join(dir, 'fuzz-scratch.pipeline.json');
  const durations: number[] = [];
  const counts: Record<Failure['check'], number> = { crash: 0, slow: 0, unpositioned: 0, canary: 0, idempotence: 0 };
  const firstStacks: string[] = [];
  const reported: { check: string; detail: string; file: string; shrunk?: string; mutant: string }[] = [];
  const perCheckSaved: Record<string, number> = {};
  const perKind: Record<string, { n: number; invalid: number; file: number; ms: number }> = {};
  const cliCandidates: Map<Kind, { m: Mutant; idx: number }[]> = new Map();
  const leakForms = { literal: 0, 'broken-ref': 0 };
  let invalid = 0;
  let canaryPlanted = 0;
  let fileLoads = 0;

  const totalW = KINDS.reduce((s, k) => s + WEIGHTS[k], 0);
  const chooseKind = (): Kind => {
    let x = rand() * totalW;
    for (const k of KINDS) if ((x -= WEIGHTS[k]) < 0) return k;
    return 'bytes';
  };
  // The first mutations go through every kind's variants deterministically, so each run covers them all.
  const forced: [Kind, number][] = [];
  for (let i = 0; i < 12; i++) forced.push(['deep', i]);
  for (let i = 0; i < 16; i++) forced.push(['bom', i]);
  for (let i = 0; i < 12; i++) forced.push(['huge', i]);
  for (let i = 0; i < 12; i++) forced.push(['dupKey', i]);
  for (let i = 0; i < ODD.length * 2; i++) forced.push(['unicode', i]);

  for (let i = 0; i < N; i++) {
    const [kind, fv] = i < forced.length ? forced[i] : [chooseKind(), undefined];
    const seed = fv !== undefined ? seeds[fv % seeds.length] : pick(seeds);
    const tKind = performance.now();
    const m = mutate(kind, seed, fv);
    if (m.canary) canaryPlanted++;
    if (m.bytes) fileLoads++;
    const file = m.bytes ? scratch : path.join(dir, `mutant-${i}.pipeline.json`);
    const timing = { ms: 0 };
    const { failures, result } = check(m, file, timing);
    durations.push(timing.ms);
    const pk = (perKind[kind] ??= { n: 0, invalid: 0, file: 0, ms: 0 });
    pk.n++;
    pk.ms += performance.now() - tKind;
    if (m.bytes) pk.file++;
    if (result && !result.pipeline) {
      invalid++;
      pk.invalid++;
      const list = cliCandidates.get(kind) ?? [];
      // Keep a small reservoir per kind for the CLI sample; large files are fine but not many.
      if (list.length < 12) list.push({ m, idx: i });
      else if (rand() < 0.02) list[int(0, list.length - 1)] = { m, idx: i };
      cliCandidates.set(kind, list);
    }
    for (const f of failures) {
      counts[f.check]++;
      if (f.check === 'canary') leakForms[m.canaryForm ?? 'literal']++;
      if (f.check === 'crash' && firstStacks.length < 5) firstStacks.push(`#${i} ${kind} ${m.variant}: ${f.detail}`);
      const saved = (perCheckSaved[f.check] ??= 0);
      if (saved < 8) {
        perCheckSaved[f.check]++;
        const name = `${f.check}-${i}-${kind}`;
        const desc = `#${i} kind=${kind} variant=${m.variant} seed=${m.seed}`;
        const reproFile = saveRepro(name, m, `check failed: ${f.check}\n${desc}\n${f.detail}`);
        let shrunkFile: string | undefined;
        if (saved < 3) {
          const s = shrink(m, f.check, file);
          const sLen = (s.bytes ?? s.text!).length;
          if (sLen < (m.bytes ?? m.text!).length) {
            const again = check(s, file).failures.find((g) => g.check === f.check);
            shrunkFile = saveRepro(`${name}-shrunk`, s, `check failed: ${f.check} (shrunk from ${desc})\n${again?.detail ?? f.detail}`);
          }
        }
        reported.push({ check: f.check, detail: f.detail.split('\n')[0].slice(0, 300), file: reproFile, shrunk: shrunkFile, mutant: desc });
      }
    }
    if (i > 0 && i % 2000 === 0) log(`${i} mutations, ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const inProcessS = (performance.now() - started) / 1000;

  // CLI: ~30 invalid mutants, spread over the kinds.
  const sample: { m: Mutant; idx: number }[] = [];
  const lists = KINDS.map((k) => [...(cliCandidates.get(k) ?? [])]);
  for (let round = 0; sample.length < CLI_SAMPLES && lists.some((l) => l.length); round++) {
    for (const l of lists) if (l.length && sample.length < CLI_SAMPLES) sample.push(l.splice(int(0, l.length - 1), 1)[0]);
  }
  const cli = await cliSample(sample, dir);

  const sorted = [...durations].sort((a, b) => a - b);
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
  const max = sorted[sorted.length - 1] ?? 0;
  const totalS = (performance.now() - started) / 1000;

  for (const [k, v] of Object.entries(perKind)) log(`kind ${k}: ${v.n} mutations, ${v.invalid} invalid, ${v.file} through loadPipelineFile, ${(v.ms / 1000).toFixed(1)} s (mutation + checks)`);
  for (const s of firstStacks) log(`CRASH ${s}`);
  for (const r of reported) log(`FAIL ${r.check}: ${r.mutant}\n    ${r.detail}\n    reproducer: ${r.file}${r.shrunk ? `\n    shrunk:     ${r.shrunk}` : ''}`);
  for (const p of cli.problems) log(`CLI FAIL ${p}`);
  for (const c of cli.controlFiles) log(`CLI raw control characters (${c.chars}) in the human output of ${c.file}: ${c.line}`);

  const cliProblems = cli.problems.length + cli.controlFiles.length;
  const failed = counts.crash + counts.slow + counts.unpositioned + counts.canary + counts.idempotence + cliProblems > 0;
  if (fs.existsSync(REPRO_DIR)) log(`reproducers in ${REPRO_DIR}`);
  process.stdout.write(
    `RELIABILITY fuzz: seed=${SEED} mutations=${N} invalid=${invalid} file-loads=${fileLoads} canary-planted=${canaryPlanted} crashes=${counts.crash} ` +
      `max ms=${max.toFixed(1)} p99 ms=${p99.toFixed(2)} slow(>${SLOW_MS}ms)=${counts.slow} invalid without positioned diagnostics=${counts.unpositioned} ` +
      `canary leaks=${counts.canary} (bare literal ${leakForms.literal}, literal inside a broken \${…} ${leakForms['broken-ref']}) idempotence failures=${counts.idempotence} CLI samples checked=${cli.checked} CLI problems=${cliProblems} ` +
      `(control-char outputs=${cli.controlFiles.length}, other=${cli.problems.length}) in-process s=${inProcessS.toFixed(1)} total s=${totalS.toFixed(1)} ${failed ? 'FAIL' : 'ok'}\n`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
  process.exitCode = failed ? 1 : 0;
}

main().catch((err) => {
  process.stderr.write(`${PART}: ${(err as Error)?.stack ?? String(err)}\n`);
  process.stdout.write(`RELIABILITY fuzz: seed=${SEED} harness error: ${String((err as Error)?.message ?? err).slice(0, 200)} FAIL\n`);
  process.exitCode = 1;
});
