// Starts pipeline runs for the API and the scheduler: one run per pipeline file at a time.
import type { NotifyOptions } from '../notify';
import type { Resolver } from '../pipeline/refs';
import { loadPipelineFile } from '../pipeline/validate';
import { runPipeline } from '../run/engine';
import { Scheduler } from '../schedule/scheduler';
import type { Logger, RunRecord, Trigger } from '../types';

export interface ActiveRun {
  controller: AbortController;
  runId?: string;
}

export interface StartedRun {
  /** The record as the run starts (or the finished one, if it ends before it starts). */
  started: Promise<RunRecord>;
  finished: Promise<RunRecord>;
}

export interface RunnerOptions {
  files: string[];
  schedule?: boolean;
  logger: Logger;
  resolver?: Resolver;
  notify?: NotifyOptions;
}

export class PipelineRunner {
  /** Runs in progress, by pipeline file. */
  readonly active = new Map<string, ActiveRun>();
  readonly scheduler?: Scheduler;

  constructor(private readonly o: RunnerOptions) {
    if (o.schedule !== false) {
      this.scheduler = new Scheduler((file) => this.start(file, 'schedule').finished, o.logger);
      this.scheduler.set(o.files);
    }
  }

  /** Starts a run now; the caller checks `active` first (no await between the check and this). */
  start(file: string, trigger: Trigger, steps?: string[], extra: { verifyLocal?: boolean } = {}): StartedRun {
    const loaded = loadPipelineFile(file);
    const controller = new AbortController();
    let onStarted!: (r: RunRecord) => void;
    const started = new Promise<RunRecord>((resolve) => (onStarted = resolve));
    this.active.set(file, { controller });
    this.scheduler?.markRunning(file, true);
    const finished = runPipeline(loaded, {
      trigger,
      steps,
      verifyLocal: extra.verifyLocal,
      signal: controller.signal,
      logger: this.o.logger,
      resolver: this.o.resolver,
      notify: this.o.notify,
      onStart: (r) => {
        const a = this.active.get(file);
        if (a) a.runId = r.id;
        onStarted(r);
      },
    }).finally(() => {
      this.active.delete(file);
      this.scheduler?.markRunning(file, false);
    });
    return { started: Promise.race([started, finished]), finished };
  }

  /** Stops the schedule and cancels every run in progress. */
  stop(): void {
    this.scheduler?.stop();
    for (const a of this.active.values()) a.controller.abort();
  }
}
