import * as vscode from 'vscode';
import type { Deps } from '../deps';
import { resolvePipeline } from '../pickers';

/** Preview labels & split for the whole pipeline, in the preview webview. */
export function registerPreviewPipeline(context: vscode.ExtensionContext, { previews }: Deps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dataPipelines.previewPipeline', async (arg?: unknown) => {
      const uri = await resolvePipeline(arg);
      if (uri) previews.open(uri);
    }),
  );
}
