// Versions in the editor: "Compare with…" (a markdown report of two versions) and "Restore
// Version" (after a modal confirmation: the dataset becomes the version, the current dataset kept
// as a new version first; or the version written into a new folder). The same core functions the
// CLI's `versions` command calls.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { VersionInfo } from '../../core';
import { core } from '../core';
import type { Deps } from '../deps';
import { isVersionArg, type VersionArg } from '../lib/args';
import { formatTime } from '../lib/runFormat';
import { resolvePipeline } from '../pickers';
import { pipelineText, type Services } from '../services';
import { requireTrust } from '../trust';
import { versionReportUri } from '../views/versionReport';

function describe(v: VersionInfo): string {
  const acc = v.metrics['validation.accuracy'] ?? v.metrics['accuracy'];
  return `${formatTime(v.created)} · ${v.counts.total} samples${acc !== undefined ? ` · accuracy ${acc.toFixed(3)}` : ''}${v.note ? ` · ${v.note}` : ''}`;
}

/** The version an argument names, or one picked from the pipeline's versions. */
async function resolveVersion(arg: unknown, placeHolder: string): Promise<(VersionArg & { pipeline: string }) | undefined> {
  const c = await core();
  if (isVersionArg(arg)) return { ...arg, pipeline: c.getVersion(arg.datasetDir, arg.id).pipeline };
  const uri = await resolvePipeline(arg);
  if (!uri) return undefined;
  const datasetDir = c.datasetDirFor(uri.fsPath, await pipelineText(uri));
  const all = c.listVersions(datasetDir);
  if (!all.length) {
    void vscode.window.showInformationMessage('This pipeline has no versions yet. Add "createVersion": true to a project-action step and run it.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    all.reverse().map((v) => ({ label: v.id, description: describe(v), v })),
    { placeHolder },
  );
  return pick && { kind: 'version', uri, datasetDir, id: pick.v.id, pipeline: pick.v.pipeline };
}

async function compare(arg: unknown): Promise<void> {
  const v = await resolveVersion(arg, 'Compare which version?');
  if (!v) return;
  const others = (await core()).listVersions(v.datasetDir).filter((x) => x.id !== v.id).reverse();
  if (!others.length) {
    void vscode.window.showInformationMessage(`${v.id} is the only version: there is nothing to compare it with yet.`);
    return;
  }
  const pick = await vscode.window.showQuickPick(
    others.map((x) => ({ label: x.id, description: describe(x), x })),
    { placeHolder: `Compare ${v.id} with…` },
  );
  if (!pick) return;
  const [a, b] = pick.x.version < Number(v.id.slice(1)) ? [pick.x.id, v.id] : [v.id, pick.x.id];
  const uri = versionReportUri(v.pipeline, v.datasetDir, a, b);
  try {
    await vscode.commands.executeCommand('markdown.showPreview', uri);
  } catch {
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: true });
  }
}

async function restore(arg: unknown, svc: Services): Promise<void> {
  if (!requireTrust('Restore Version')) return;
  const v = await resolveVersion(arg, 'Restore which version?');
  if (!v) return;
  const c = await core();
  const info = c.getVersion(v.datasetDir, v.id);
  const here = 'Restore';
  const elsewhere = 'Restore into a New Folder…';
  const choice = await vscode.window.showWarningMessage(
    `Restore ${v.id} (${describe(info)})?`,
    { modal: true, detail: `The dataset ${v.datasetDir} becomes ${v.id}. The dataset as it is now is kept as a new version first, so nothing is lost, and the next run syncs from the source on top of ${v.id}. Or write ${v.id} into a new folder and leave the dataset as it is.` },
    here,
    elsewhere,
  );
  if (!choice) return;
  let to: string | undefined;
  if (choice === elsewhere) {
    const picked = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(`${v.datasetDir}-${v.id}`), saveLabel: `Restore ${v.id} here`, title: `A new folder for ${v.id}` });
    if (!picked) return;
    to = picked.fsPath;
  }
  try {
    const r = await c.restoreVersion(v.datasetDir, v.id, { to, pipeline: v.pipeline, pipelineFile: v.uri.fsPath });
    svc.log.info(`[versions] restored ${r.version} into ${r.dir} (${r.files} files)${r.keptAs ? `; the dataset as it was is ${r.keptAs}` : ''}`);
    svc.onDidChangeRuns.fire();
    const msg = to ? `${r.version} written to ${path.basename(r.dir)} (${r.files} files). The dataset is unchanged.` : `The dataset is now ${r.version} (${r.files} files). The dataset as it was is kept as ${r.keptAs}.`;
    void vscode.window.showInformationMessage(msg, 'Reveal').then((b) => b && vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(r.dir)));
  } catch (err) {
    void vscode.window.showErrorMessage(`Restore ${v.id} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function initTrainer(arg: unknown, svc: Services): Promise<void> {
  if (!requireTrust('Add Reference Trainer')) return;
  const uri = await resolvePipeline(arg);
  if (!uri) return;
  const r = (await core()).initTrainer({ pipelineFile: uri.fsPath, noPretrained: !vscode.workspace.getConfiguration('dataPipelines').get<boolean>('trainer.pretrained', true) });
  svc.log.info(`[init trainer] ${r.files.map((f) => `${f.written ? 'wrote' : 'kept'} ${f.path}`).join(', ')}; trainCommand ${r.command}`);
  const where = r.addedStep ? `added step "${r.addedStep}"` : r.wired.length ? `wired into ${r.wired.map((s) => `"${s}"`).join(', ')}` : `left ${r.kept.map((k) => `"${k.step}"`).join(', ')} alone (it has its own trainCommand)`;
  const file = r.files[0].path;
  await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: false, preserveFocus: true });
  for (const w of r.warnings) void vscode.window.showWarningMessage(w);
  void vscode.window.showInformationMessage(`Reference trainer: ${path.basename(file)} ${r.files[0].written ? 'written' : 'kept'}, ${where}.`);
}

export function registerVersions(context: vscode.ExtensionContext, { svc }: Deps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dataPipelines.compareVersions', (arg?: unknown) => compare(arg)),
    vscode.commands.registerCommand('dataPipelines.restoreVersion', (arg?: unknown) => restore(arg, svc)),
    vscode.commands.registerCommand('dataPipelines.initTrainer', (arg?: unknown) => initTrainer(arg, svc)),
  );
}
