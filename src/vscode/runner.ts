// Runs a pipeline (or some of its steps) the way a person sees it: a cancellable progress
// notification with throttled updates, the log channel, and a notification at the end that
// says what happened and what to do next.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunRecord, Trigger } from '../core';
import { core, type CoreModule } from './core';
import { pipelineArg, runArg } from './lib/args';
import { countsSummary, formatDuration, throttle } from './lib/runFormat';
import { errorText, saveIfDirty, type ActiveRun, type Services } from './services';
import { requireTrust } from './trust';

export interface RunRequest {
  uri: vscode.Uri;
  trigger: Trigger;
  steps?: string[];
  /** Scheduled runs: progress in the status bar, a notification only when something needs attention. */
  quiet?: boolean;
  /** Finalize a sharded run (the shards ran elsewhere: run --shard K/N) instead of running. */
  finalize?: boolean;
}

export async function runWithProgress(svc: Services, req: RunRequest): Promise<RunRecord | undefined> {
  if (!requireTrust('Run pipeline')) return undefined;
  const file = path.resolve(req.uri.fsPath);
  const existing = svc.activeRuns.get(file);
  if (existing && req.quiet) {
    svc.log.warn(`${path.basename(file)} is already running; the scheduled run is skipped.`);
    return undefined;
  }
  if (existing) {
    void vscode.window.showInformationMessage(`${path.basename(file)} is already running.`, 'Cancel Run', 'Open Log').then((b) => {
      if (b === 'Cancel Run') existing.controller.abort();
      if (b === 'Open Log') svc.log.show(true);
    });
    return undefined;
  }
  await saveIfDirty(req.uri);
  const c = await core();
  const loaded = c.loadPipelineFile(file);
  if (!loaded.pipeline) {
    const errors = loaded.problems.filter((p) => p.severity === 'error');
    const first = errors[0];
    const count = `${errors.length} error${errors.length === 1 ? '' : 's'}`;
    svc.log.warn(`${path.basename(file)} not run: ${count}.`);
    void vscode.window
      .showErrorMessage(`${path.basename(file)} has ${count}; it does not run until ${errors.length === 1 ? 'it is' : 'they are'} fixed.${first ? ` Line ${first.range.line}: ${first.message}` : ''}`, 'Show Problems')
      .then((b) => b && vscode.commands.executeCommand('workbench.actions.view.problems'));
    return undefined;
  }
  const controller = new AbortController();
  const active: ActiveRun = { file, datasetDir: loaded.datasetDir, controller, steps: req.steps };
  svc.activeRuns.set(file, active);
  svc.onDidChangeRuns.fire();
  const what = req.steps?.length ? `step "${req.steps.join('", "')}" of ${loaded.pipeline.name}` : loaded.pipeline.name;
  svc.log.info(`Starting ${what} (${req.trigger})`);
  let run: RunRecord | undefined;
  try {
    run = await vscode.window.withProgress(
      { location: req.quiet ? vscode.ProgressLocation.Window : vscode.ProgressLocation.Notification, title: `${req.finalize ? 'Finalizing the shards of' : 'Running'} ${what}`, cancellable: !req.quiet },
      async (progress, token) => {
        token.onCancellationRequested(() => {
          svc.log.warn(`Cancelling ${what}`);
          controller.abort();
        });
        let reported = 0;
        const report = throttle<{ message: string; pct?: number }>(150, ({ message, pct }) => {
          const increment = pct !== undefined && pct > reported ? pct - reported : undefined;
          if (pct !== undefined) reported = Math.max(reported, pct);
          progress.report({ message, increment });
        });
        const result = await (req.finalize ? c.finalizePipeline : c.runPipeline)(loaded, {
          trigger: req.trigger,
          steps: req.steps,
          signal: controller.signal,
          verifyLocal: vscode.workspace.getConfiguration('dataPipelines').get<boolean>('sync.verifyLocalFiles', false),
          logger: svc.logger(),
          resolver: svc.resolver(),
          notify: { smtp: await svc.smtp() },
          onStart: (r) => {
            active.run = r;
            svc.runs.update(loaded.datasetDir, r);
            svc.onDidChangeRuns.fire();
          },
          onProgress: (e) => {
            const pct = e.phase === 'transferring' && e.total > 0 ? Math.floor((e.done / e.total) * 100) : undefined;
            const message = e.phase === 'transferring' && e.total > 0 ? `${e.step}: ${e.done}/${e.total} files` : `${e.step}: ${e.message ?? e.phase}`;
            report.push({ message, pct });
          },
        });
        report.flush();
        svc.runs.update(loaded.datasetDir, result);
        return result;
      },
    );
  } catch (err) {
    if (active.run) void svc.runs.settle(loaded.datasetDir, active.run.id);
    const locked = err instanceof c.DatasetLockedError;
    if (locked && req.quiet) {
      svc.log.warn(`Scheduled run skipped: ${errorText(err)}`);
      return undefined;
    }
    svc.log.error(errorText(err));
    void vscode.window
      .showErrorMessage(locked ? `${errorText(err)} Wait for it to finish or cancel it.` : `Run failed: ${errorText(err)}`, 'Open Log')
      .then((b) => b && svc.log.show(true));
    return undefined;
  } finally {
    svc.activeRuns.delete(file);
    svc.onDidChangeRuns.fire();
  }
  if (!req.quiet || run.status !== 'success' || run.counts.new + run.counts.changed > 0) notifyResult(svc, run, headlineMetric(c, run));
  for (const n of run.notifications ?? []) (n.ok ? svc.log.info : svc.log.warn)(`${n.kind}: ${n.detail}`);
  return run;
}

/** The run's first training metric, as the CLI summary says it: "validation.accuracy 0.75 (was 0.625, +0.125)". */
function headlineMetric(c: CoreModule, run: RunRecord): string | undefined {
  const s = [...run.steps].reverse().find((x) => x.metrics && Object.keys(x.metrics).length);
  const first = s && c.orderedMetrics(s.metrics!, s.metricTables)[0];
  return first && c.formatMetric(...first);
}

function notifyResult(svc: Services, run: RunRecord, metric?: string): void {
  const summary = `${run.pipeline}: ${run.status} in ${formatDuration(run.durationMs)} — ${countsSummary(run.counts)}${metric ? ` · ${metric}` : ''}`;
  const handle = (b: string | undefined) => {
    if (b === 'Show Report') void vscode.commands.executeCommand('dataPipelines.showRunReport', runArg(run));
    if (b === 'Open Log') svc.log.show(true);
    if (b === 'Open Dataset') void vscode.commands.executeCommand('dataPipelines.openDataset', pipelineArg(vscode.Uri.file(run.pipelineFile)));
  };
  switch (run.status) {
    case 'success':
      void vscode.window.showInformationMessage(summary, 'Show Report', 'Open Dataset').then(handle);
      break;
    case 'partial':
      void vscode.window.showWarningMessage(`${summary}. Some objects were rejected or failed: the report lists them and why.`, 'Show Report', 'Open Log').then(handle);
      break;
    case 'cancelled':
      void vscode.window.showWarningMessage(`${run.pipeline}: cancelled. What was synced is kept; the next run resumes.`, 'Show Report').then(handle);
      break;
    default:
      void vscode.window.showErrorMessage(`${run.pipeline} failed: ${run.error ?? 'see the log'}`, 'Open Log', 'Show Report').then(handle);
  }
}
