// Runs pipelines on their intervalStr or cron schedule. Never two runs of one pipeline at a time:
// a tick that finds the previous run still going is skipped and logged.
import { loadPipelineFile } from '../pipeline/validate';
import type { Pipeline } from '../pipeline/model';
import { listRuns } from '../run/history';
import type { Logger } from '../types';
import { nextCronRun, parseCron } from './cron';
import { parseInterval } from './interval';

const MAX_TIMER_MS = 2 ** 31 - 1;

/** When a pipeline should next run, or undefined when it has no schedule. */
export function nextRunTime(p: Pick<Pipeline, 'intervalStr' | 'schedule'>, lastStartedAt: Date | undefined, now: Date): Date | undefined {
  if (p.schedule) {
    try {
      return nextCronRun(parseCron(p.schedule), now);
    } catch {
      return undefined;
    }
  }
  const every = p.intervalStr ? parseInterval(p.intervalStr) : undefined;
  if (!every) return undefined;
  // Intervals count from the last run (or now); a missed slot is not run late, the grid goes on.
  const base = lastStartedAt ? lastStartedAt.getTime() : now.getTime();
  let t = base + every;
  if (t <= now.getTime()) t = now.getTime() + ((every - ((now.getTime() - base) % every)) % every || every);
  return new Date(t);
}

export interface SchedulerClock {
  now(): Date;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const realClock: SchedulerClock = {
  now: () => new Date(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface ScheduledEntry {
  file: string;
  name?: string;
  nextRunAt?: Date;
  running: boolean;
  error?: string;
}

export class Scheduler {
  private readonly entries = new Map<string, ScheduledEntry & { timer?: unknown; lastStartedAt?: Date }>();
  private stopped = false;

  constructor(
    private readonly runOne: (file: string) => Promise<unknown>,
    private readonly logger: Logger,
    private readonly clock: SchedulerClock = realClock,
  ) {}

  /** (Re)reads these pipeline files and arms their timers. */
  set(files: string[]): void {
    for (const [file, e] of this.entries) {
      if (!files.includes(file)) {
        if (e.timer !== undefined) this.clock.clearTimer(e.timer);
        this.entries.delete(file);
      }
    }
    for (const file of files) this.reload(file);
  }

  reload(file: string): void {
    const prev = this.entries.get(file);
    if (prev?.timer !== undefined) this.clock.clearTimer(prev.timer);
    const loaded = loadPipelineFile(file);
    const entry: ScheduledEntry & { timer?: unknown; lastStartedAt?: Date } = { file, running: prev?.running ?? false, name: loaded.pipeline?.name, lastStartedAt: prev?.lastStartedAt };
    this.entries.set(file, entry);
    if (!loaded.pipeline) {
      entry.error = 'invalid pipeline: not scheduled until fixed';
      return;
    }
    if (!entry.lastStartedAt) {
      const last = listRuns(loaded.datasetDir, 1)[0];
      if (last) entry.lastStartedAt = new Date(last.startedAt);
    }
    this.arm(entry, loaded.pipeline);
  }

  private arm(entry: ScheduledEntry & { timer?: unknown; lastStartedAt?: Date }, pipeline: Pipeline): void {
    if (this.stopped) return;
    const now = this.clock.now();
    entry.nextRunAt = nextRunTime(pipeline, entry.lastStartedAt, now);
    if (!entry.nextRunAt) return;
    const wait = Math.max(0, entry.nextRunAt.getTime() - now.getTime());
    entry.timer = this.clock.setTimer(() => {
      entry.timer = undefined;
      if (wait > MAX_TIMER_MS) return this.arm(entry, pipeline); // long waits are re-armed in steps
      void this.fire(entry, pipeline);
    }, Math.min(wait, MAX_TIMER_MS));
  }

  private async fire(entry: ScheduledEntry & { timer?: unknown; lastStartedAt?: Date }, pipeline: Pipeline): Promise<void> {
    if (entry.running) {
      this.logger.warn(`${pipeline.name}: the previous run is still going; this scheduled run is skipped.`);
    } else {
      entry.running = true;
      entry.lastStartedAt = this.clock.now();
      try {
        await this.runOne(entry.file);
      } catch (err) {
        this.logger.error(`${pipeline.name}: scheduled run failed: ${(err as Error).message}`);
      } finally {
        entry.running = false;
      }
    }
    if (this.entries.get(entry.file) === entry) this.arm(entry, pipeline);
  }

  /** Marks a run started elsewhere (editor, API) so the schedule does not overlap it. */
  markRunning(file: string, running: boolean): void {
    const e = this.entries.get(file);
    if (e) e.running = running;
  }

  list(): ScheduledEntry[] {
    return [...this.entries.values()].map(({ file, name, nextRunAt, running, error }) => ({ file, name, nextRunAt, running, error }));
  }

  stop(): void {
    this.stopped = true;
    for (const e of this.entries.values()) if (e.timer !== undefined) this.clock.clearTimer(e.timer);
  }
}
