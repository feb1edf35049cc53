import * as vscode from 'vscode';
import type { Deps } from '../deps';

/** Create a pipeline: an empty pipeline file, then the "Add data source…" wizard fills it. */
export function registerCreatePipeline(context: vscode.ExtensionContext, _deps: Deps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dataPipelines.createPipeline', async () => {
      await vscode.commands.executeCommand('dataPipelines.addDataSource', { newFile: true });
    }),
  );
}
