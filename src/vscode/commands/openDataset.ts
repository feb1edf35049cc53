import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { Deps } from '../deps';
import { core } from '../core';
import { pipelineArg } from '../lib/args';
import { resolvePipeline } from '../pickers';
import { pipelineText } from '../services';

/** Open dataset folder: reveal it in the Explorer (or the OS when it is outside the workspace). */
export function registerOpenDataset(context: vscode.ExtensionContext, _deps: Deps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dataPipelines.openDataset', async (arg?: unknown) => {
      const uri = await resolvePipeline(arg);
      if (!uri) return;
      const dir = (await core()).datasetDirFor(uri.fsPath, await pipelineText(uri));
      if (!fs.existsSync(dir)) {
        void vscode.window.showInformationMessage(`No dataset yet at ${dir}: run the pipeline first.`, 'Run Pipeline').then((b) => b && vscode.commands.executeCommand('dataPipelines.runPipeline', pipelineArg(uri)));
        return;
      }
      const target = vscode.Uri.file(dir);
      if (vscode.workspace.getWorkspaceFolder(target)) await vscode.commands.executeCommand('revealInExplorer', target);
      else await vscode.commands.executeCommand('revealFileInOS', target);
    }),
  );
}
