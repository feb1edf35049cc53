// Runs view: the history of every pipeline in the workspace, newest first, with a status icon,
// trigger, start time, duration and counts; a run expands to its steps; clicking opens the report.
// The records come from the run store (svc.runs), not from the disk.
import * as vscode from 'vscode';
import type { MetricValue, RunRecord, StepResult } from '../../core';
import { core } from '../core';
import { runArg, type RunArg } from '../lib/args';
import { countsSummary, formatDuration, formatTime, statusIcon } from '../lib/runFormat';
import { PIPELINE_GLOB, pipelineText, type Services } from '../services';

/** A run node is a RunArg: view/item/context commands (showRunReport, cancelRun) get it as is. */
/** Step and metric nodes carry their metric text, laid out by the engine's formatter in getChildren. */
export type RunNode = RunArg | { kind: 'runStep'; run: RunRecord; step: StepResult; headline?: string; metrics: number } | { kind: 'metric'; run: RunRecord; label: string; metric: MetricValue };

export class RunsTree implements vscode.TreeDataProvider<RunNode> {
  private readonly changed = new vscode.EventEmitter<RunNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly svc: Services) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  async getChildren(node?: RunNode): Promise<RunNode[]> {
    if (node?.kind === 'run') {
      const c = await core();
      return node.run.steps.map((step) => {
        const metrics = c.orderedMetrics(step.metrics ?? {}, step.metricTables);
        return { kind: 'runStep', run: node.run, step, headline: metrics.length ? c.formatMetric(...metrics[0]) : undefined, metrics: metrics.length };
      });
    }
    if (node?.kind === 'runStep') {
      const c = await core();
      return c.orderedMetrics(node.step.metrics ?? {}, node.step.metricTables).map(([name, metric]) => ({ kind: 'metric', run: node.run, label: c.formatMetric(name, metric), metric }));
    }
    if (node) return [];
    const files = await vscode.workspace.findFiles(PIPELINE_GLOB, '**/node_modules/**', 500);
    const runs: RunRecord[] = [];
    const seen = new Set<string>();
    const { datasetDirFor } = await core();
    for (const uri of files) {
      let text = '';
      try {
        text = await pipelineText(uri);
      } catch (err) {
        this.svc.log.warn(`Runs view: cannot read ${uri.fsPath}: ${String(err)}`);
      }
      const dir = datasetDirFor(uri.fsPath, text);
      if (seen.has(dir)) continue;
      seen.add(dir);
      runs.push(...(await this.svc.runs.runs(dir)));
    }
    this.svc.runs.retain(seen);
    // Runs in progress whose record is not written yet still show.
    for (const a of this.svc.activeRuns.values()) if (a.run && !runs.some((r) => r.id === a.run?.id)) runs.push(a.run);
    runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    return runs.slice(0, 100).map((run) => runArg(run));
  }

  getTreeItem(node: RunNode): vscode.TreeItem {
    if (node.kind === 'metric') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
      const c = node.metric.change;
      item.iconPath = new vscode.ThemeIcon(c === undefined || c === 0 ? 'dash' : c > 0 ? 'arrow-up' : 'arrow-down');
      item.contextValue = 'metric';
      return item;
    }
    if (node.kind === 'runStep') {
      const s = node.step;
      const item = new vscode.TreeItem(s.name, node.metrics ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
      const icon = statusIcon(s.status);
      item.iconPath = new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
      const counts = s.type === 'project-action' || s.type === 'transformation-block' ? (node.headline ?? s.message ?? '') : countsSummary(s.counts);
      item.description = `${s.status} · ${formatDuration(s.durationMs)} · ${counts}`;
      item.tooltip = [s.type, s.message ?? '', ...s.errors, ...s.warnings.slice(0, 5)].filter(Boolean).join('\n');
      item.command = { title: 'Show run report', command: 'dataPipelines.showRunReport', arguments: [runArg(node.run)] };
      return item;
    }
    const r = node.run;
    const item = new vscode.TreeItem(r.pipeline, r.steps.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = `run:${r.pipelineFile}:${r.id}`;
    const icon = statusIcon(r.status);
    item.iconPath = new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
    const c = r.counts;
    // A sharded run (finalize) is one run; its shards are named in the description and the tooltip.
    const sharded = r.shards ? ` · ${r.shards.length} shards` : '';
    const shardLines = (r.shards ?? []).map((s) => `- shard ${s.shard}: ${s.status}, ${countsSummary(s.counts)}, ${formatDuration(s.durationMs)}`).join('\n');
    item.description = `${r.trigger} · ${formatTime(r.startedAt)} · ${r.status === 'running' ? 'running' : formatDuration(r.durationMs)}${sharded} · ${c.new} new · ${c.changed} changed · ${c.rejected} rejected`;
    item.tooltip = new vscode.MarkdownString(`**${r.pipeline}**: ${r.status}\n\n${r.trigger}, started ${formatTime(r.startedAt)}${r.durationMs !== undefined ? `, ${formatDuration(r.durationMs)}` : ''}\n\n${countsSummary(c)}${shardLines ? `\n\n${shardLines}` : ''}${r.error ? `\n\n${r.error}` : ''}`);
    item.contextValue = r.status === 'running' ? 'run.running' : 'run';
    item.command = { title: 'Show run report', command: 'dataPipelines.showRunReport', arguments: [runArg(r)] };
    return item;
  }
}
