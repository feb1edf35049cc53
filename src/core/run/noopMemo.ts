// A re-sync that finds everything as the last no-op left it: the same listing (every key, size,
// version and note), the same step settings, the same sync state, people's labels and dataset
// folders. The label and split contract is a function of exactly those, so its answer is the one
// the last no-op run worked out in full: that run's step result is reused, and neither the plan
// nor the state is computed again. Any difference in any input (one object added, a label given
// in the explorer, a file deleted locally, another version of this program) plans in full.
//
// Kept in <dataset>/.dsp/noop.json, written under the dataset's lock at the end of a run whose
// import steps planned nothing to do and which left the state as it found it.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { foldersAsRecorded } from '../dataset/localFiles';
import { overridesFile } from '../dataset/overrides';
import { metaDir } from '../dataset/state';
import type { ImportBlock } from '../pipeline/model';
import type { SourceObject, StepResult } from '../types';
import { writeFileAtomic } from '../util/files';

const MEMO_FILE = 'noop.json';
/** Bumped when what the memo holds, or what decides a plan, changes shape. */
const FORMAT = 1;
declare const __DSP_VERSION__: string | undefined;
/** The release that planned (esbuild defines it); a memo from another release is never reused. */
const ENGINE = typeof __DSP_VERSION__ === 'string' ? __DSP_VERSION__ : 'unbundled';
/** Fields that say who may read the bucket, not what the plan is: never hashed, never written. */
const CREDENTIALS = new Set(['accessKey', 'secretKey', 'secretKeyEncrypted', 'sessionToken', 'profile', 'keyFile', 'credentials', 'accountKey', 'sasToken', 'connectionString']);

/** Everything a step's plan depends on, each as a digest or a file signature. */
export interface MemoInputs {
  settings: string;
  listing: string;
  state: string;
  overrides: string;
  folders: string;
}

interface MemoDoc {
  format: number;
  steps: Record<string, { inputs: MemoInputs; result: Omit<StepResult, 'durationMs'> }>;
}

const sha = (s: string | Buffer) => crypto.createHash('sha256').update(s).digest('base64url');

/** A digest of a listing, object by object, in the order listed (length-prefixed: no key can forge another's). */
export class ListingDigest {
  private readonly hash = crypto.createHash('sha256');
  private chunk = '';
  private n = 0;

  add(o: SourceObject): void {
    const f = (s: string | undefined) => (s === undefined ? '-' : `${s.length}:${s}`);
    this.chunk += `${f(o.key)}${o.size} ${f(o.version)}${f(o.md5)}${f(o.unreadable)}${f(o.note)}\n`;
    if (++this.n % 256 === 0) {
      this.hash.update(this.chunk);
      this.chunk = '';
    }
  }

  digest(): string {
    this.hash.update(this.chunk);
    this.chunk = '';
    return `${this.n}.${this.hash.digest('base64url')}`;
  }
}

/** The state files as they are on disk (size, times, inode): any write to the state changes it (the change time even when a copy keeps the modification time). */
export function stateSignature(datasetDir: string): string {
  return ['state.json', 'state.journal']
    .map((f) => {
      try {
        const st = fs.statSync(path.join(metaDir(datasetDir), f), { bigint: true });
        return `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}`;
      } catch {
        return '-';
      }
    })
    .join('/');
}

/** The inputs besides the listing, as they are now; undefined when the dataset's folders moved (plan in full). */
export function memoInputs(datasetDir: string, stepName: string, sourceId: string, block: ImportBlock, listing: string): MemoInputs | undefined {
  const folders = foldersAsRecorded(datasetDir);
  if (folders === undefined) return undefined;
  let overrides: string;
  try {
    overrides = sha(fs.readFileSync(overridesFile(datasetDir)));
  } catch {
    overrides = '-';
  }
  const settings = Object.fromEntries(Object.entries(block).filter(([k]) => !CREDENTIALS.has(k)));
  return { settings: sha(JSON.stringify([FORMAT, ENGINE, stepName, sourceId, settings])), listing, state: stateSignature(datasetDir), overrides, folders: sha(folders) };
}

function read(datasetDir: string): MemoDoc | undefined {
  try {
    const doc = JSON.parse(fs.readFileSync(path.join(metaDir(datasetDir), MEMO_FILE), 'utf8')) as MemoDoc;
    return doc?.format === FORMAT && doc.steps && typeof doc.steps === 'object' ? doc : undefined;
  } catch {
    return undefined;
  }
}

const same = (a: MemoInputs, b: MemoInputs) => a.settings === b.settings && a.listing === b.listing && a.state === b.state && a.overrides === b.overrides && a.folders === b.folders;

/** The last no-op's result for this step, when every input is as it was then. */
export function reusableResult(datasetDir: string, stepName: string, inputs: MemoInputs): Omit<StepResult, 'durationMs'> | undefined {
  const e = read(datasetDir)?.steps[stepName];
  return e && e.inputs && same(e.inputs, inputs) ? e.result : undefined;
}

/**
 * After a run (under its lock): the import steps that planned nothing to do, with the inputs they
 * planned from, go into the memo; the state signature is the one the next run will find. Kept only
 * when the run left the state as it found it (`stateBefore`); otherwise the memo is dropped (no
 * entry could match the new state).
 */
export function recordMemo(datasetDir: string, stateBefore: string, noops: Map<string, { inputs: MemoInputs; result: StepResult }>): void {
  const file = path.join(metaDir(datasetDir), MEMO_FILE);
  const now = stateSignature(datasetDir);
  if (now !== stateBefore) {
    fs.rmSync(file, { force: true });
    return;
  }
  if (!noops.size) return;
  // Steps this run did not take (--step) keep their entries: each is checked against every input when used.
  const doc: MemoDoc = { format: FORMAT, steps: { ...read(datasetDir)?.steps } };
  for (const [name, { inputs, result }] of noops) {
    const { durationMs: _d, ...rest } = result;
    doc.steps[name] = { inputs: { ...inputs, state: now }, result: rest };
  }
  writeFileAtomic(file, JSON.stringify(doc));
}
