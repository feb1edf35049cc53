// Parse (with offsets), validate against the shipped schema, then check what a schema cannot:
// every problem carries a JSON path, an exact range and a message that says what to do.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import type { Problem, Severity } from '../types';
import { parseCron } from '../schedule/cron';
import { parseInterval } from '../schedule/interval';
import { isActionBlock, isImportBlock, SECRET_FIELDS, type Pipeline } from './model';
import { badRefs, parseRef } from './refs';
import { datasetDirFor } from './datasetDir';
import { LineIndex } from './text';
import { escapeControl } from '../util/format';
import { EI_ONLY_BLOCKS, EI_PIPELINE_FIELDS, EI_STEP_FIELDS, nameFromFile, stripEdgeImpulseFields } from './edgeImpulse';
// Compiled from schemas/pipeline.schema.json at build time (scripts/gen-schema-validator.cjs): no schema compile per start.
import validateSchemaCode from './schemaValidator.generated';
import schema from '../../../schemas/pipeline.schema.json';

export interface LoadedPipeline {
  file: string;
  text: string;
  /** Present when there is no error-severity problem. */
  pipeline?: Pipeline;
  problems: Problem[];
  tree?: Node;
  /** Absolute dataset folder. */
  datasetDir: string;
}

const EI_FIELD_NAMES = { ...EI_PIPELINE_FIELDS, ...EI_STEP_FIELDS };

/** Deeper than any pipeline needs; the parser and the schema validator recurse, so deeper input is refused first. */
export const MAX_DEPTH = 128;

const schemaValidator = (): ValidateFunction => validateSchemaCode as unknown as ValidateFunction;

type JsonPath = (string | number)[];

class ProblemSink {
  readonly problems: Problem[] = [];
  private readonly lines: LineIndex;
  /** True when the file is a bare steps array: the pipeline's ["steps", i, ...] is the file's [i, ...]. */
  bare = false;
  constructor(private readonly text: string, private readonly tree: Node | undefined) {
    this.lines = new LineIndex(text);
  }

  /** The node for a JSON path; `onKey` points at the property name instead of its value. */
  node(p: JsonPath, onKey = false): Node | undefined {
    if (!this.tree) return undefined;
    const inFile = this.bare ? (p[0] === 'steps' ? p.slice(1) : []) : p;
    const n = findNodeAtLocation(this.tree, inFile);
    if (n && onKey && n.parent?.type === 'property') return n.parent.children?.[0];
    return n;
  }

  add(severity: Severity, message: string, p: JsonPath, opts: { onKey?: boolean; code?: string; data?: Record<string, unknown>; offset?: number; length?: number; source?: Problem['source'] } = {}): void {
    let offset = opts.offset;
    let length = opts.length;
    if (offset === undefined) {
      // Fall back to the nearest existing ancestor, so a missing property points at its object.
      let n: Node | undefined;
      for (let k = p.length; k >= 0 && !n; k--) n = this.node(p.slice(0, k), opts.onKey && k === p.length);
      offset = n?.offset ?? 0;
      length = n ? (n.type === 'object' || n.type === 'array' ? 1 : n.length) : 1;
    }
    const start = this.lines.position(offset);
    const end = this.lines.position(offset + (length ?? 1));
    this.problems.push({
      severity,
      message,
      source: opts.source ?? 'semantic',
      path: p,
      code: opts.code,
      data: opts.data,
      range: { offset, length: length ?? 1, line: start.line, column: start.column, endLine: end.line, endColumn: end.column },
    });
  }
}

