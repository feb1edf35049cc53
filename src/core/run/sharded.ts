// Sharded runs (see shard.ts): `run --shard K/N` carries out one shard's share of the import steps
// under the shard's own lock, journal and temporary folder; `finalize` merges the shards' journals
// into the dataset's state, settles what no shard could see alone (the same content stored by two
// shards), writes info.labels and labels.txt, then runs the post-sync actions and notifications
// once, with one run record that names every shard.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UNLABELED } from '../constants';
import { writeDatasetIndex } from '../dataset/datasetIndex';
import { PathClaims } from '../dataset/identity';
import { recordFolders } from '../dataset/localFiles';
import { acquireLock } from '../dataset/lock';
import { metaDir, SyncState, type StateEntry } from '../dataset/state';
import { isImportBlock, type Step } from '../pipeline/model';
import type { LoadedPipeline } from '../pipeline/validate';
import { emptyCounts, silentLogger, type Counts, type Logger, type RunRecord, type StepResult } from '../types';
import { UserError } from '../util/errors';
import { addCounts, ended, failRun, newRunRecord, notifyAfter, requirePipeline, RunState, runStep, selectedSteps, settleRun, type RunOptions } from './engine';
import { clearTemp, pruneEmptyDirs } from './execute';
import { pruneRuns, saveRun } from './history';
import { SHARD_JOURNAL, SHARD_RESULT, shardDir, shardLabel, shardsPresent, type ShardSpec } from './shard';

/** What a shard leaves for finalize: its run record and the sources its steps synced. */
interface ShardResult {
  run: RunRecord;
  sources: { id: string; step: string; allowDuplicates: boolean }[];
}

const isImport = (s: Step) => isImportBlock(s.builtinTransformationBlock);

/** One shard: its share of every import step; actions, notifications and the dataset's index are finalize's. */
export async function runShard(loaded: LoadedPipeline, o: RunOptions, shard: ShardSpec): Promise<RunRecord> {
  const pipeline = requirePipeline(loaded);
  const logger = o.logger ?? silentLogger;
  const dir = shardDir(loaded.datasetDir, shard);
  const started = Date.now();
  const run: RunRecord = { ...newRunRecord(loaded, pipeline.name, o, started), shard: shardLabel(shard) };
  const release = acquireLock(loaded.datasetDir, pipeline.name, path.join(dir, 'lock'));
  const sources: ShardResult['sources'] = [];
  try {
    fs.rmSync(path.join(dir, SHARD_RESULT), { force: true }); // not done until this run says so
    fs.rmSync(path.join(dir, 'tmp'), { recursive: true, force: true });
    fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
    const state = SyncState.loadShard(loaded.datasetDir, path.join(dir, SHARD_JOURNAL));
    const rs = RunState.of(state, PathClaims.fromState(state));
    logger.info(`Shard ${shardLabel(shard)} of "${pipeline.name}" into ${loaded.datasetDir}`);
    for (const step of selectedSteps(pipeline.steps, o.steps).filter(isImport)) {
      if (o.signal?.aborted) break;
      const result = await runStep(loaded, step, run, rs, o, logger);
      run.steps.push(result);
      addCounts(run.counts, result.counts);
      const block = step.builtinTransformationBlock as { allowDuplicates?: boolean };
      if (result.sourceId) sources.push({ id: result.sourceId, step: step.name, allowDuplicates: !!block.allowDuplicates });
      if (result.status === 'failed') break;
    }
    state.compact();
    settleRun(run, o.signal);
  } catch (err) {
    failRun(run, err, o.signal, logger);
  } finally {
    ended(run, started);
    fs.mkdirSync(dir, { recursive: true });
    const tmp = path.join(dir, `${SHARD_RESULT}.tmp-${process.pid}`);
    fs.writeFileSync(tmp, JSON.stringify({ run, sources } satisfies ShardResult, null, 1));
    fs.renameSync(tmp, path.join(dir, SHARD_RESULT));
    release();
  }
  logger.info(`Shard ${shardLabel(shard)} ${run.status} in ${run.durationMs} ms; run "finalize" once every shard is done`);
  return run;
}

function readResult(datasetDir: string, s: ShardSpec): ShardResult | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(shardDir(datasetDir, s), SHARD_RESULT), 'utf8')) as ShardResult;
  } catch {
    return undefined;
  }
}

