// The entry points the CLI and the editor call: preview, verify and run a loaded pipeline.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { acquireLock } from '../dataset/lock';
import { writeDatasetIndex } from '../dataset/datasetIndex';
import { PathClaims } from '../dataset/identity';
import { foldersRecorded, localFiles, recordFolders } from '../dataset/localFiles';
import { SyncState } from '../dataset/state';
import { isActionBlock, isImportBlock, stepType, type ImportBlock, type Pipeline, type Step } from '../pipeline/model';
import { envResolver, type Resolver } from '../pipeline/refs';
import type { LoadedPipeline } from '../pipeline/validate';
import { createSource, errorKind, type SourceContext } from '../sources';
import { emptyCounts, silentLogger, type Counts, type Logger, type ProgressEvent, type RunRecord, type Source, type SourceObject, type StepPreview, type StepResult, type Trigger, type VerifyResult } from '../types';
import { errorMessage, UserError } from '../util/errors';
import { clearTemp, executeStep } from './execute';
import { markAbandoned, newRunId, pruneRuns, saveRun } from './history';
import { planStep } from './plan';
import { readSourceLabels } from './sourceLabels';
import { shardDir, shardsPresent, type ShardSpec } from './shard';
import { loadOverrides } from '../dataset/overrides';
import type { NotifyOptions } from '../notify';
import { keepListingHint, readListingHints } from './listingHints';
import { ListingDigest, memoInputs, recordMemo, reusableResult, stateSignature, type MemoInputs } from './noopMemo';

export interface EngineOptions {
  /** Plan (preview) or carry out (run) only this shard's share of the import steps (src/core/run/shard.ts); finalize does the rest. */
  shard?: ShardSpec;
  signal?: AbortSignal;
  logger?: Logger;
  resolver?: Resolver;
  onProgress?: (e: ProgressEvent) => void;
  /** Only these steps (by name). */
  steps?: string[];
  /** Overrides every step's concurrency. */
  concurrency?: number;
  /** Check every file the state vouches for on disk (a stat each, sizes compared); otherwise one stat per folder. */
  verifyLocal?: boolean;
  /** For tests and embedding: how sources are made. */
  sourceFactory?: (block: ImportBlock, ctx: SourceContext) => Promise<Source>;
}

export interface RunOptions extends EngineOptions {
  trigger: Trigger;
  dryRun?: boolean;
  /** Called once the run record exists (status running). */
  onStart?: (run: RunRecord) => void;
  /** How to send the pipeline's webhook and email; false sends nothing. */
  notify?: NotifyOptions | false;
}

export function requirePipeline(loaded: LoadedPipeline) {
  if (!loaded.pipeline) {
    const first = loaded.problems.find((p) => p.severity === 'error');
    throw new UserError(`The pipeline file has errors; fix them first (run "data-pipelines validate ${loaded.file}").${first ? ` First: line ${first.range.line}: ${first.message}` : ''}`, 'invalid-pipeline');
  }
  return loaded.pipeline;
}

export function selectedSteps(steps: Step[], only?: string[]): Step[] {
  if (!only?.length) return steps.filter((s) => s.enabled !== false);
  const missing = only.filter((n) => !steps.some((s) => s.name === n));
  if (missing.length) throw new UserError(`No step named ${missing.map((m) => `"${m}"`).join(', ')}. Steps: ${steps.map((s) => `"${s.name}"`).join(', ')}.`, 'unknown-step');
  return steps.filter((s) => only.includes(s.name));
}

function contextFor(loaded: LoadedPipeline, step: Step, o: EngineOptions, hints?: Record<string, string[]>): SourceContext {
  return { baseDir: path.dirname(path.resolve(loaded.file)), datasetDir: loaded.datasetDir, resolver: o.resolver ?? envResolver(), logger: o.logger ?? silentLogger, step: step.name, listingHint: hints && ((id) => hints[id]) };
}

async function listAll(source: Source, step: string, o: EngineOptions, digest?: ListingDigest): Promise<SourceObject[]> {
  const out: SourceObject[] = [];
  let last = 0;
  for await (const obj of source.list(o.signal)) {
    out.push(obj);
    digest?.add(obj);
    if (o.onProgress && out.length - last >= 1000) {
      last = out.length;
      o.onProgress({ step, phase: 'listing', done: out.length, total: 0, bytes: 0, message: `listed ${out.length} objects` });
    }
  }
  o.onProgress?.({ step, phase: 'listing', done: out.length, total: out.length, bytes: 0, message: `listed ${out.length} objects` });
  return out;
}

