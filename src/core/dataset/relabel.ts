// A person labels samples (the data explorer, `data-pipelines label`): the files move to their
// new <category>/<label>/ folders, the sync state and info.labels follow, and the decision is
// kept in labels-override.json so later syncs keep it. Under the dataset lock; every path is
// checked before anything changes. In this order, so that a crash part-way loses no file and a
// rerun (of the same labeling, or a sync) repairs it:
//   1. the overrides (what the person wants): a sync from here on moves the files itself;
//   2. per sample, the rename, then its state record (journal, flushed at once); a sample whose
//      file is already at its new path (moved before a crash) is simply recorded;
//   3. info.labels and labels.txt, then the state snapshot, then the empty label folders.
// A sample that cannot move (its file is gone, its new name is taken) stops there: the samples
// before it stay changed, it and those after it get their previous overrides back.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LoadedPipeline } from '../pipeline/validate';
import { CATEGORIES, type Category, type Logger } from '../types';
import { UserError } from '../util/errors';
import { writeDatasetIndex } from './datasetIndex';
import { PathClaims, ownerId } from './identity';
import { samplePath, withSuffix } from './layout';
import { acquireLock, DatasetLockedError } from './lock';
import { labelProblem, loadOverrides, overrideId, saveOverrides, type Override } from './overrides';

export { labelProblem } from './overrides';
import { SyncState, type StateEntry } from './state';

export interface RelabelChange {
  /** The sample's path before. */
  path: string;
  from: { label: string | null; category: Category };
  to: { label: string | null; category: Category; path: string };
}

export interface RelabelResult {
  changed: RelabelChange[];
  /** Paths that already had that label and category: nothing done for them. */
  unchanged: string[];
}

export interface RelabelOptions {
  /** Dataset-relative paths ('/'-separated), as info.labels and the explorer name the samples. */
  paths: string[];
  /** undefined: keep the label; null: unlabeled. */
  label?: string | null;
  /** undefined: keep the category. */
  category?: Category;
  logger?: Logger;
}

const norm = (p: string): string => p.replace(/\\/g, '/').replace(/^\.\//, '');

function checkRequest(o: RelabelOptions): void {
  if (!o.paths.length) throw new UserError('Name the samples to change: their paths relative to the dataset folder, as info.labels lists them.');
  if (o.label === undefined && o.category === undefined) throw new UserError('Say what to change: a label, unlabeled, or a category (training, validation or testing).');
  if (o.label !== undefined && o.label !== null) {
    if (typeof o.label !== 'string') throw new UserError('A label is a string.');
    const why = labelProblem(o.label);
    if (why) throw new UserError(why);
  }
  if (o.category !== undefined && !CATEGORIES.includes(o.category)) throw new UserError(`"${String(o.category)}" is not a category: use training, validation or testing.`);
}

/** The state entries of the paths asked for; every path is checked before anything changes. */
function findEntries(state: SyncState, o: RelabelOptions): StateEntry[] {
  const byPath = new Map<string, StateEntry>();
  for (const e of state.all()) if (e.status === 'synced' && e.path && e.category) byPath.set(e.path, e);
  const wanted = [...new Set(o.paths.map(norm))];
  const missing = wanted.filter((p) => !byPath.has(p));
  if (missing.length) {
    const shown = missing.slice(0, 5).map((p) => JSON.stringify(p)).join(', ') + (missing.length > 5 ? ` and ${missing.length - 5} more` : '');
    throw new UserError(`Not a sample of this dataset: ${shown}. Give paths relative to the dataset folder, as info.labels (or preview --json) lists them; a sample moved by an earlier labeling has a new path. Nothing was changed.`);
  }
  return wanted.map((p) => byPath.get(p)!);
}

const SUFFIX_ATTEMPTS = 16;

/** The new path of a sample: the engine's layout, never another sample's path or an existing file. */
function target(datasetDir: string, e: StateEntry, label: string | null, category: Category, claims: PathClaims): string {
  const owner = ownerId(e.source, e.key);
  const fileName = e.key.slice(e.key.lastIndexOf('/') + 1); // as the planner names it, so a sync keeps the path
  const want = samplePath(category, label === null ? null : claims.labels.folderFor(label), fileName, e.key);
  // A file at `p` that no sample owns is a stranger's (never overwritten), unless this sample's
  // own file is gone: then it is this sample, moved there before a crash.
  const own = !fs.existsSync(path.join(datasetDir, e.path!));
  const free = (p: string) => (p === e.path || own || !fs.existsSync(path.join(datasetDir, p))) && claims.claimIfFree(p, owner) === undefined;
  if (free(want)) return want;
  for (let attempt = 0; attempt < SUFFIX_ATTEMPTS; attempt++) {
    const p = withSuffix(want, e.key, attempt);
    if (free(p)) return p;
  }
  throw new UserError(`No free name for ${e.path} near ${want}: every suffix is taken.`);
}

/** Moves one sample's file; a file already at `to` (moved before a crash) counts as moved. */
async function moveFile(datasetDir: string, from: string, to: string): Promise<void> {
  if (from === to) return;
  const src = path.join(datasetDir, from);
  const dst = path.join(datasetDir, to);
  await fs.promises.mkdir(path.dirname(dst), { recursive: true });
  try {
    await fs.promises.link(src, dst); // fails if dst exists: never overwrites
    await fs.promises.unlink(src);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && fs.existsSync(dst) && !fs.existsSync(src)) return; // done before a crash
    if (code === 'EEXIST' && sameFile(src, dst)) return fs.promises.unlink(src); // linked before a crash
    if (code === 'EEXIST') throw new UserError(`Cannot move ${from} to ${to}: a file is already there.`);
    if (code === 'ENOENT') throw new UserError(`The file ${from} is missing from the dataset folder: run a sync to fetch it again, then label it.`);
    // A file system without hard links: a rename (the target was checked free just before).
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV') await fs.promises.rename(src, dst);
    else throw err;
  }
}

