// Runs pipelines that have an intervalStr or a cron schedule while the workspace is open and
// trusted, through the core's scheduler (never two runs of one pipeline at once). Started a little
// after activation, so activate() stays cheap; the core loads then, not before.
import * as vscode from 'vscode';
import type { Scheduler } from '../core/schedule/scheduler';
import { core } from './core';
import { runWithProgress } from './runner';
import { PIPELINE_GLOB, type Services } from './services';

const START_DELAY_MS = 5_000;

export class ScheduleService implements vscode.Disposable {
  private scheduler: Scheduler | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly svc: Services) {
    this.timer = setTimeout(() => void this.start(), START_DELAY_MS);
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('dataPipelines.schedule.enabled') && void this.restart()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.restart()),
    );
  }

  private enabled(): boolean {
    return vscode.workspace.isTrusted && vscode.workspace.getConfiguration('dataPipelines').get<boolean>('schedule.enabled', true);
  }

  private async start(): Promise<void> {
    this.timer = undefined;
    if (!this.enabled() || this.scheduler) return;
    const { Scheduler } = await core();
    this.scheduler = new Scheduler(
      async (file) => {
        await runWithProgress(this.svc, { uri: vscode.Uri.file(file), trigger: 'schedule', quiet: true });
      },
      this.svc.logger('schedule: '),
    );
    await this.refresh();
  }

  private async restart(): Promise<void> {
    this.scheduler?.stop();
    this.scheduler = undefined;
    await this.start();
  }

  /** Re-reads the workspace's pipeline files (on create, delete and save). */
  async refresh(): Promise<void> {
    if (!this.scheduler) return;
    const files = (await vscode.workspace.findFiles(PIPELINE_GLOB, '**/node_modules/**')).map((u) => u.fsPath);
    this.scheduler.set(files);
    for (const e of this.scheduler.list()) if (e.nextRunAt) this.svc.log.info(`schedule: ${e.name ?? e.file} next runs at ${e.nextRunAt.toISOString()}`);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.scheduler?.stop();
    for (const d of this.disposables) d.dispose();
  }
}
