// CodeLens: run, preview and next scheduled run on the pipeline; verify and preview on each import
// step; run on each action step. Every lens is also a palette command and an editor-title action.
import * as vscode from 'vscode';
import { core } from '../core';
import { pipelineArg, stepArg } from '../lib/args';
import { outlinePipeline } from '../lib/pipelineDoc';
import { describeNextRun } from '../lib/runFormat';
import { PIPELINE_SELECTOR, type Services } from '../services';
import { parsedPipeline } from './parsedPipeline';

export function registerCodeLens(context: vscode.ExtensionContext, svc: Services): void {
  const changed = new vscode.EventEmitter<void>();
  context.subscriptions.push(
    changed,
    svc.onDidChangeRuns.event(() => changed.fire()),
    svc.runs.onDidChange(() => changed.fire()),
    vscode.workspace.onDidGrantWorkspaceTrust(() => changed.fire()),
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('dataPipelines.codeLens.enabled') && changed.fire()),
    vscode.languages.registerCodeLensProvider(PIPELINE_SELECTOR, {
      onDidChangeCodeLenses: changed.event,
      async provideCodeLenses(doc) {
        if (!vscode.workspace.getConfiguration('dataPipelines').get<boolean>('codeLens.enabled', true)) return [];
        const text = doc.getText();
        const outline = outlinePipeline(text);
        if (!outline) return [];
        const uri = doc.uri;
        const trusted = vscode.workspace.isTrusted;
        const running = svc.isRunning(uri.fsPath);
        const restricted = trusted ? '' : ' (Restricted Mode)';
        const top = new vscode.Range(doc.positionAt(outline.offset), doc.positionAt(outline.offset));
        const lenses: vscode.CodeLens[] = [];
        // The engine is loaded for diagnostics anyway.
        const c = await core();
        if (running) {
          lenses.push(new vscode.CodeLens(top, { title: '$(sync~spin) Running… Cancel', command: 'dataPipelines.cancelRun', arguments: [pipelineArg(uri)] }));
        } else {
          // The same check `validate` and the runner make, parsed once per version with diagnostics.
          const errors = (await parsedPipeline(doc)).problems.filter((p) => p.severity === 'error').length;
          const blocked = errors ? ` (${errors} error${errors === 1 ? '' : 's'})` : '';
          const tooltip = !trusted ? 'Runs are disabled until you trust this workspace' : errors ? 'Fix the errors first: running shows them' : 'Sync the dataset and run the post-sync actions';
          lenses.push(new vscode.CodeLens(top, { title: `▶ Run pipeline${restricted}${blocked}`, tooltip, command: 'dataPipelines.runPipeline', arguments: [pipelineArg(uri, 'codelens')] }));
        }
        lenses.push(new vscode.CodeLens(top, { title: 'Preview labels & split', tooltip: 'List every object with its label, category and destination; writes nothing', command: 'dataPipelines.previewPipeline', arguments: [pipelineArg(uri)] }));
        if (outline.schedule !== undefined || outline.intervalStr !== undefined) {
          let last: string | undefined;
          try {
            last = (await svc.runs.runs(c.datasetDirFor(uri.fsPath, text), 1))[0]?.startedAt;
          } catch {
            last = undefined;
          }
          const next = describeNextRun(c, { schedule: outline.schedule, intervalStr: outline.intervalStr }, last);
          if (next) lenses.push(new vscode.CodeLens(top, { title: next, command: '' }));
        }
        for (const s of outline.steps) {
          const at = doc.positionAt(s.offset);
          const r = new vscode.Range(at, at);
          if (s.kind === 'import') {
            lenses.push(new vscode.CodeLens(r, { title: 'Verify credentials', tooltip: `Check that ${s.sourcePath ?? 'the location'} can be listed with these credentials`, command: 'dataPipelines.verifyCredentials', arguments: [stepArg(uri, s.name)] }));
            lenses.push(new vscode.CodeLens(r, { title: 'Preview step', command: 'dataPipelines.previewStep', arguments: [stepArg(uri, s.name)] }));
          } else if (!running) {
            const a = s.actions;
            lenses.push(new vscode.CodeLens(r, { title: `▶ ${a?.retrainModel ? 'Retrain' : 'Run step'}${restricted}`, tooltip: a?.retrainModel ? 'Run this step: the training command, then the actions after it in this step' : undefined, command: 'dataPipelines.runStep', arguments: [stepArg(uri, s.name, 'codelens')] }));
            if (a?.retrainModel && !a.trainCommand) lenses.push(new vscode.CodeLens(r, { title: 'Add reference trainer', tooltip: 'Write a PyTorch train.py next to this file and set it as "trainCommand"', command: 'dataPipelines.initTrainer', arguments: [pipelineArg(uri)] }));
            if (a?.refreshDataExplorer) lenses.push(new vscode.CodeLens(r, { title: 'Open data explorer', tooltip: 'A map of every sample: find clusters, spot what is wrong, label unknown data', command: 'dataPipelines.openExplorer', arguments: [pipelineArg(uri)] }));
            if (a?.createVersion) lenses.push(new vscode.CodeLens(r, { title: 'Compare versions', tooltip: 'Compare two versions this step kept', command: 'dataPipelines.compareVersions', arguments: [pipelineArg(uri)] }));
          }
        }
        return lenses;
      },
    }),
  );
}
