import * as vscode from 'vscode';
import type { Deps } from '../deps';
import { resolvePipelineAndStep } from '../pickers';

/** Preview one import step. */
export function registerPreviewStep(context: vscode.ExtensionContext, { previews }: Deps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dataPipelines.previewStep', async (arg?: unknown) => {
      const target = await resolvePipelineAndStep(arg, (s) => s.kind === 'import', 'Which import step should be previewed?');
      if (target) previews.open(target.uri, [target.step]);
    }),
  );
}