/** What a run would do, without writing anything. */
export async function previewPipeline(loaded: LoadedPipeline, o: EngineOptions = {}): Promise<StepPreview[]> {
  const pipeline = requirePipeline(loaded);
  let state: SyncState | undefined;
  try {
    state = SyncState.load(loaded.datasetDir);
  } catch {
    state = undefined;
  }
  const claims = PathClaims.fromState(state);
  const local = localFiles(loaded.datasetDir, { verify: o.verifyLocal });
  const out: StepPreview[] = [];
  for (const step of selectedSteps(pipeline.steps, o.steps)) {
    const block = step.builtinTransformationBlock;
    if (!isImportBlock(block)) continue;
    const source = await (o.sourceFactory ?? createSource)(block, contextFor(loaded, step, o, readListingHints(loaded.datasetDir)));
    try {
      const objects = await listAll(source, step.name, o);
      const given = await readSourceLabels(source, objects, o.signal);
      const preview = planStep(objects, { sourceId: source.id, step: step.name, type: block.type, block, state, claims, sourceLabels: given.labels, overrides: loadOverrides(loaded.datasetDir), local, shard: o.shard });
      preview.warnings.push(...given.warnings);
      out.push(preview);
    } finally {
      await source.close?.();
    }
  }
  return out;
}

export interface StepVerification {
  step: string;
  type: string;
  result: VerifyResult;
}

/** Checks each import step's location and credentials; never throws for a bad bucket or key. */
export async function verifyPipeline(loaded: LoadedPipeline, o: EngineOptions = {}): Promise<StepVerification[]> {
  const pipeline = requirePipeline(loaded);
  const out: StepVerification[] = [];
  for (const step of selectedSteps(pipeline.steps, o.steps)) {
    const block = step.builtinTransformationBlock;
    if (!isImportBlock(block)) continue;
    let result: VerifyResult;
    try {
      const source = await (o.sourceFactory ?? createSource)(block, contextFor(loaded, step, o));
      try {
        result = await source.verify(o.signal);
      } finally {
        await source.close?.();
      }
    } catch (err) {
      result = { ok: false, detail: errorMessage(err), code: (err as { code?: string }).code, kind: errorKind(err), sampleFiles: [] };
    }
    out.push({ step: step.name, type: block.type, result });
  }
  return out;
}

export function addCounts(a: Counts, b: Counts): void {
  for (const k of Object.keys(a) as (keyof Counts)[]) a[k] += b[k];
}

/** The listing entries the executor reads (what it fetches, and the duplicates it records): a no-op keeps none. */
function objectsToFetch(listed: SourceObject[], preview: StepPreview): Map<string, SourceObject> {
  const wanted = new Set<string>();
  for (const it of preview.items) if (it.action === 'download' || it.action === 'move' || it.status === 'duplicate') wanted.add(it.key);
  const objects = new Map<string, SourceObject>();
  if (wanted.size) for (const x of listed) if (wanted.has(x.key)) objects.set(x.key, x);
  return objects;
}

/**
 * The run's sync state and path claims, loaded on first use: a re-sync whose plan is the last
 * no-op's (noopMemo.ts) reads neither. `noops`: the import steps that planned nothing to do.
 */
export class RunState {
  private s: SyncState | undefined;
  private c: PathClaims | undefined;
  readonly noops = new Map<string, { inputs: MemoInputs; result: StepResult }>();

  constructor(
    private readonly load: () => SyncState,
    /** Whether import steps may reuse, and record, a no-op's result. */
    readonly memo = false,
  ) {}

  static of(state: SyncState, claims: PathClaims): RunState {
    const r = new RunState(() => state);
    [r.s, r.c] = [state, claims];
    return r;
  }

  get state(): SyncState {
    return (this.s ??= this.load());
  }

  get claims(): PathClaims {
    return (this.c ??= PathClaims.fromState(this.state));
  }

  /** The state, if something has loaded it. */
  get loaded(): SyncState | undefined {
    return this.s;
  }
}

