// Versions (createVersion): what the dataset, its labels, the pipeline and the model were after a
// run, kept next to the dataset. Files are hard links, so a version of an unchanged dataset costs
// a folder of links, not a copy.
//
//   <dataset>.versions/v<N>/dataset/       the dataset's files, info.labels and labels.txt
//   <dataset>.versions/v<N>/state.json     the sync state: restoring makes the next sync carry on
//   <dataset>.versions/v<N>/pipeline.json  the pipeline file as it was
//   <dataset>.versions/v<N>/model/         the model folder, when one was trained
//   <dataset>.versions/v<N>/metrics.json   its metrics
//   <dataset>.versions/v<N>/version.json   id, created, run, counts, metrics
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UNLABELED } from '../constants';
import { acquireLock } from '../dataset/lock';
import { META_DIR, SyncState, type StateEntry } from '../dataset/state';
import type { Category } from '../types';
import { UserError } from '../util/errors';
import { filesUnder, latestModel } from './models';

export interface DatasetCounts {
  total: number;
  /** category -> label ('(unlabeled)' for none) -> samples. */
  byCategoryLabel: Record<string, Record<string, number>>;
}

export interface VersionInfo {
  id: string;
  version: number;
  created: string;
  runId: string;
  pipeline: string;
  counts: DatasetCounts;
  metrics: Record<string, number>;
  /** The run whose training made the model kept in this version. */
  modelRunId?: string;
  note?: string;
  /** Absolute folder. */
  dir: string;
}

export interface SampleChange {
  /** The sample's path in the dataset (in the newer version when it is in both). */
  sample: string;
  source: string;
  key: string;
  from?: string;
  to?: string;
}

export interface VersionDiff {
  from: string;
  to: string;
  added: SampleChange[];
  removed: SampleChange[];
  relabeled: SampleChange[];
  recategorized: SampleChange[];
  /** Same sample, new content. */
  changed: SampleChange[];
}

export function versionsRoot(datasetDir: string): string {
  return `${datasetDir}.versions`;
}

/** Counts per category x label, as the data explorer and the versions list show them. */
export function datasetCounts(entries: Iterable<StateEntry>): DatasetCounts {
  const byCategoryLabel: Record<string, Record<string, number>> = { training: {}, validation: {}, testing: {} };
  let total = 0;
  for (const e of entries) {
    if (e.status !== 'synced' || !e.path || !e.category) continue;
    const l = e.label ?? UNLABELED;
    byCategoryLabel[e.category][l] = (byCategoryLabel[e.category][l] ?? 0) + 1;
    total++;
  }
  return { total, byCategoryLabel };
}

/** Hard-links every file under `from` into `to` (copies across file systems); skips the meta folder. */
export async function linkTree(from: string, to: string): Promise<number> {
  let n = 0;
  await fs.promises.mkdir(to, { recursive: true });
  for (const d of await fs.promises.readdir(from, { withFileTypes: true })) {
    if (d.name === META_DIR) continue;
    const a = path.join(from, d.name);
    const b = path.join(to, d.name);
    if (d.isDirectory()) n += await linkTree(a, b);
    else if (d.isFile()) {
      try {
        await fs.promises.link(a, b);
      } catch {
        await fs.promises.copyFile(a, b);
      }
      n++;
    }
  }
  return n;
}

export interface NewVersion {
  runId: string;
  pipeline: string;
  pipelineFile: string;
  model?: { modelDir: string; runId: string; metrics: Record<string, number> };
  note?: string;
}