/** Every shard's result, or a refusal that names the shards still to run. */
function doneShards(datasetDir: string): { count: number; results: ShardResult[] } {
  const present = shardsPresent(datasetDir);
  if (!present.length) throw new UserError('No shard has run on this dataset: run "run FILE --shard K/N" for each K first (or run the pipeline whole).', 'no-shards');
  if (present.length > 1) throw new UserError(`Shards of different runs are in ${path.join(metaDir(datasetDir), 'shards')} (${present.map((p) => `${p.count} shards`).join(' and ')}): remove the folders of the count you did not mean, then finalize.`, 'shards-mixed');
  const { count } = present[0];
  const results: ShardResult[] = [];
  const missing: string[] = [];
  for (let index = 0; index < count; index++) {
    const r = readResult(datasetDir, { index, count });
    if (!r || (r.run.status !== 'success' && r.run.status !== 'partial')) missing.push(`${index + 1}/${count}${r ? ` (${r.run.status}${r.run.error ? `: ${r.run.error}` : ''})` : ''}`);
    else results.push(r);
  }
  if (missing.length) throw new UserError(`Not every shard is done: ${missing.join(', ')}. Run ${missing.length > 1 ? 'them' : 'it'} (a killed shard resumes where it stopped), then finalize again.`, 'shards-missing');
  return { count, results };
}

/** The import steps' results of all shards, as one: counts summed, warnings once, problems and errors together. */
function mergeSteps(results: ShardResult[]): StepResult[] {
  const byName = new Map<string, StepResult>();
  for (const r of results)
    for (const s of r.run.steps) {
      const m = byName.get(s.name);
      if (!m) {
        byName.set(s.name, { ...s, counts: { ...s.counts }, byCategoryLabel: JSON.parse(JSON.stringify(s.byCategoryLabel)), warnings: [...s.warnings], errors: [...s.errors], problems: [...s.problems] });
        continue;
      }
      addCounts(m.counts, s.counts);
      for (const [cat, labels] of Object.entries(s.byCategoryLabel))
        for (const [lab, c] of Object.entries(labels)) addCounts(((m.byCategoryLabel[cat] ??= {})[lab] ??= emptyCounts()), c);
      for (const w of s.warnings) if (!m.warnings.includes(w)) m.warnings.push(w);
      m.errors.push(...s.errors);
      m.problems.push(...s.problems.slice(0, Math.max(0, 500 - m.problems.length)));
      m.durationMs = Math.max(m.durationMs, s.durationMs);
      const rank = ['success', 'partial', 'failed', 'cancelled'];
      if (rank.indexOf(s.status) > rank.indexOf(m.status)) m.status = s.status;
    }
  return [...byName.values()];
}

/** One count moved from `from` to `to`, in the step's totals and in its category and label. */
function recount(step: StepResult | undefined, e: StateEntry, from: keyof Counts, to: keyof Counts): void {
  if (!step) return;
  for (const c of [step.counts, e.category ? step.byCategoryLabel[e.category]?.[e.label ?? UNLABELED] : undefined]) {
    if (!c) continue;
    c[from] = Math.max(0, c[from] - 1);
    c[to]++;
  }
}

/**
 * The same content stored by two shards (neither could see the other's): the sample a single run
 * keeps (one already in the dataset before this run, else the first step's, else the first key in
 * byte order) stays, the others become duplicates, as a single run records them.
 */