function pointerToPath(pointer: string): JsonPath {
  if (!pointer) return [];
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function describeAt(p: JsonPath): string {
  if (p.length === 0) return 'The pipeline';
  const last = p[p.length - 1];
  return typeof last === 'number' ? `Item ${last} of ${String(p[p.length - 2])}` : `"${last}"`;
}

function schemaMessage(e: ErrorObject, data: unknown): { message: string; path: JsonPath; onKey?: boolean } | undefined {
  const p = pointerToPath(e.instancePath);
  const where = describeAt(p);
  switch (e.keyword) {
    case 'required':
      return { message: `${where} is missing "${(e.params as { missingProperty: string }).missingProperty}". Add it.`, path: p };
    case 'additionalProperties': {
      const prop = (e.params as { additionalProperty: string }).additionalProperty;
      const parent = p.reduce<any>((o, k) => (o == null ? o : o[k]), data);
      const type = parent && typeof parent === 'object' && typeof parent.type === 'string' ? ` in a ${parent.type} block` : '';
      const near = closestName(prop);
      const hint = near ? `Did you mean "${near}"? ` : '';
      return { message: `Unknown property "${prop}"${type}. ${hint}Remove it or check its spelling.`, path: [...p, prop], onKey: true };
    }
    case 'enum': {
      const value = p.reduce<any>((o, k) => (o == null ? o : o[k]), data);
      if (p[p.length - 1] === 'type' && typeof value === 'string' && EI_ONLY_BLOCKS[value]) {
        return { message: `"${value}" is an Edge Impulse-only block: it ${EI_ONLY_BLOCKS[value]}`, path: p };
      }
      return { message: `${where} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}.`, path: p };
    }
    case 'const':
      return undefined; // reported through the block's type instead
    case 'type':
      return { message: `${where} must be ${(e.params as { type: string }).type}.`, path: p };
    case 'pattern': {
      const last = p[p.length - 1];
      if (typeof last === 'string' && (SECRET_FIELDS as readonly string[]).includes(last)) return undefined; // semantic check words it
      if (last === 'path') return { message: `${where} is not a valid location for this block: ${describePathFormat(p, data)}.`, path: p };
      if (last === 'intervalStr') return { message: 'intervalStr must be a number and a unit: 15m, 4h or 1d.', path: p };
      return { message: `${where} has the wrong format (${e.message ?? 'pattern'}).`, path: p };
    }
    case 'format':
      return { message: `${where} must be a valid ${(e.params as { format: string }).format}.`, path: p };
    case 'minLength':
      return { message: `${where} must not be empty.`, path: p };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { message: `${where} ${e.message}.`, path: p };
    case 'anyOf':
      if (p.length === 2 && p[0] === 'steps')
        return { message: `Step ${p[1]} needs a "builtinTransformationBlock" (an import or project-action) or a "transformationBlock" (a command).`, path: p };
      return undefined;
    case 'if':
    case 'allOf':
      return undefined;
    default:
      return { message: `${where} ${e.message ?? 'is invalid'}.`, path: p };
  }
}

let knownNames: string[] | undefined;
/** Every property name the schema knows, and Edge Impulse's: candidates for "did you mean". */
function schemaNames(): string[] {
  if (knownNames) return knownNames;
  const names = new Set<string>();
  const stack: unknown[] = [schema];
  while (stack.length) {
    const s = stack.pop();
    if (!s || typeof s !== 'object') continue;
    for (const [k, v] of Object.entries(s as Record<string, unknown>)) {
      if (k === 'properties' && v && typeof v === 'object') for (const n of Object.keys(v)) names.add(n);
      if (v && typeof v === 'object') stack.push(v);
    }
  }
  return (knownNames = [...names]);
}

/** The known property name within two edits of `name` (case ignored), if exactly one is closest. */
function closestName(name: string): string | undefined {
  const a = name.toLowerCase();
  if (a.length > 64) return undefined;
  const cutoff = 3;
  let best: string | undefined;
  let bestD = cutoff;
  let tie = false;
  for (const cand of [...schemaNames(), ...Object.keys(EI_FIELD_NAMES)]) {
    const d = editDistance(a, cand.toLowerCase(), cutoff);
    if (d < bestD) [best, bestD, tie] = [cand, d, false];
    else if (d === bestD && d < cutoff && cand !== best) tie = true;
  }
  return best && !tie && best !== name ? best : undefined;
}

/** Optimal string alignment distance, cut off at `max`. */
function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) >= max) return max;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      cur[j] = v;
    }
    [prev2, prev] = [prev, cur];
  }
  return Math.min(prev[b.length], max);
}