function sameFile(a: string, b: string): boolean {
  const [x, y] = [fs.statSync(a), fs.statSync(b)];
  return x.ino === y.ino && x.dev === y.dev;
}

function lockDataset(loaded: LoadedPipeline): () => void {
  try {
    return acquireLock(loaded.datasetDir, loaded.pipeline?.name ?? path.basename(loaded.file));
  } catch (err) {
    if (!(err instanceof DatasetLockedError)) throw err;
    const e = new DatasetLockedError(err.holder);
    e.message = `Cannot change labels now: a run is syncing this dataset (pid ${err.holder.pid} on ${err.holder.host} since ${err.holder.since}). Nothing was changed; try again when it is over.`;
    throw e;
  }
}

function overrideFor(prev: Override | undefined, o: RelabelOptions, at: string): Override {
  const label = o.label !== undefined ? o.label : prev?.label;
  const category = o.category ?? prev?.category;
  return { ...(label !== undefined ? { label } : {}), ...(category ? { category } : {}), at };
}

/**
 * Gives samples a label (or none) and/or a category, as a person decides: files, state,
 * info.labels, labels.txt and labels-override.json together, under the dataset lock. Throws
 * DatasetLockedError while a run holds the lock, and UserError (nothing changed) for an unknown
 * path or a label that cannot be a folder. Undo: call again with each change's `to.path` and
 * its `from` label and category.
 */
export async function relabelSamples(loaded: LoadedPipeline, o: RelabelOptions): Promise<RelabelResult> {
  checkRequest(o);
  const datasetDir = loaded.datasetDir;
  const release = lockDataset(loaded);
  try {
    const state = SyncState.load(datasetDir);
    const entries = findEntries(state, o);
    const result: RelabelResult = { changed: [], unchanged: [] };
    const toChange = entries.filter((e) => {
      const same = (o.label === undefined || o.label === e.label) && (o.category === undefined || o.category === e.category);
      if (same) result.unchanged.push(e.path!);
      return !same;
    });
    if (!toChange.length) return result;
    const overrides = loadOverrides(datasetDir);
    const before = new Map(toChange.map((e) => [overrideId(e.source, e.key), overrides.get(overrideId(e.source, e.key))]));
    const at = new Date().toISOString();
    for (const e of toChange) overrides.set(overrideId(e.source, e.key), overrideFor(overrides.get(overrideId(e.source, e.key)), o, at));
    saveOverrides(datasetDir, overrides);
    try {
      await moveAll(datasetDir, toChange, o, state, result);
    } catch (err) {
      // A sample that could not move keeps what it had: no later sync acts on a decision not carried out.
      for (const e of toChange.slice(result.changed.length)) {
        const prev = before.get(overrideId(e.source, e.key));
        if (prev) overrides.set(overrideId(e.source, e.key), prev);
        else overrides.delete(overrideId(e.source, e.key));
      }
      saveOverrides(datasetDir, overrides);
      if (result.changed.length && err instanceof Error) err.message += ` (${result.changed.length} sample(s) before it were changed; the others were not.)`;
      throw err;
    } finally {
      writeDatasetIndex(datasetDir, state);
      state.compact();
      await removeEmptyFolders(datasetDir, result.changed.map((c) => path.posix.dirname(c.path)));
    }
    return result;
  } finally {
    release();
  }
}

/** Per sample, in order: its new path, the move, its state record (flushed at once). */
async function moveAll(datasetDir: string, toChange: StateEntry[], o: RelabelOptions, state: SyncState, result: RelabelResult): Promise<void> {
  const claims = PathClaims.fromState(state);
  for (const e of toChange) {
    const label = o.label === undefined ? e.label : o.label;
    const category = o.category ?? e.category!;
    claims.release(e.path!, ownerId(e.source, e.key));
    const to = target(datasetDir, e, label, category, claims);
    await moveFile(datasetDir, e.path!, to);
    state.set({ ...e, label, category, path: to });
    state.flush();
    result.changed.push({ path: e.path!, from: { label: e.label, category: e.category! }, to: { label, category, path: to } });
    o.logger?.info(`${e.path} -> ${to} (${label === null ? 'unlabeled' : `label ${label}`}, ${category})`);
  }
}

/** The label folders a move left empty: a class folder with no sample would be an empty class. */
async function removeEmptyFolders(datasetDir: string, dirs: string[]): Promise<void> {
  for (const d of new Set(dirs)) {
    for (let rel = d; rel && rel !== '.'; rel = path.posix.dirname(rel)) {
      try {
        await fs.promises.rmdir(path.join(datasetDir, rel));
      } catch {
        break; // not empty (or gone): keep it and its parents
      }
    }
  }
}