/** A step result that is the last no-op's, reused (noopMemo.ts), says so. */
export const NOOP_REUSED = 'nothing changed since the last run: its plan stands';

/** The last no-op's result for this step, when the listing and every other input are as they were then. */
function reuseNoop(loaded: LoadedPipeline, step: Step, sourceId: string, inputs: MemoInputs, rs: RunState, o: RunOptions, logger: Logger): StepResult | undefined {
  if (rs.loaded?.changed) return undefined; // an earlier step of this run changed the state
  const started = Date.now();
  const reused = reusableResult(loaded.datasetDir, step.name, inputs);
  if (!reused) return undefined;
  const result: StepResult = { ...(JSON.parse(JSON.stringify(reused)) as StepResult), durationMs: 0, message: NOOP_REUSED };
  logger.info(`[${step.name}] ${result.counts.unchanged} unchanged: the listing, the step's settings, the sync state, the labels people gave and the dataset's folders are as the last run found them, so its plan stands (nothing to do)`);
  o.onProgress?.({ step: step.name, phase: 'transferring', done: 0, total: 0, bytes: 0, message: NOOP_REUSED });
  rs.noops.set(step.name, { inputs, result });
  result.sourceId = sourceId;
  result.durationMs = Date.now() - started;
  return result;
}

/** A plan with nothing to carry out (every item skipped or rejected). */
const nothingToDo = (preview: StepPreview, objects: Map<string, SourceObject>) => objects.size === 0 && preview.items.every((it) => it.action === 'skip' || it.action === 'reject');

/** One import step: list, plan, transfer. Its own function, so the listing and the plan (the
 * bulk of a large run's memory) can be collected before the state is written. */
async function importStep(loaded: LoadedPipeline, step: Step, block: ImportBlock, rs: RunState, o: RunOptions, logger: Logger): Promise<StepResult> {
  const hints = readListingHints(loaded.datasetDir);
  const source = await (o.sourceFactory ?? createSource)(block, contextFor(loaded, step, o, hints));
  try {
    logger.info(`[${step.name}] listing ${source.id}`);
    const digest = rs.memo ? new ListingDigest() : undefined;
    const listed = await listAll(source, step.name, o, digest);
    if (source.listingPlan) keepListingHint(loaded.datasetDir, source.id, source.listingPlan(), hints);
    const inputs = digest && memoInputs(loaded.datasetDir, step.name, source.id, block, digest.digest());
    const reused = inputs && reuseNoop(loaded, step, source.id, inputs, rs, o, logger);
    if (reused) return reused;
    const { state, claims } = rs;
    const given = await readSourceLabels(source, listed, o.signal);
    if (given.labels.size) logger.info(`[${step.name}] the source's info.labels gives labels and categories for ${given.labels.size} files`);
    const local = localFiles(loaded.datasetDir, { verify: o.verifyLocal });
    const preview = planStep(listed, { sourceId: source.id, step: step.name, type: block.type, block, state, claims, sourceLabels: given.labels, overrides: loadOverrides(loaded.datasetDir), local, shard: o.shard });
    preview.warnings.push(...given.warnings);
    const objects = objectsToFetch(listed, preview);
    const noop = inputs && !given.warnings.length && nothingToDo(preview, objects);
    logger.info(`[${step.name}] ${listed.length} objects: ${preview.counts.new} new, ${preview.counts.changed} changed, ${preview.counts.unchanged} unchanged, ${preview.counts.rejected} rejected`);
    listed.length = 0;
    const result = await executeStep({
      source,
      block,
      preview,
      objects,
      state,
      claims,
      datasetDir: loaded.datasetDir,
      // Pinned by --concurrency or the step's "concurrency"; otherwise it adapts from the source's start.
      concurrency: o.concurrency ?? block.concurrency ?? source.defaultConcurrency,
      maxConcurrency: o.concurrency ?? block.concurrency ?? source.maxConcurrency,
      signal: o.signal,
      logger,
      onProgress: o.onProgress,
      tmpBase: o.shard ? path.join(shardDir(loaded.datasetDir, o.shard), 'tmp') : undefined,
      keepEmptyDirs: !!o.shard,
    });
    result.sourceId = source.id;
    for (const p of result.problems.slice(0, 50)) logger.warn(`[${step.name}] ${p.key}: ${p.reason}`);
    // Nothing transferred, so the status (success, or partial for keys the plan rejects) is the plan's too.
    if (noop && !local.moved && !state.changed && (result.status === 'success' || result.status === 'partial')) rs.noops.set(step.name, { inputs, result });
    // After the step's last write: the folders' times, so the next plan stats folders, not files
    // (a shard leaves it to finalize: the other shards are still writing).
    if (!o.shard && (state.changed || local.moved || !foldersRecorded(loaded.datasetDir))) recordFolders(loaded.datasetDir, state);
    return result;
  } finally {
    await source.close?.();
  }
}