function describePathFormat(p: JsonPath, data: unknown): string {
  const block = p.slice(0, -1).reduce<any>((o, k) => (o == null ? o : o[k]), data);
  switch (block?.type) {
    case 's3-to-project':
      return 'write it as s3://bucket/prefix/';
    case 'gcs-to-project':
      return 'write it as gs://bucket/prefix/';
    case 'azure-to-project':
      return 'write it as az://container/prefix/';
    default:
      return 'check its format';
  }
}

/** The offset of the first bracket nested deeper than MAX_DEPTH, outside strings; iterative. */
function tooDeepAt(text: string): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > MAX_DEPTH) return i;
    } else if (c === 125 || c === 93) depth = Math.max(0, depth - 1);
  }
  return undefined;
}

/** Duplicate keys: an error when the values differ (JSON keeps the last, silently), a warning when equal. */
function checkDuplicateKeys(tree: Node, sink: ProblemSink, text: string): void {
  const stack: Node[] = [tree];
  while (stack.length) {
    const n = stack.pop()!;
    if (n.type === 'object') {
      const seen = new Map<string, Node>();
      for (const prop of n.children ?? []) {
        const [key, value] = prop.children ?? [];
        if (!key || typeof key.value !== 'string') continue;
        const first = seen.get(key.value);
        if (first) {
          const firstValue = first.parent?.children?.[1];
          const same = !!firstValue && !!value && canonical(firstValue, text) === canonical(value, text);
          // Never echo the values: one may be a secret.
          if (same) sink.add('warning', `Duplicate key "${key.value}" with the same value: remove one.`, [], { offset: key.offset, length: key.length, source: 'semantic', code: 'duplicate-key' });
          else sink.add('error', `Duplicate key "${key.value}" with a different value: JSON keeps only the last one, silently. Keep one.`, [], { offset: key.offset, length: key.length, source: 'semantic', code: 'duplicate-key' });
        } else seen.set(key.value, key);
      }
    }
    for (const c of n.children ?? []) stack.push(c);
  }
}

function canonical(n: Node, text: string): string {
  try {
    return JSON.stringify(JSON.parse(text.slice(n.offset, n.offset + n.length)));
  } catch {
    return text.slice(n.offset, n.offset + n.length);
  }
}

