import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Deps } from '../deps';
import { isRunArg, uriOfArg } from '../lib/args';

/** Cancel a run in progress (the one for the given file or run, the only one, or a pick). */
export function registerCancelRun(context: vscode.ExtensionContext, { svc }: Deps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dataPipelines.cancelRun', async (arg?: unknown) => {
      const runs = [...svc.activeRuns.values()];
      const file = isRunArg(arg) ? arg.run.pipelineFile : uriOfArg(arg)?.fsPath;
      let target = file ? svc.activeRuns.get(path.resolve(file)) : runs.length === 1 ? runs[0] : undefined;
      if (!target && runs.length > 1) {
        const pick = await vscode.window.showQuickPick(runs.map((r) => ({ label: path.basename(r.file), description: r.steps?.join(', '), r })), { placeHolder: 'Which run should stop?' });
        target = pick?.r;
      }
      if (!target) {
        void vscode.window.showInformationMessage('No pipeline is running.');
        return;
      }
      svc.log.warn(`Cancelling the run of ${target.file}`);
      target.controller.abort();
    }),
  );
}
