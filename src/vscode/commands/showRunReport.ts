import * as fs from 'node:fs/promises';
import * as vscode from 'vscode';
import type { RunRecord } from '../../core';
import { core } from '../core';
import type { Deps } from '../deps';
import { formatTime } from '../lib/runFormat';
import { isRunArg } from '../lib/args';
import { resolvePipeline } from '../pickers';
import { pipelineText } from '../services';
import { runReportUri } from '../views/runReport';

/** Show run report: a markdown report of one run (from the Runs view, a notification, or a pick). */
export function registerShowRunReport(context: vscode.ExtensionContext, { reports, svc }: Deps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dataPipelines.showRunReport', async (arg?: unknown) => {
      let run: RunRecord | undefined = isRunArg(arg) ? arg.run : undefined;
      let datasetDir: string | undefined;
      const { datasetDirFor } = await core();
      if (run) {
        const text = await fs.readFile(run.pipelineFile, 'utf8').catch(() => '');
        datasetDir = datasetDirFor(run.pipelineFile, text);
      } else {
        const uri = await resolvePipeline(arg);
        if (!uri) return;
        datasetDir = datasetDirFor(uri.fsPath, await pipelineText(uri));
        const runs = await svc.runs.runs(datasetDir);
        if (!runs.length) {
          void vscode.window.showInformationMessage('This pipeline has not run yet.');
          return;
        }
        const pick = await vscode.window.showQuickPick(
          runs.map((r) => ({ label: `${r.status} · ${formatTime(r.startedAt)}`, description: `${r.trigger} · ${r.counts.new} new`, r })),
          { placeHolder: 'Which run?' },
        );
        run = pick?.r;
      }
      if (!run || !datasetDir) return;
      const uri = runReportUri(run, datasetDir);
      reports.remember(uri, run);
      try {
        await vscode.commands.executeCommand('markdown.showPreview', uri);
      } catch {
        await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: true });
      }
    }),
  );
}