/** Strict JSON parse + schema + semantic checks. Never throws for bad input. */
export function loadPipelineText(text: string, file: string): LoadedPipeline {
  const baseDir = path.dirname(path.resolve(file));
  const deep = tooDeepAt(text);
  if (deep !== undefined) {
    const sink = new ProblemSink(text, undefined);
    sink.add('error', `Nested deeper than ${MAX_DEPTH} levels here. A pipeline file is never this deep: check the brackets.`, [], { offset: deep, length: 1, source: 'semantic', code: 'too-deep' });
    return { file, text, problems: sink.problems, datasetDir: datasetDirFor(file, {}) };
  }
  const parseErrors: ParseError[] = [];
  const tree = parseTree(text, parseErrors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const sink = new ProblemSink(text, tree);
  const result: LoadedPipeline = { file, text, problems: sink.problems, tree, datasetDir: datasetDirFor(file, {}) };
  for (const e of parseErrors) {
    sink.add('error', `Invalid JSON: ${humanParseError(printParseErrorCode(e.error))}. Pipeline files are strict JSON.`, [], { offset: e.offset, length: Math.max(1, e.length), source: 'syntax' });
  }
  if (parseErrors.length || !tree) {
    if (!tree && !parseErrors.length) sink.add('error', 'The file is empty. A pipeline needs at least {"name": "...", "steps": []}.', [], { source: 'syntax' });
    return result;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    sink.add('error', `Invalid JSON: ${(err as Error).message}`, [], { source: 'syntax' });
    return result;
  }
  checkDuplicateKeys(tree, sink, text);
  if (Array.isArray(data)) {
    // The bare steps array Edge Impulse Studio shows under "Run pipeline from code".
    sink.bare = true;
    const name = nameFromFile(file);
    data = { name, steps: data };
    sink.add('info', `A bare steps array, as Edge Impulse shows it: the pipeline is named "${name}" from the file name and syncs to ./dataset. Wrap it as {"name": "...", "steps": [...]} to set a name, a dataset folder or a schedule.`, [], { offset: tree.offset, length: 1, code: 'bare-steps' });
  }
  if (!data || typeof data !== 'object') {
    sink.add('error', 'A pipeline file must hold one JSON object with "name" and "steps" (or a bare array of steps, as Edge Impulse shows it).', [], { source: 'schema' });
    return result;
  }
  for (const f of stripEdgeImpulseFields(data as Record<string, unknown>)) sink.add(f.severity, f.message, f.path, { onKey: true, source: 'semantic', code: 'edge-impulse-field' });

  const validate = schemaValidator();
  if (!validate(data)) {
    const seen = new Set<string>();
    for (const e of validate.errors ?? []) {
      const m = schemaMessage(e, data);
      if (!m) continue;
      const k = JSON.stringify(m.path) + m.message;
      if (seen.has(k)) continue;
      seen.add(k);
      sink.add('error', m.message, m.path, { onKey: m.onKey, source: 'schema' });
    }
  }

  const pipeline = data as Pipeline;
  semanticChecks(pipeline, sink, baseDir);
  result.datasetDir = datasetDirFor(file, pipeline);
  if (!sink.problems.some((p) => p.severity === 'error')) result.pipeline = pipeline;
  return result;
}

function humanParseError(code: string): string {
  const words: Record<string, string> = {
    InvalidSymbol: 'unexpected character',
    InvalidNumberFormat: 'invalid number',
    PropertyNameExpected: 'a property name (in double quotes) was expected',
    ValueExpected: 'a value was expected',
    ColonExpected: 'a colon was expected',
    CommaExpected: 'a comma was expected',
    CloseBraceExpected: 'a closing } was expected',
    CloseBracketExpected: 'a closing ] was expected',
    EndOfFileExpected: 'nothing may follow the closing }',
    InvalidCommentToken: 'comments are not allowed',
    UnexpectedEndOfComment: 'unterminated comment',
    UnexpectedEndOfString: 'unterminated string',
    UnexpectedEndOfNumber: 'unterminated number',
    InvalidUnicode: 'invalid \\u escape',
    InvalidEscapeCharacter: 'invalid escape character',
    InvalidCharacter: 'invalid character in a string',
  };
  return words[code] ?? code;
}

function semanticChecks(p: Pipeline, sink: ProblemSink, baseDir: string): void {
  const steps = Array.isArray(p.steps) ? p.steps : [];
  const names = new Map<string, number>();
  let retrainSeen = false;

  steps.forEach((step, i) => {
    if (!step || typeof step !== 'object') return;
    const at: JsonPath = ['steps', i];
    if (typeof step.name === 'string') {
      const first = names.get(step.name);
      if (first !== undefined) {
        sink.add('error', `Step name "${step.name}" is already used by step ${first}. Step names must be unique: rename one.`, [...at, 'name'], { code: 'duplicate-step-name' });
      } else names.set(step.name, i);
    }
    const block = step.builtinTransformationBlock as Record<string, unknown> | undefined;
    if (block && typeof block === 'object') {
      const bAt: JsonPath = [...at, 'builtinTransformationBlock'];
      if (isImportBlock(block)) checkImport(block as unknown as Record<string, unknown>, bAt, sink, baseDir);
      if (isActionBlock(block)) {
        if (block.retrainModel) retrainSeen = true;
        if (block.buildBinary && !block.retrainModel && !retrainSeen) {
          sink.add('error', 'buildBinary needs the model retrained first (as in Edge Impulse): add a "retrainModel": true step before this one.', [...bAt, 'buildBinary'], { code: 'build-without-retrain' });
        }
        if (block.retrainModel && !block.trainCommand) {
          sink.add('warning', 'retrainModel has no trainCommand, so no model is retrained here: the step is reported as skipped. Run "data-pipelines init-trainer" to write a reference PyTorch trainer and set "trainCommand" (or add your own command that meets the training contract in README.md).', [...bAt, 'retrainModel'], { code: 'retrain-without-command' });
        }
        if (block.modelPath !== undefined) {
          sink.add('warning', '"modelPath" is no longer used: the deployment holds what trainCommand writes to $MODEL_DIR. Remove it.', [...bAt, 'modelPath'], { code: 'model-path-unused' });
        }
        if (!block.refreshDataExplorer && !block.retrainModel && !block.createVersion && !block.buildBinary) {
          sink.add('warning', 'This project-action does nothing: set one of refreshDataExplorer, retrainModel, createVersion or buildBinary.', bAt);
        }
      }
    }
    if (step.transformationBlockId !== undefined && !step.transformationBlock) {
      sink.add('warning', 'An Edge Impulse organization block (transformationBlockId) cannot run locally: add "transformationBlock": {"command": "..."} to run it here, or "enabled": false.', [...at, 'transformationBlockId'], { code: 'remote-block' });
    }
    if (step.transformationBlock?.env && typeof step.transformationBlock.env === 'object') {
      for (const [k, v] of Object.entries(step.transformationBlock.env)) checkRefs(v, [...at, 'transformationBlock', 'env', k], sink);
    }
  });

  if (typeof p.intervalStr === 'string' && parseInterval(p.intervalStr) === undefined && /^\s*[1-9]/.test(p.intervalStr)) {
    sink.add('error', 'intervalStr must be a number and a unit: 15m, 4h or 1d.', ['intervalStr']);
  }
  if (typeof p.schedule === 'string') {
    try {
      parseCron(p.schedule);
    } catch (err) {
      sink.add('error', `schedule: ${(err as Error).message}`, ['schedule']);
    }
  }
  if (typeof p.intervalStr === 'string' && typeof p.schedule === 'string') {
    sink.add('warning', 'Both intervalStr and schedule are set; schedule (cron) wins. Remove one.', ['intervalStr']);
  }
  if (typeof p.dataset === 'string' && p.dataset) {
    const abs = path.resolve(baseDir, p.dataset);
    try {
      if (fs.existsSync(abs) && !fs.statSync(abs).isDirectory()) {
        sink.add('error', `dataset "${p.dataset}" is a file; it must be a folder (it is created when missing).`, ['dataset']);
      }
    } catch {
      /* unreadable: reported when the run starts */
    }
  }
}

/** What is wrong with a reference, in words that never repeat its text (it may hold a secret). */
function refProblem(bad: string): string {
  if (!bad.endsWith('}')) return 'it has no closing }';
  const m = /^\$\{([^:}]*):?/.exec(bad);
  if (!m || (m[1] !== 'secret' && m[1] !== 'env')) return 'only ${secret:NAME} and ${env:VAR} are known';
  return 'the name may hold only letters, digits, _ . - and starts with a letter or _';
}

function checkRefs(value: unknown, at: JsonPath, sink: ProblemSink): void {
  if (typeof value !== 'string') return;
  // The value is never echoed: a secret pasted into a reference, or into a field whose name is
  // misspelt, would otherwise reach the terminal and the logs. The range points at it.
  for (const bad of badRefs(value)) {
    sink.add('error', `"${escapeControl(String(at[at.length - 1]))}" holds a reference this tool cannot read: ${refProblem(bad)}. Write \${secret:NAME} or \${env:VAR}.`, at, { code: 'unknown-reference' });
  }
}

function checkImport(block: Record<string, unknown>, at: JsonPath, sink: ProblemSink, baseDir: string): void {
  for (const [k, v] of Object.entries(block)) {
    if (k !== 'secretKeyEncrypted') checkRefs(v, [...at, k], sink);
  }
  for (const field of SECRET_FIELDS) {
    const v = block[field];
    if (typeof v === 'string' && v !== '' && !parseRef(v) && badRefs(v).length === 0) {
      // Never echo the value: it is a secret.
      sink.add('error', `"${field}" holds a literal secret. Secrets never live in the pipeline file: store it and write "\${secret:NAME}" (editor quick fix, or the environment variable NAME for the CLI) or "\${env:VAR}".`, [...at, field], {
        code: 'literal-secret',
        data: { field },
      });
    }
  }
  if (block.type === 's3-to-project') {
    if (typeof block.secretKeyEncrypted === 'string') {
      sink.add('error', 'secretKeyEncrypted is encrypted by Edge Impulse and cannot be decrypted here. Replace it with "secretKey": "${secret:NAME}" (the editor\'s quick fix asks for the key and stores it; for the CLI set the environment variable NAME) or "${env:VAR}".', [...at, 'secretKeyEncrypted'], {
        onKey: true,
        code: 'secret-key-encrypted',
      });
    }
    const hasAccess = typeof block.accessKey === 'string' && block.accessKey !== '';
    const hasSecret = typeof block.secretKey === 'string' || typeof block.secretKeyEncrypted === 'string';
    if (hasAccess && !hasSecret) sink.add('error', 'accessKey is set but secretKey is not: add "secretKey": "${secret:NAME}", or remove accessKey to use the AWS credential chain (environment, profile, SSO, instance role).', [...at, 'accessKey'], { code: 'missing-secret-key' });
    if (!hasAccess && typeof block.secretKey === 'string') sink.add('error', 'secretKey is set but accessKey is not: add the access key id.', [...at, 'secretKey']);
    if (hasAccess && typeof block.profile === 'string') sink.add('warning', 'Both accessKey and profile are set; the keys win and the profile is ignored.', [...at, 'profile']);
    if (typeof block.endpoint === 'string' && block.endpoint !== '' && !parseRef(block.endpoint)) {
      try {
        const u = new URL(block.endpoint);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
      } catch {
        sink.add('error', `endpoint must be an http(s) URL such as https://s3.fr-par.scw.cloud (or empty for AWS).`, [...at, 'endpoint']);
      }
    }
  }
  if (block.type === 'folder-to-project' && typeof block.path === 'string' && block.path !== '') {
    const abs = path.resolve(baseDir, block.path);
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(abs);
    } catch {
      /* missing */
    }
    if (!st) sink.add('error', `Folder "${block.path}" does not exist (resolved to ${abs}). Fix the path; relative paths start at the pipeline file's folder.`, [...at, 'path'], { code: 'unreachable-path' });
    else if (!st.isDirectory()) sink.add('error', `"${block.path}" is a file, not a folder.`, [...at, 'path'], { code: 'unreachable-path' });
  }
  if (typeof block.label === 'string' && /[/\\\0]|^\.\.?$/.test(block.label)) {
    sink.add('error', 'label must be a plain name without / or \\.', [...at, 'label']);
  }
  if (block.labelStrategy === 'keep-unlabeled' && typeof block.label === 'string') {
    sink.add('warning', 'label is set, so every sample gets it and keep-unlabeled has no effect.', [...at, 'label']);
  }
}

