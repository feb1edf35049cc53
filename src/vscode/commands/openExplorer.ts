import * as vscode from 'vscode';
import type { Deps } from '../deps';
import { resolvePipeline } from '../pickers';

/** Open Data Explorer: the map of every sample of a pipeline's dataset (tree, CodeLens, palette, editor title). */
export function registerOpenExplorer(context: vscode.ExtensionContext, { explorers, svc }: Deps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dataPipelines.openExplorer', async (arg?: unknown) => {
      const uri = await resolvePipeline(arg);
      if (!uri) return;
      try {
        await explorers.open(uri);
      } catch (err) {
        svc.log.error(`[explorer] ${String(err)}`);
        void vscode.window.showErrorMessage(`Data Explorer: ${err instanceof Error ? err.message : String(err)}`);
      }
    }),
  );
}
