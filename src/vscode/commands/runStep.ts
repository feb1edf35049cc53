import * as vscode from 'vscode';
import type { Deps } from '../deps';
import { triggerOfArg } from '../lib/args';
import { resolvePipelineAndStep } from '../pickers';
import { runWithProgress } from '../runner';

/** Run one step (typically a post-sync action) without the others. */
export function registerRunStep(context: vscode.ExtensionContext, { svc }: Deps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dataPipelines.runStep', async (arg?: unknown) => {
      const target = await resolvePipelineAndStep(arg, () => true, 'Which step should run?');
      if (target) return runWithProgress(svc, { uri: target.uri, steps: [target.step], trigger: triggerOfArg(arg) });
      return undefined;
    }),
  );
}