export function loadPipelineFile(file: string): LoadedPipeline {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const r: LoadedPipeline = { file, text: '', problems: [], datasetDir: datasetDirFor(file, {}) };
    r.problems.push({
      severity: 'error',
      source: 'syntax',
      message: e.code === 'ENOENT' ? `No such file: ${file}. Give the path of a *.pipeline.json file.` : `Cannot read ${file}: ${e.message}`,
      path: [],
      range: { offset: 0, length: 0, line: 1, column: 1, endLine: 1, endColumn: 1 },
    });
    return r;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    // Say where: the first byte that is not UTF-8, as a line and column of the lossy decoding.
    const lossy = bytes.toString('utf8');
    const at = Math.max(0, lossy.indexOf('\ufffd'));
    const sink = new ProblemSink(lossy, undefined);
    sink.add('error', 'The file is not valid UTF-8 here. Pipeline files are UTF-8 JSON: re-save it as UTF-8 (names with other encodings would be silently changed).', [], { offset: at, length: 1, source: 'syntax', code: 'not-utf8' });
    return { file, text: lossy, problems: sink.problems, datasetDir: datasetDirFor(file, {}) };
  }
  return loadPipelineText(text, file);
}

export function formatProblem(file: string, p: Problem): string {
  // One line each, whatever a step name or a key in the message holds.
  return `${escapeControl(file)}:${p.range.line}:${p.range.column}: ${p.severity}: ${escapeControl(p.message)}`;
}
