// Carries out a step's plan. The planner has made every decision; this runs them in named parts:
// the tally (transfer/tally.ts), fetching to a temporary file (transfer/fetch.ts), the transfer
// queue that adapts to throttling (transfer/queue.ts), and storing and recording each sample
// (transfer/store.ts). Cancellation stops new transfers; progress is throttled to 10 a second.
import * as fs from 'node:fs';
import { setMaxListeners } from 'node:events';
import type { PathClaims } from '../dataset/identity';
import type { SyncState } from '../dataset/state';
import type { ImportBlock } from '../pipeline/model';
import type { Logger, PlanItem, ProgressEvent, Source, SourceErrorKind, SourceObject, StepPreview, StepResult } from '../types';
import { errorMessage } from '../util/errors';
import { fetchToTemp, tmpDir } from './transfer/fetch';
import { runTransferQueue } from './transfer/queue';
import { StepStore } from './transfer/store';
import { StepTally } from './transfer/tally';

export { clearTemp, tmpDir } from './transfer/fetch';
export { pruneEmptyDirs } from './transfer/store';

const MAX_ATTEMPTS = 5;
/** Bodies in flight are held in memory (up to 16 MiB each): the limit's growth stops at this many bytes' worth. */
const IN_FLIGHT_MEMORY = 256 * 1024 * 1024;

/** The most transfers in flight: the source's (or the pinned) limit, and no more than the memory allows. */
function concurrencyCap(o: ExecuteOptions, queue: (PlanItem | undefined)[]): number {
  const max = Math.max(o.concurrency, o.maxConcurrency ?? 0);
  if (max <= o.concurrency) return max;
  let bytes = 0;
  for (const it of queue) bytes += Math.min(o.objects.get(it!.key)?.size ?? 0, 16 * 1024 * 1024);
  const mean = Math.max(64 * 1024, bytes / Math.max(1, queue.length));
  return Math.max(o.concurrency, Math.min(max, Math.floor(IN_FLIGHT_MEMORY / mean)));
}

export interface ExecuteOptions {
  source: Source;
  block: ImportBlock;
  preview: StepPreview;
  objects: Map<string, SourceObject>;
  state: SyncState;
  claims: PathClaims;
  datasetDir: string;
  /** Transfers in flight to begin with. */
  concurrency: number;
  /** How far they may grow while throughput grows (bounded again here by memory); unset: pinned. */
  maxConcurrency?: number;
  signal?: AbortSignal;
  logger: Logger;
  onProgress?: (e: ProgressEvent) => void;
  /** Temporary files here instead of the dataset's .dsp/tmp (a shard's own). */
  tmpBase?: string;
  /** Leave the folders a file left (a shard: another shard may be writing into them; finalize prunes). */
  keepEmptyDirs?: boolean;
}

/** A signal of our own that follows the caller's; every transfer in flight listens to it. */
function followSignal(outer: AbortSignal | undefined): { signal: AbortSignal; stop: (reason: Error) => void; detach: () => void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', onAbort, { once: true });
  setMaxListeners(0, controller.signal);
  return { signal: controller.signal, stop: (reason) => controller.abort(reason), detach: () => outer?.removeEventListener('abort', onAbort) };
}

const kindOf = (err: unknown): SourceErrorKind | undefined => (err as { kind?: SourceErrorKind } | undefined)?.kind;

/**
 * A fetch that failed for good, read by the SourceError's kind: an object deleted since the
 * listing is reported and left for the next run; refused credentials stop the step (every other
 * transfer would fail the same way); anything else fails that sample.
 */
function fetchFailed(tally: StepTally, it: PlanItem, err: unknown, stop: (reason: Error) => void): void {
  const kind = kindOf(err);
  if (kind === 'not-found') {
    tally.counts.skipped++;
    tally.problem(it.key, 'gone from the source since it was listed; the next run forgets it');
    return;
  }
  tally.count(it, 'rejected');
  tally.fail(it.key, 'download failed', err);
  if (kind === 'auth') {
    tally.errors.push(`The store refused the credentials during the run (${errorMessage(err)}); the remaining transfers were stopped. Check the credentials (Verify credentials), then run again: nothing stored is lost.`);
    stop(new Error('credentials refused'));
  }
}

/** Everything that needs no transfer, done in plan order; returns what must be fetched. */
async function settlePlan(items: PlanItem[], store: StepStore, objects: Map<string, SourceObject>): Promise<PlanItem[]> {
  const queue: PlanItem[] = [];
  for (const it of items) {
    if (it.action === 'download') queue.push(it);
    else if (it.action === 'move') {
      if (!(await store.move(it))) queue.push(it); // the stored file went away since the plan: fetch it again
    } else if (it.action === 'delete') await store.remove(it);
    else store.settle(it, objects.get(it.key));
  }
  return queue;
}

/** Progress events, at most ten a second unless forced. */
function progressEmitter(o: ExecuteOptions, tally: StepTally, total: number) {
  let lastEmit = 0;
  const p = { done: 0 };
  const emit = (force = false) => {
    const t = Date.now();
    if (!force && t - lastEmit < 100) return;
    lastEmit = t;
    o.onProgress?.({ step: o.preview.step, phase: 'transferring', done: p.done, total, bytes: tally.counts.bytes });
  };
  return { p, emit };
}

export async function executeStep(o: ExecuteOptions): Promise<StepResult> {
  const started = Date.now();
  const { preview, source, logger, objects } = o;
  const tally = new StepTally(preview.warnings);
  tally.notePlanWarnings(preview.items);
  const { signal, stop, detach } = followSignal(o.signal);
  const tmpBase = o.tmpBase ?? tmpDir(o.datasetDir);
  fs.mkdirSync(tmpBase, { recursive: true });
  const store = new StepStore({ sourceId: source.id, allowDuplicates: !!o.block.allowDuplicates, state: o.state, claims: o.claims, datasetDir: o.datasetDir, tally });

  const queue: (PlanItem | undefined)[] = await settlePlan(preview.items, store, objects);
  // The plan is consumed from here on: what is done is let go, so a 100,000-object run does not
  // hold every listing entry and plan item until the end.
  preview.items = [];
  const total = queue.length;
  const how = await source.prepareTransfers?.(total, tmpBase);
  if (how) logger.info(`[${preview.step}] ${how}`);
  const { p, emit } = progressEmitter(o, tally, total);
  emit(true);
  const cap = concurrencyCap(o, queue);
  const limits = await runTransferQueue(queue, {
    concurrency: o.concurrency,
    maxConcurrency: cap,
    maxAttempts: MAX_ATTEMPTS,
    signal,
    fetch: (it) => fetchToTemp(source, objects.get(it.key)!, tmpBase, signal),
    store: (it, fetched) => store.place(it, objects.get(it.key)!, fetched),
    giveUp: (it, err, stage) => (stage === 'fetch' ? fetchFailed(tally, it, err, stop) : tally.fail(it.key, 'failed', err)),
    onRetry: (it, attempt, err) => logger.debug(`retry ${attempt} for ${it.key}: ${errorMessage(err)}`),
    onSettled: (it) => {
      objects.delete(it.key); // a settled item is let go of the listing too
      p.done++;
      emit();
    },
  });
  detach();
  if (total) logger.info(`[${preview.step}] transfers in flight: started at ${o.concurrency}, peaked at ${limits.peakLimit}, ended at ${limits.endLimit} (cap ${cap})`);
  store.finish(!o.keepEmptyDirs);
  emit(true);
  return tally.result({ name: preview.step, type: preview.type }, total, !!o.signal?.aborted, started);
}
