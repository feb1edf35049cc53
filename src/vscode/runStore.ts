// Run history as the editor shows it: per dataset folder, newest first, kept in memory. Fed by the
// runner (a run starts, progresses, ends) and reloaded asynchronously when run records change on
// disk (the CLI, another window). The trees and the CodeLens read from here, never from the disk.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunRecord, StepResult } from '../core';
import { core } from './core';
import { readRuns } from './lib/runRecords';

/** As many records per folder as the views ever showed (listRuns(dir, 50)). */
export const RUNS_PER_FOLDER = 50;

export class RunStore implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires after the history of any folder changed (a reload, or a run fed by the runner). */
  readonly onDidChange = this.changed.event;
  /** Records on disk, by dataset folder, newest first. */
  private readonly disk = new Map<string, RunRecord[]>();
  /** Loads in flight, by folder: asking twice waits for the same read. */
  private readonly loading = new Map<string, Promise<void>>();
  /** Records the runner handed over, by folder then run id: newer than the disk while a run is on. */
  private readonly live = new Map<string, Map<string, RunRecord>>();

  /** The runs of a dataset folder, newest first; the first ask for a folder reads it (async). */
  async runs(datasetDir: string, limit = RUNS_PER_FOLDER): Promise<RunRecord[]> {
    const dir = path.resolve(datasetDir);
    if (!this.disk.has(dir)) await this.load(dir);
    return this.merged(dir).slice(0, limit);
  }

  /** The newest result of a step in a folder's history. */
  async lastStepResult(datasetDir: string, step: string): Promise<{ run: RunRecord; result: StepResult } | undefined> {
    for (const run of await this.runs(datasetDir)) {
      const result = run.steps.find((s) => s.name === step);
      if (result) return { run, result };
    }
    return undefined;
  }

  /** A run the runner started, progressed or finished. */
  update(datasetDir: string, run: RunRecord): void {
    const dir = path.resolve(datasetDir);
    let m = this.live.get(dir);
    if (!m) this.live.set(dir, (m = new Map()));
    m.set(run.id, run);
    this.changed.fire();
  }

  /** A run the runner gave up on (it threw): what the disk says about it counts again. */
  async settle(datasetDir: string, id: string): Promise<void> {
    const dir = path.resolve(datasetDir);
    if (this.live.get(dir)?.get(id)?.status === 'running') this.live.get(dir)?.delete(id);
    await this.reload([dir]);
  }

  /** Reads the folders again (all known ones when none are named), then tells the views. */
  async reload(datasetDirs?: string[]): Promise<void> {
    const dirs = datasetDirs?.map((d) => path.resolve(d)) ?? [...this.disk.keys()];
    await Promise.all(dirs.map((d) => this.load(d, true)));
    if (dirs.length) this.changed.fire();
  }

  /** Forgets folders no pipeline writes to any more. */
  retain(datasetDirs: Iterable<string>): void {
    const keep = new Set([...datasetDirs].map((d) => path.resolve(d)));
    for (const d of [...this.disk.keys()]) if (!keep.has(d)) this.disk.delete(d);
  }

  dispose(): void {
    this.changed.dispose();
  }

  private merged(dir: string): RunRecord[] {
    const fromDisk = this.disk.get(dir) ?? [];
    const live = this.live.get(dir);
    if (!live?.size) return fromDisk;
    const out = fromDisk.filter((r) => !live.has(r.id));
    out.push(...live.values());
    return out.sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.id.localeCompare(a.id));
  }

  private load(dir: string, again = false): Promise<void> {
    const inFlight = this.loading.get(dir);
    // A reload asked for while a read is on starts after it: the read may predate the change.
    const p = (inFlight && !again ? inFlight : (inFlight ?? Promise.resolve()).catch(() => undefined).then(() => this.read(dir))).finally(() => {
      if (this.loading.get(dir) === p) this.loading.delete(dir);
    });
    this.loading.set(dir, p);
    return p;
  }

  private async read(dir: string): Promise<void> {
    const records = await readRuns((await core()).runsDir(dir), RUNS_PER_FOLDER);
    this.disk.set(dir, records);
    // A run whose record on disk says it ended: the disk is the truth again.
    const live = this.live.get(dir);
    if (!live) return;
    for (const r of records) if (r.status !== 'running' && live.has(r.id)) live.delete(r.id);
  }
}