export function newRunRecord(loaded: LoadedPipeline, name: string, o: RunOptions, started: number): RunRecord {
  return {
    id: newRunId(),
    pipeline: name,
    pipelineFile: path.resolve(loaded.file),
    trigger: o.trigger,
    startedAt: new Date(started).toISOString(),
    status: 'running',
    dryRun: !!o.dryRun,
    steps: [],
    counts: emptyCounts(),
  };
}

export function ended(run: RunRecord, started: number): void {
  run.endedAt = new Date().toISOString();
  run.durationMs = Date.now() - started;
}

/** A dry run: the preview's counts as the run's, nothing written. */
async function dryRun(loaded: LoadedPipeline, run: RunRecord, o: RunOptions, started: number): Promise<RunRecord> {
  const previews = await previewPipeline(loaded, o);
  for (const p of previews) run.steps.push({ name: p.step, type: p.type, status: 'success', counts: p.counts, byCategoryLabel: {}, warnings: p.warnings, errors: [], problems: [], durationMs: 0 });
  for (const s of run.steps) addCounts(run.counts, s.counts);
  run.status = 'success';
  ended(run, started);
  return run;
}

const emptyResult = (step: Step, status: StepResult['status'], errors: string[], since: number): StepResult => ({ name: step.name, type: stepType(step), status, counts: emptyCounts(), byCategoryLabel: {}, warnings: [], errors, problems: [], durationMs: Date.now() - since });

/** One step of a run, of any kind; never throws: a failure is the step's result. */
export async function runStep(loaded: LoadedPipeline, step: Step, run: RunRecord, rs: RunState, o: RunOptions, logger: Logger): Promise<StepResult> {
  const started = Date.now();
  const block = step.builtinTransformationBlock;
  const datasetDir = loaded.datasetDir;
  try {
    if (isImportBlock(block)) {
      const result = await importStep(loaded, step, block, rs, o, logger);
      // An unchanged dataset keeps its state file and info.labels as they are; a shard writes neither (finalize does).
      if (!o.shard && (rs.loaded?.changed || !fs.existsSync(path.join(datasetDir, 'info.labels')) || !fs.existsSync(path.join(datasetDir, 'labels.txt')))) writeDatasetIndex(datasetDir, rs.state);
      rs.loaded?.compact();
      return result;
    }
    o.onProgress?.({ step: step.name, phase: 'action', done: 0, total: 1, bytes: 0 });
    // The actions (training, deployment zips, the explorer) load with the first action step.
    const { runActionStep, runCustomStep } = await import('./actions');
    if (isActionBlock(block)) return await runActionStep(step, block, { loaded, run, state: rs.state, logger, signal: o.signal, resolver: o.resolver ?? envResolver() });
    return await runCustomStep(step, { loaded, run, state: rs.state, logger, signal: o.signal, resolver: o.resolver ?? envResolver() });
  } catch (err) {
    if (o.signal?.aborted) return emptyResult(step, 'cancelled', [], started);
    logger.error(`[${step.name}] ${errorMessage(err)}`);
    return emptyResult(step, 'failed', [errorMessage(err)], started);
  }
}

/** The steps in order, each result saved as it lands; a failed import ends the run. */
async function runSteps(loaded: LoadedPipeline, steps: Step[], run: RunRecord, rs: RunState, o: RunOptions, logger: Logger): Promise<void> {
  for (const step of steps) {
    if (o.signal?.aborted) break;
    const result = await runStep(loaded, step, run, rs, o, logger);
    run.steps.push(result);
    addCounts(run.counts, result.counts);
    saveRun(loaded.datasetDir, run);
    if (result.status === 'failed' && isImportBlock(step.builtinTransformationBlock)) {
      logger.error(`[${step.name}] failed; later steps are skipped.`);
      break;
    }
  }
  settleRun(run, o.signal);
}

