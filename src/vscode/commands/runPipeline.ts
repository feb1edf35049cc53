import * as vscode from 'vscode';
import type { Deps } from '../deps';
import { triggerOfArg } from '../lib/args';
import { resolvePipeline } from '../pickers';
import { runWithProgress } from '../runner';

/** Run pipeline: every enabled step. From a CodeLens (PipelineArg with trigger "codelens") the trigger is "codelens", otherwise "ui". */
export function registerRunPipeline(context: vscode.ExtensionContext, { svc }: Deps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dataPipelines.runPipeline', async (arg?: unknown) => {
      const uri = await resolvePipeline(arg);
      if (uri) return runWithProgress(svc, { uri, trigger: triggerOfArg(arg) });
      return undefined;
    }),
  );
}
