import * as vscode from 'vscode';
import type { Deps } from '../deps';
import { triggerOf } from '../pickers';
import { runWithProgress } from '../runner';
import { pickPipelineUri } from '../services';

/** Run pipeline: every enabled step. From a CodeLens the trigger is "codelens", otherwise "ui". */
export function registerRunPipeline(context: vscode.ExtensionContext, { svc }: Deps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dataPipelines.runPipeline', async (arg?: unknown, trigger?: unknown) => {
      const uri = await pickPipelineUri(arg);
      if (uri) return runWithProgress(svc, { uri, trigger: triggerOf(trigger) });
      return undefined;
    }),
  );
}