/** The run's status from its steps' (the worst wins; cancelled when the signal aborted), and the first failure's error. */
export function settleRun(run: RunRecord, signal: AbortSignal | undefined): void {
  const statuses = run.steps.map((s) => s.status);
  run.status = signal?.aborted || statuses.includes('cancelled') ? 'cancelled' : statuses.includes('failed') ? 'failed' : statuses.includes('partial') ? 'partial' : 'success';
  if (run.status === 'failed') run.error = run.steps.find((s) => s.status === 'failed')?.errors[0];
}

/** A run that threw: failed (or cancelled), with the error as its message and in the log. */
export function failRun(run: RunRecord, err: unknown, signal: AbortSignal | undefined, logger: Logger): void {
  run.status = signal?.aborted ? 'cancelled' : 'failed';
  run.error = errorMessage(err);
  logger.error(run.error);
}

export async function notifyAfter(pipeline: Pipeline, run: RunRecord, datasetDir: string, o: RunOptions, logger: Logger): Promise<void> {
  if (o.notify === false || !(pipeline.notificationWebhook || pipeline.emailRecipients?.length)) return;
  try {
    const { notifyRun } = await import('../notify'); // the webhook's https and the mailer, only when there is something to send
    run.notifications = await notifyRun(pipeline, run, o.notify ?? {}, logger);
    saveRun(datasetDir, run);
  } catch (err) {
    logger.warn(`notifications failed: ${errorMessage(err)}`);
  }
}

/** Runs the pipeline: imports, then actions and custom blocks, in file order, under the dataset's lock. */
export async function runPipeline(loaded: LoadedPipeline, o: RunOptions): Promise<RunRecord> {
  if (o.shard && !o.dryRun) return (await import('./sharded')).runShard(loaded, o, o.shard);
  const pipeline = requirePipeline(loaded);
  const logger = o.logger ?? silentLogger;
  const steps = selectedSteps(pipeline.steps, o.steps);
  const datasetDir = loaded.datasetDir;
  const started = Date.now();
  const run = newRunRecord(loaded, pipeline.name, o, started);
  if (o.dryRun) return dryRun(loaded, run, o, started);

  // A sharded run not yet finalized: a whole run now would be overwritten by its journals at finalize.
  const shards = shardsPresent(datasetDir);
  if (shards.length) throw new UserError(`This dataset holds the shards of a sharded run that was not finalized (${shards.map((x) => `${x.indexes.length} of ${x.count}`).join(', ')} in ${path.join(datasetDir, '.dsp', 'shards')}). Run "finalize" once every shard is done, or remove that folder to drop them; then run again.`, 'shards-pending');
  const release = acquireLock(datasetDir, pipeline.name);
  // Loaded by the first step that needs it; --verify-local always plans in full.
  const rs = new RunState(() => SyncState.load(datasetDir), !o.verifyLocal);
  const stateBefore = stateSignature(datasetDir);
  try {
    markAbandoned(datasetDir);
    saveRun(datasetDir, run);
    o.onStart?.(run);
    clearTemp(datasetDir);
    logger.info(`Run ${run.id} of "${pipeline.name}" (${o.trigger}) into ${datasetDir}`);
    await runSteps(loaded, steps, run, rs, o, logger);
  } catch (err) {
    failRun(run, err, o.signal, logger);
  } finally {
    try {
      rs.loaded?.compact();
    } catch (err) {
      logger.error(`could not save the sync state: ${errorMessage(err)}`);
    }
    try {
      // After the state's last write: the import steps that had nothing to do, for the next run.
      if (rs.memo) recordMemo(datasetDir, stateBefore, run.status === 'cancelled' ? new Map() : rs.noops);
    } catch (err) {
      logger.warn(`could not record the no-op memo (the next run plans in full): ${errorMessage(err)}`);
    }
    ended(run, started);
    saveRun(datasetDir, run);
    pruneRuns(datasetDir);
    release();
  }
  logger.info(`Run ${run.id} ${run.status} in ${run.durationMs} ms`);
  await notifyAfter(pipeline, run, datasetDir, o, logger);
  return run;
}
