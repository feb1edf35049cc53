import * as vscode from 'vscode';
import type { Deps } from '../deps';
import { triggerOfArg } from '../lib/args';
import { resolvePipeline } from '../pickers';
import { runWithProgress } from '../runner';

/** Finalize sharded run: merges the shards that ran elsewhere (`run FILE --shard K/N`), then runs the actions once, as `data-pipelines finalize FILE` does. */
export function registerFinalizeShards(context: vscode.ExtensionContext, { svc }: Deps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dataPipelines.finalizeShards', async (arg?: unknown) => {
      const uri = await resolvePipeline(arg);
      if (uri) return runWithProgress(svc, { uri, trigger: triggerOfArg(arg), finalize: true });
      return undefined;
    }),
  );
}
