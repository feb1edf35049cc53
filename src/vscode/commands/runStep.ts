import * as vscode from 'vscode';
import type { Deps } from '../deps';
import { resolvePipelineAndStep, triggerOf } from '../pickers';
import { runWithProgress } from '../runner';

/** Run one step (typically a post-sync action) without the others. */
export function registerRunStep(context: vscode.ExtensionContext, { svc }: Deps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dataPipelines.runStep', async (a?: unknown, b?: unknown, trigger?: unknown) => {
      const target = await resolvePipelineAndStep(a, b, () => true, 'Which step should run?');
      if (target) return runWithProgress(svc, { uri: target.uri, steps: [target.step], trigger: triggerOf(trigger) });
      return undefined;
    }),
  );
}
