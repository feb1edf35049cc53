import * as path from 'node:path';
import * as vscode from 'vscode';
import { core } from '../core';
import type { Deps } from '../deps';
import { resolvePipeline } from '../pickers';
import { errorText } from '../services';

/** How many shards: asked, checked as the CLI checks --shards. */
async function askShards(): Promise<number | undefined> {
  const v = await vscode.window.showInputBox({
    title: 'Shards',
    prompt: 'How many shards run at once (each lists the whole prefix and syncs its share)',
    value: '4',
    validateInput: (s) => (/^\d+$/.test(s.trim()) && Number(s) >= 1 && Number(s) <= 1024 ? undefined : 'A whole number from 1 to 1024'),
  });
  return v === undefined ? undefined : Number(v.trim());
}

/**
 * Export as Kubernetes Job… / Export as GitHub workflow…: the manifests `data-pipelines export k8s`
 * and `export github-actions` print, opened as a new YAML document to review and save.
 */
export function registerExportShards(context: vscode.ExtensionContext, { svc }: Deps): void {
  const exporter = (kind: 'k8s' | 'github-actions') => async (arg?: unknown) => {
    const uri = await resolvePipeline(arg);
    if (!uri) return;
    const shards = await askShards();
    if (shards === undefined) return;
    let image: string | undefined;
    let volumeClaim: string | undefined;
    if (kind === 'k8s') {
      image = await vscode.window.showInputBox({ title: 'Container image', prompt: 'An image with the data-pipelines CLI on its PATH', value: 'data-pipelines:latest' });
      if (image === undefined) return;
      volumeClaim = await vscode.window.showInputBox({ title: 'Volume claim', prompt: 'The PersistentVolumeClaim every pod mounts at /work: it holds the pipeline file and the dataset', value: `${path.basename(uri.fsPath).replace(/\.pipeline\.json$/, '')}-data` });
      if (volumeClaim === undefined) return;
    }
    try {
      const c = await core();
      const loaded = c.loadPipelineFile(uri.fsPath);
      const text = kind === 'k8s' ? await c.kubernetesManifests(loaded, { shards, image, volumeClaim }) : await c.githubWorkflow(loaded, { shards, repoPath: vscode.workspace.asRelativePath(uri, false) });
      const doc = await vscode.workspace.openTextDocument({ language: 'yaml', content: text });
      await vscode.window.showTextDocument(doc, { preview: false });
    } catch (err) {
      svc.log.error(errorText(err));
      void vscode.window.showErrorMessage(`Export failed: ${errorText(err)}`);
    }
  };
  context.subscriptions.push(vscode.commands.registerCommand('dataPipelines.exportKubernetes', exporter('k8s')), vscode.commands.registerCommand('dataPipelines.exportGithubActions', exporter('github-actions')));
}