/** Snapshots the dataset as the next version. The caller holds the dataset lock. */
export async function createVersion(datasetDir: string, state: SyncState, v: NewVersion): Promise<VersionInfo & { files: number }> {
  const root = versionsRoot(datasetDir);
  await fs.promises.mkdir(root, { recursive: true });
  // Built under a hidden name and renamed into place whole: a run killed half-way leaves only a
  // .partial-* folder, removed here by the next one.
  const names = await fs.promises.readdir(root);
  for (const n of names) if (n.startsWith('.partial-')) await fs.promises.rm(path.join(root, n), { recursive: true, force: true });
  const numbers = names.map((n) => /^v(\d+)$/.exec(n)?.[1]).filter(Boolean).map(Number);
  const number = (numbers.length ? Math.max(...numbers) : 0) + 1;
  const id = `v${number}`;
  const partial = path.join(root, `.partial-${id}-${process.pid}`);
  const files = await linkTree(datasetDir, path.join(partial, 'dataset'));
  state.writeSnapshot(path.join(partial, 'state.json'));
  await fs.promises.copyFile(v.pipelineFile, path.join(partial, 'pipeline.json'));
  if (v.model) {
    await linkTree(v.model.modelDir, path.join(partial, 'model'));
    const metricsFile = path.join(path.dirname(v.model.modelDir), 'metrics.json');
    if (fs.existsSync(metricsFile)) await fs.promises.copyFile(metricsFile, path.join(partial, 'metrics.json'));
  }
  const info: Omit<VersionInfo, 'dir'> = { id, version: number, created: new Date().toISOString(), runId: v.runId, pipeline: v.pipeline, counts: datasetCounts(state.all()), metrics: v.model?.metrics ?? {}, modelRunId: v.model?.runId, note: v.note };
  fs.writeFileSync(path.join(partial, 'version.json'), JSON.stringify(info, null, 1));
  await fs.promises.rename(partial, path.join(root, id));
  return { ...info, dir: path.join(root, id), files };
}

function readVersion(dir: string, name: string): VersionInfo | undefined {
  try {
    const raw = JSON.parse(fs.readFileSync(path.join(dir, 'version.json'), 'utf8')) as Partial<VersionInfo> & { createdAt?: string };
    const number = Number(name.slice(1));
    return { id: name, version: number, created: raw.created ?? raw.createdAt ?? '', runId: raw.runId ?? '', pipeline: raw.pipeline ?? '', counts: raw.counts ?? { total: 0, byCategoryLabel: {} }, metrics: raw.metrics ?? {}, modelRunId: raw.modelRunId, note: raw.note, dir };
  } catch {
    return undefined;
  }
}

/** Every version, oldest first. */
export function listVersions(datasetDir: string): VersionInfo[] {
  const root = versionsRoot(datasetDir);
  let names: string[];
  try {
    names = fs.readdirSync(root).filter((n) => /^v\d+$/.test(n));
  } catch {
    return [];
  }
  return names
    .map((n) => readVersion(path.join(root, n), n))
    .filter((v): v is VersionInfo => !!v)
    .sort((a, b) => a.version - b.version);
}

export function getVersion(datasetDir: string, id: string): VersionInfo {
  const all = listVersions(datasetDir);
  const want = /^\d+$/.test(id) ? `v${id}` : id;
  const v = all.find((x) => x.id === want);
  if (!v) throw new UserError(all.length ? `There is no version "${id}". The versions are: ${all.map((x) => x.id).join(', ')}.` : `There is no version "${id}": this dataset has no versions yet. Add "createVersion": true to a project-action step and run the pipeline.`);
  return v;
}

/** The version's dataset folder (versions made before the dataset/ subfolder hold it at the top). */
export function versionDataset(v: VersionInfo): string {
  const d = path.join(v.dir, 'dataset');
  return fs.existsSync(d) ? d : v.dir;
}

interface Sample {
  path: string;
  source: string;
  key: string;
  label: string;
  category: Category;
  hash?: string;
  version: string;
}

/** The samples of a version, by source and key (by path for a version without a state). */
function samplesOf(v: VersionInfo): Map<string, Sample> {
  const out = new Map<string, Sample>();
  const stateFile = path.join(v.dir, 'state.json');
  if (fs.existsSync(stateFile)) {
    const lines = fs.readFileSync(stateFile, 'utf8').split('\n').slice(1);
    for (const line of lines) {
      if (!line) continue;
      const e = JSON.parse(line) as StateEntry;
      if (e.status !== 'synced' || !e.path || !e.category) continue;
      out.set(`${e.source}\u0000${e.key}`, { path: e.path, source: e.source, key: e.key, label: e.label ?? UNLABELED, category: e.category, hash: e.hash, version: e.version });
    }
    return out;
  }
  const info = JSON.parse(fs.readFileSync(path.join(versionDataset(v), 'info.labels'), 'utf8')) as { files: { path: string; category: Category; label: { type: string; label?: string }; metadata?: Record<string, string> }[] };
  for (const f of info.files) out.set(f.path, { path: f.path, source: f.metadata?.source ?? '', key: f.metadata?.key ?? f.path, label: f.label.label ?? UNLABELED, category: f.category, version: '' });
  return out;
}

