import * as vscode from 'vscode';
import type { StepVerification } from '../../core';
import { core } from '../core';
import type { Deps } from '../deps';
import { resolvePipelineAndStep } from '../pickers';
import { errorText, pipelineText, type Services } from '../services';
import { requireTrust } from '../trust';

export function describeVerification(v: StepVerification): string {
  const r = v.result;
  if (r.ok) {
    const sample = r.sampleFiles.slice(0, 3).map((f) => f.name).join(', ');
    return `✓ ${v.step}: ${r.detail}${sample ? ` (e.g. ${sample})` : ''}`;
  }
  // The core's detail often names the credential source already: say each thing once.
  const extra = [r.code && !r.detail.includes(r.code) ? `error code ${r.code}` : '', r.credentialSource && !r.detail.includes(r.credentialSource) ? `credentials: ${r.credentialSource}` : ''].filter(Boolean).join('; ');
  return `✗ ${v.step}: ${r.detail}${extra ? ` (${extra})` : ''}`;
}

/** Verify credentials: list the step's location with its credentials and say what happened. */
export async function verifySteps(svc: Services, uri: vscode.Uri, steps: string[] | undefined, text?: string, secretOverrides: Record<string, string> = {}): Promise<StepVerification[] | undefined> {
  const c = await core();
  const loaded = c.loadPipelineText(text ?? (await pipelineText(uri)), uri.fsPath);
  if (!loaded.pipeline) {
    const first = loaded.problems.find((p) => p.severity === 'error');
    void vscode.window.showErrorMessage(`Fix the pipeline's errors first.${first ? ` Line ${first.range.line}: ${first.message}` : ''}`);
    return undefined;
  }
  const controller = new AbortController();
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Verifying ${steps?.join(', ') ?? 'credentials'}…`, cancellable: true }, (_p, token) => {
    token.onCancellationRequested(() => controller.abort());
    return c.verifyPipeline(loaded, { steps, signal: controller.signal, resolver: svc.resolver(secretOverrides), logger: svc.logger('[verify]') });
  });
}

export function registerVerifyCredentials(context: vscode.ExtensionContext, { svc }: Deps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dataPipelines.verifyCredentials', async (arg?: unknown) => {
      if (!requireTrust('Verify credentials')) return undefined;
      const target = await resolvePipelineAndStep(arg, (s) => s.kind === 'import', 'Which import step should be verified?');
      if (!target) return undefined;
      try {
        const results = await verifySteps(svc, target.uri, [target.step]);
        for (const v of results ?? []) {
          const msg = describeVerification(v);
          if (v.result.ok) {
            svc.log.info(`[verify] ${msg}`);
            void vscode.window.showInformationMessage(msg);
          } else {
            svc.log.error(`[verify] ${msg}`);
            void vscode.window.showErrorMessage(msg, 'Set Secret…', 'Open Log').then((btn) => {
              if (btn === 'Open Log') svc.log.show(true);
              if (btn === 'Set Secret…') void vscode.commands.executeCommand('dataPipelines.setSecret');
            });
          }
        }
        return results;
      } catch (err) {
        svc.log.error(`[verify] ${errorText(err)}`);
        void vscode.window.showErrorMessage(`Verify credentials failed: ${errorText(err)}`, 'Open Log').then((btn) => btn && svc.log.show(true));
        return undefined;
      }
    }),
  );
}