function settleDuplicates(datasetDir: string, state: SyncState, before: SyncState, results: ShardResult[], steps: StepResult[]): string[] {
  const sources = results[0]?.sources ?? [];
  const order = new Map(sources.map((s, i) => [s.id, i]));
  const checked = new Set(sources.filter((s) => !s.allowDuplicates).map((s) => s.id));
  const holders = new Map<string, StateEntry[]>();
  for (const e of state.all()) if (e.status === 'synced' && e.path && e.hash && checked.has(e.source)) (holders.get(e.hash) ?? holders.set(e.hash, []).get(e.hash)!).push(e);
  const notes: string[] = [];
  const old = (e: StateEntry) => before.get(e.source, e.key)?.path === e.path && before.get(e.source, e.key)?.hash === e.hash;
  for (const group of holders.values()) {
    if (group.length < 2) continue;
    group.sort((a, b) => Number(old(b)) - Number(old(a)) || (order.get(a.source) ?? 0) - (order.get(b.source) ?? 0) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const [keep, ...rest] = group;
    for (const e of rest) {
      if (e.path !== keep.path) fs.rmSync(path.join(datasetDir, ...e.path!.split('/')), { force: true });
      const step = steps.find((s) => s.sourceId === e.source);
      recount(step, e, before.get(e.source, e.key) ? 'changed' : 'new', 'duplicate');
      if (step) {
        step.counts.checklistOk = Math.max(0, step.counts.checklistOk - 1);
        step.counts.bytes = Math.max(0, step.counts.bytes - e.size);
      }
      state.set({ ...e, path: null, status: 'duplicate', reason: `same content as ${keep.path}` });
      notes.push(`${e.key} (same content as ${keep.path})`);
    }
  }
  return notes.length ? [`${notes.length} duplicate(s) found across shards, kept once: ${notes.slice(0, 10).join(', ')}${notes.length > 10 ? ', …' : ''}.`] : [];
}

/** Every empty folder under the dataset (not .dsp): the shards left them for this. */
function pruneAllEmpty(datasetDir: string): void {
  const dirs: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(datasetDir, ...rel.split('/').filter(Boolean)), { withFileTypes: true })) {
      if (!e.isDirectory() || (rel === '' && e.name === '.dsp')) continue;
      const sub = rel ? `${rel}/${e.name}` : e.name;
      dirs.push(sub);
      walk(sub);
    }
  };
  walk('');
  pruneEmptyDirs(datasetDir, dirs.reverse());
}

/** Merges the shards' journals into the dataset's state; returns the merged state and the state before. */
function mergeStates(datasetDir: string, count: number): { state: SyncState; before: SyncState } {
  const before = SyncState.load(datasetDir);
  const state = SyncState.load(datasetDir);
  for (let index = 0; index < count; index++) state.replay(path.join(shardDir(datasetDir, { index, count }), SHARD_JOURNAL));
  state.changed = true;
  return { state, before };
}

/** `finalize FILE`: the shards' work as one run, then the actions and notifications once. */
export async function finalizePipeline(loaded: LoadedPipeline, o: RunOptions): Promise<RunRecord> {
  const pipeline = requirePipeline(loaded);
  const logger: Logger = o.logger ?? silentLogger;
  const datasetDir = loaded.datasetDir;
  const { count, results } = doneShards(datasetDir);
  const started = Date.now();
  const run = newRunRecord(loaded, pipeline.name, o, started);
  run.startedAt = results.map((r) => r.run.startedAt).sort()[0] ?? run.startedAt;
  run.shards = results.map((r) => ({ shard: r.run.shard ?? '', runId: r.run.id, status: r.run.status, counts: r.run.counts, durationMs: r.run.durationMs }));
  const release = acquireLock(datasetDir, pipeline.name);
  let state: SyncState | undefined;
  try {
    clearTemp(datasetDir);
    const merged = mergeStates(datasetDir, count);
    state = merged.state;
    run.steps = mergeSteps(results);
    const notes = settleDuplicates(datasetDir, state, merged.before, results, run.steps);
    if (notes.length && run.steps[0]) run.steps[0].warnings.push(...notes);
    for (const n of notes) logger.warn(n);
    pruneAllEmpty(datasetDir);
    writeDatasetIndex(datasetDir, state);
    state.compact();
    recordFolders(datasetDir, state);
    for (const s of run.steps) addCounts(run.counts, s.counts);
    logger.info(`Finalized ${count} shard(s) of "${pipeline.name}": ${run.counts.new} new, ${run.counts.changed} changed, ${run.counts.unchanged} unchanged`);
    // The post-sync actions and custom blocks, once, in file order.
    const rs = RunState.of(state, PathClaims.fromState(state));
    for (const step of selectedSteps(pipeline.steps, o.steps).filter((s) => !isImport(s))) {
      if (o.signal?.aborted || run.steps.some((s) => s.status === 'failed')) break;
      const result = await runStep(loaded, step, run, rs, o, logger);
      run.steps.push(result);
      addCounts(run.counts, result.counts);
    }
    settleRun(run, o.signal);
    fs.rmSync(path.join(metaDir(datasetDir), 'shards'), { recursive: true, force: true });
  } catch (err) {
    failRun(run, err, o.signal, logger);
  } finally {
    ended(run, started);
    saveRun(datasetDir, run);
    pruneRuns(datasetDir);
    release();
  }
  await notifyAfter(pipeline, run, datasetDir, o, logger);
  return run;
}