/** What changed from version A to version B, each change naming its sample. */
export function diffVersions(datasetDir: string, a: string, b: string): VersionDiff {
  const va = getVersion(datasetDir, a);
  const vb = getVersion(datasetDir, b);
  const sa = samplesOf(va);
  const sb = samplesOf(vb);
  const d: VersionDiff = { from: va.id, to: vb.id, added: [], removed: [], relabeled: [], recategorized: [], changed: [] };
  const item = (s: Sample, from?: string, to?: string): SampleChange => ({ sample: s.path, source: s.source, key: s.key, ...(from !== undefined ? { from, to } : {}) });
  for (const [id, y] of sb) {
    const x = sa.get(id);
    if (!x) d.added.push(item(y));
    else {
      if (x.label !== y.label) d.relabeled.push(item(y, x.label, y.label));
      if (x.category !== y.category) d.recategorized.push(item(y, x.category, y.category));
      if ((x.hash && y.hash ? x.hash !== y.hash : false) || (x.version && y.version && x.version !== y.version)) d.changed.push(item(y));
    }
  }
  for (const [id, x] of sa) if (!sb.has(id)) d.removed.push(item(x));
  for (const list of [d.added, d.removed, d.relabeled, d.recategorized, d.changed]) list.sort((p, q) => (p.sample < q.sample ? -1 : p.sample > q.sample ? 1 : 0));
  return d;
}

async function emptyTarget(dir: string): Promise<void> {
  let names: string[] = [];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return;
  }
  if (names.length) throw new UserError(`${dir} is not empty. Restore into a new folder: --to takes a folder that does not exist yet.`);
}

export interface RestoreResult {
  version: string;
  dir: string;
  files: number;
  /** In-place restores first keep the dataset as it was as a new version. */
  keptAs?: string;
}

/**
 * Restores a version. With `to`, into that new folder (the dataset is untouched). Without, the
 * dataset becomes the version, under its lock: the dataset as it was is kept as a new version
 * first, then the sync state is the version's (so the next sync fetches what the source has
 * beyond it), then the files are swapped.
 */
export async function restoreVersion(datasetDir: string, id: string, o: { to?: string; pipeline: string; pipelineFile: string }): Promise<RestoreResult> {
  const v = getVersion(datasetDir, id);
  if (o.to) {
    const to = path.resolve(o.to);
    await emptyTarget(to);
    const files = await linkTree(versionDataset(v), to);
    return { version: v.id, dir: to, files };
  }
  const release = acquireLock(datasetDir, o.pipeline);
  try {
    const state = SyncState.load(datasetDir);
    const model = latestModel(datasetDir);
    const kept = await createVersion(datasetDir, state, { runId: '', pipeline: o.pipeline, pipelineFile: o.pipelineFile, note: `the dataset before ${v.id} was restored`, model: model && { modelDir: model.modelDir, runId: model.runId, metrics: model.metrics } });
    const snapshot = path.join(v.dir, 'state.json');
    if (fs.existsSync(snapshot)) SyncState.restoreSnapshot(datasetDir, snapshot);
    for (const name of await fs.promises.readdir(datasetDir)) if (name !== META_DIR) await fs.promises.rm(path.join(datasetDir, name), { recursive: true, force: true });
    const files = await linkTree(versionDataset(v), datasetDir);
    return { version: v.id, dir: datasetDir, files, keptAs: kept.id };
  } finally {
    release();
  }
}

/** Deletes all but the newest `keep` versions; returns the ids removed. */
export async function pruneVersions(datasetDir: string, keep: number): Promise<string[]> {
  const all = listVersions(datasetDir);
  const drop = all.slice(0, Math.max(0, all.length - keep));
  for (const v of drop) await fs.promises.rm(v.dir, { recursive: true, force: true });
  return drop.map((v) => v.id);
}

/** A version's files (for "show"). */
export function versionFiles(v: VersionInfo): { dataset: number; model: string[]; hasState: boolean; hasPipeline: boolean } {
  const model = fs.existsSync(path.join(v.dir, 'model')) ? filesUnder(path.join(v.dir, 'model')) : [];
  return { dataset: filesUnder(versionDataset(v)).length, model, hasState: fs.existsSync(path.join(v.dir, 'state.json')), hasPipeline: fs.existsSync(path.join(v.dir, 'pipeline.json')) };
}
