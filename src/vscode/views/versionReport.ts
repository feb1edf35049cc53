// "Compare with…": two versions side by side as a read-only markdown document
// (data-pipelines-versions:/<pipeline>/<a>-vs-<b>.md?dataset=…), opened in the markdown preview:
// counts per category and label, metrics, and every sample added, removed, relabeled or moved.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SampleChange, VersionDiff, VersionInfo } from '../../core';
import { core } from '../core';
import { formatTime } from '../lib/runFormat';

export const VERSION_REPORT_SCHEME = 'data-pipelines-versions';

export function versionReportUri(pipeline: string, datasetDir: string, a: string, b: string): vscode.Uri {
  return vscode.Uri.from({ scheme: VERSION_REPORT_SCHEME, path: `/${pipeline.replace(/[/\\]/g, '_')}/${a}-vs-${b}.md`, query: new URLSearchParams({ dataset: datasetDir, a, b }).toString() });
}

function md(s: string): string {
  return s.replace(/[\\`*_{}[\]<>|]/g, (c) => `\\${c}`);
}

function countsRows(a: VersionInfo, b: VersionInfo): string[] {
  const rows = ['| Category | Label | ' + `${a.id} | ${b.id} | Change |`, '|---|---|--:|--:|--:|'];
  const keys = new Set<string>();
  for (const v of [a, b]) for (const [c, labels] of Object.entries(v.counts.byCategoryLabel)) for (const l of Object.keys(labels)) keys.add(`${c}\u0000${l}`);
  for (const k of [...keys].sort()) {
    const [c, l] = k.split('\u0000');
    const x = a.counts.byCategoryLabel[c]?.[l] ?? 0;
    const y = b.counts.byCategoryLabel[c]?.[l] ?? 0;
    rows.push(`| ${c} | ${md(l)} | ${x} | ${y} | ${y - x > 0 ? '+' : ''}${y - x} |`);
  }
  rows.push(`| **all** | | **${a.counts.total}** | **${b.counts.total}** | ${b.counts.total - a.counts.total > 0 ? '+' : ''}${b.counts.total - a.counts.total} |`);
  return rows;
}

function metricRows(a: VersionInfo, b: VersionInfo): string[] {
  const names = [...new Set([...Object.keys(a.metrics), ...Object.keys(b.metrics)])].filter((k) => !/\.per_label\./.test(k)).sort();
  if (!names.length) return ['No metrics: neither version has a trained model.'];
  const f = (n: number | undefined) => (n === undefined ? '' : Number.isInteger(n) ? String(n) : n.toFixed(4));
  const rows = [`| Metric | ${a.id} | ${b.id} | Change |`, '|---|--:|--:|--:|'];
  for (const k of names) {
    const x = a.metrics[k];
    const y = b.metrics[k];
    const d = x !== undefined && y !== undefined ? y - x : undefined;
    rows.push(`| ${md(k)} | ${f(x)} | ${f(y)} | ${d === undefined ? '' : `${d > 0 ? '+' : ''}${f(d)}`} |`);
  }
  return rows;
}

function changeList(title: string, items: SampleChange[], limit = 500): string[] {
  if (!items.length) return [];
  const out = ['', `### ${title} (${items.length})`, ''];
  for (const it of items.slice(0, limit)) out.push(`- \`${it.sample.replace(/`/g, "'")}\`${it.from !== undefined ? `: ${md(it.from)} → ${md(it.to ?? '')}` : ''}`);
  if (items.length > limit) out.push(`- … and ${items.length - limit} more (data-pipelines versions FILE diff --json lists all)`);
  return out;
}

export function versionCompareMarkdown(a: VersionInfo, b: VersionInfo, d: VersionDiff): string {
  const out = [`# ${md(a.pipeline)}: ${a.id} compared with ${b.id}`, ''];
  out.push(`| | ${a.id} | ${b.id} |`, '|---|---|---|');
  out.push(`| Created | ${formatTime(a.created)} | ${formatTime(b.created)} |`);
  out.push(`| Run | ${a.runId || md(a.note ?? '-')} | ${b.runId || md(b.note ?? '-')} |`);
  out.push(`| Model of run | ${a.modelRunId ?? 'none'} | ${b.modelRunId ?? 'none'} |`);
  out.push('', `**${d.added.length} added, ${d.removed.length} removed, ${d.relabeled.length} relabeled, ${d.recategorized.length} moved to another category, ${d.changed.length} changed.**`);
  out.push('', '## Samples', '', ...countsRows(a, b), '', '## Metrics', '', ...metricRows(a, b), '', '## Changes');
  out.push(...changeList('Added', d.added), ...changeList('Removed', d.removed), ...changeList('Relabeled', d.relabeled), ...changeList('Moved to another category', d.recategorized), ...changeList('Changed content', d.changed));
  return out.join('\n') + '\n';
}

export class VersionReportProvider implements vscode.TextDocumentContentProvider {
  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const q = new URLSearchParams(uri.query);
    const dataset = q.get('dataset') ?? '';
    const c = await core();
    try {
      const a = c.getVersion(dataset, q.get('a') ?? '');
      const b = c.getVersion(dataset, q.get('b') ?? '');
      return versionCompareMarkdown(a, b, c.diffVersions(dataset, a.id, b.id));
    } catch (err) {
      return `# Cannot compare\n\n${md(err instanceof Error ? err.message : String(err))}\n\nDataset: ${md(path.basename(dataset))}\n`;
    }
  }
}
