// Pipelines view: each *.pipeline.json -> its steps -> for import steps, the source with its last
// sync status and counts. Refreshed by events (file watcher, save, runs, secrets), never polled;
// the run history comes from the run store (svc.runs), not from the disk.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunRecord, StepResult, VersionInfo } from '../../core';
import { core } from '../core';
import { runArg, stepArg, type PipelineArg, type StepArg, type VersionArg } from '../lib/args';
import { outlinePipeline, type StepLocation } from '../lib/pipelineDoc';
import { countsSummary, formatAgo, formatTime, statusIcon } from '../lib/runFormat';
import { PIPELINE_GLOB, pipelineText, type Services } from '../services';

/**
 * File and step nodes are a PipelineArg and a StepArg (../lib/args): VS Code passes the node itself
 * to view/item/context commands, which narrow it with the same guards as a CodeLens argument.
 */
export type PipelineNode =
  | (PipelineArg & { name: string; steps: StepLocation[]; datasetDir: string; error?: string })
  | (StepArg & { location: StepLocation; datasetDir: string })
  | { kind: 'source'; uri: vscode.Uri; location: StepLocation; last?: { run: RunRecord; result: StepResult } }
  | { kind: 'versions'; uri: vscode.Uri; datasetDir: string; versions: VersionInfo[] }
  | (VersionArg & { info: VersionInfo });

export class PipelinesTree implements vscode.TreeDataProvider<PipelineNode> {
  private readonly changed = new vscode.EventEmitter<PipelineNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly svc: Services) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  async getChildren(node?: PipelineNode): Promise<PipelineNode[]> {
    if (!node) {
      const files = await vscode.workspace.findFiles(PIPELINE_GLOB, '**/node_modules/**', 500);
      files.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
      const out: PipelineNode[] = [];
      const { datasetDirFor } = await core();
      for (const uri of files) {
        try {
          const text = await pipelineText(uri);
          const outline = outlinePipeline(text);
          out.push({ kind: 'pipeline', uri, name: outline?.name ?? path.basename(uri.fsPath), steps: outline?.steps ?? [], datasetDir: datasetDirFor(uri.fsPath, text), error: outline ? undefined : 'not a JSON object' });
        } catch (err) {
          this.svc.log.warn(`Pipelines view: cannot read ${uri.fsPath}: ${String(err)}`);
        }
      }
      return out;
    }
    if (node.kind === 'pipeline') {
      const steps: PipelineNode[] = node.steps.map((location) => ({ ...stepArg(node.uri, location.name), location, datasetDir: node.datasetDir }));
      const versions = (await core()).listVersions(node.datasetDir);
      return versions.length ? [...steps, { kind: 'versions', uri: node.uri, datasetDir: node.datasetDir, versions }] : steps;
    }
    if (node.kind === 'versions') return [...node.versions].reverse().map((info) => ({ kind: 'version', uri: node.uri, datasetDir: node.datasetDir, id: info.id, info }));
    if (node.kind === 'step' && node.location.kind === 'import') return [{ kind: 'source', uri: node.uri, location: node.location, last: await this.svc.runs.lastStepResult(node.datasetDir, node.step) }];
    return [];
  }

  getTreeItem(node: PipelineNode): vscode.TreeItem {
    switch (node.kind) {
      case 'versions': {
        const item = new vscode.TreeItem('Versions', vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `versions:${node.uri.toString()}`;
        item.description = `${node.versions.length}`;
        item.iconPath = new vscode.ThemeIcon('versions');
        item.contextValue = 'versions';
        return item;
      }
      case 'version':
        return versionItem(node);
      case 'pipeline': {
        const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.Expanded);
        item.id = `file:${node.uri.toString()}`;
        item.resourceUri = node.uri;
        item.description = vscode.workspace.asRelativePath(node.uri);
        item.iconPath = new vscode.ThemeIcon(this.svc.isRunning(node.uri.fsPath) ? 'sync~spin' : node.error ? 'error' : 'symbol-event');
        item.contextValue = 'pipelineFile';
        item.tooltip = `${node.uri.fsPath}\n${node.steps.length} steps · dataset ${node.datasetDir}`;
        item.command = { title: 'Open', command: 'vscode.open', arguments: [node.uri] };
        return item;
      }
      case 'step': {
        const s = node.location;
        const state = s.kind === 'import' ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None;
        const item = new vscode.TreeItem(s.name, state);
        item.id = `step:${node.uri.toString()}#${s.index}`;
        item.description = `${s.type}${s.enabled ? '' : ' (disabled)'}`;
        item.iconPath = new vscode.ThemeIcon(s.kind === 'import' ? (s.type === 'folder-to-project' ? 'folder' : 'cloud-download') : s.kind === 'action' ? 'zap' : 'terminal');
        item.contextValue = `step.${s.kind}`;
        item.command = { title: 'Show step', command: 'dataPipelines.revealStep', arguments: [node.uri, s.offset] };
        return item;
      }
      case 'source': {
        const item = new vscode.TreeItem(node.location.sourcePath ?? '(no path)', vscode.TreeItemCollapsibleState.None);
        item.id = `source:${node.uri.toString()}#${node.location.index}`;
        item.contextValue = 'source';
        if (node.last) {
          const { run, result } = node.last;
          const icon = statusIcon(result.status);
          item.iconPath = new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
          item.description = `${result.status} · ${countsSummary(result.counts)} · ${formatAgo(run.startedAt)}`;
          item.tooltip = `Last sync ${run.startedAt} (${run.trigger}): ${result.status}\n${countsSummary(result.counts)}${result.errors.length ? `\n${result.errors[0]}` : ''}`;
          item.command = { title: 'Show run report', command: 'dataPipelines.showRunReport', arguments: [runArg(run)] };
        } else {
          item.iconPath = new vscode.ThemeIcon('circle-outline');
          item.description = 'never synced';
        }
        return item;
      }
    }
  }
}

/** A version: id, when, samples and the headline metric; its tooltip has every metric. */
function versionItem(node: VersionArg & { info: VersionInfo }): vscode.TreeItem {
  const v = node.info;
  const item = new vscode.TreeItem(v.id, vscode.TreeItemCollapsibleState.None);
  item.id = `version:${node.uri.toString()}#${v.id}`;
  const acc = v.metrics['validation.accuracy'] ?? v.metrics['accuracy'];
  item.description = `${formatAgo(v.created)} · ${v.counts.total} samples${acc !== undefined ? ` · accuracy ${acc.toFixed(3)}` : ''}${v.note ? ` · ${v.note}` : ''}`;
  item.iconPath = new vscode.ThemeIcon(v.modelRunId ? 'package' : 'archive');
  item.contextValue = 'version';
  const metrics = Object.entries(v.metrics).filter(([k]) => !k.includes('.per_label.')).map(([k, n]) => `- ${k}: ${n}`);
  item.tooltip = new vscode.MarkdownString(`**${v.id}** of ${v.pipeline}, ${formatTime(v.created)}${v.runId ? ` (run ${v.runId})` : ''}\n\n${v.counts.total} samples${v.modelRunId ? `, model of run ${v.modelRunId}` : ', no model'}${metrics.length ? `\n\n${metrics.join('\n')}` : ''}`);
  return item;
}
