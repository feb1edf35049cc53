// data-pipelines versions FILE [show ID | diff A B | restore ID [--to DIR] | prune --keep N] [--json]:
// the versions createVersion keeps (dataset, labels, pipeline file, model, metrics).
import * as path from 'node:path';
import { loadPipelineFile } from '../../core/pipeline/validate';
import { formatMetric, orderedMetrics } from '../../core/train/metrics';
import { diffVersions, getVersion, listVersions, pruneVersions, restoreVersion, versionFiles, type VersionDiff, type VersionInfo } from '../../core/train/versions';
import { escapeControl } from '../../core/util/format';
import { UsageError, requireFile, type Args } from '../args';
import { EXIT } from '../exit';
import { out, outJson, table } from '../output';
import type { CommandContext } from './context';

const SUBCOMMANDS = 'show ID, diff A B, restore ID [--to DIR] or prune --keep N';

/** A version as `versions --json` prints it (without the folder's absolute path twice). */
function publicVersion(v: VersionInfo) {
  return { id: v.id, created: v.created, runId: v.runId, counts: v.counts, metrics: v.metrics, modelRunId: v.modelRunId ?? null, note: v.note ?? null, dir: v.dir };
}

function countsText(v: VersionInfo): string {
  const cats = Object.entries(v.counts.byCategoryLabel ?? {}).map(([c, labels]) => `${c} ${Object.values(labels).reduce((x, y) => x + y, 0)}`);
  return `${v.counts.total}${cats.length ? ` (${cats.join(', ')})` : ''}`;
}

function printList(all: VersionInfo[], file: string): void {
  if (!all.length) return out(`No versions yet. Add "createVersion": true to a project-action step of ${file} and run it.`);
  const rows = [['id', 'created', 'run', 'samples', 'metrics']];
  for (const v of all) {
    const head = orderedMetrics(Object.fromEntries(Object.entries(v.metrics).map(([k, value]) => [k, { value }]))).slice(0, 2);
    rows.push([v.id, v.created, v.runId || '-', countsText(v), head.map(([k, m]) => formatMetric(k, m)).join(', ') || (v.note ?? '-')]);
  }
  out(table(rows.map((r) => r.map(escapeControl))));
}

function printDiff(d: VersionDiff): void {
  out(`${d.from} → ${d.to}: ${d.added.length} added, ${d.removed.length} removed, ${d.relabeled.length} relabeled, ${d.recategorized.length} moved to another category, ${d.changed.length} changed`);
  const sections: [string, VersionDiff['added']][] = [['added', d.added], ['removed', d.removed], ['relabeled', d.relabeled], ['recategorized', d.recategorized], ['changed', d.changed]];
  for (const [name, items] of sections) {
    for (const it of items.slice(0, 200)) out(`${name}: ${escapeControl(it.sample)}${it.from !== undefined ? ` (${escapeControl(it.from)} → ${escapeControl(it.to ?? '')})` : ''}`);
    if (items.length > 200) out(`${name}: … and ${items.length - 200} more (--json lists all)`);
  }
}

function arg(a: Args, i: number, what: string): string {
  const v = a.files[i];
  if (!v) throw new UsageError(`versions ${a.files[1]} needs ${what}: data-pipelines versions FILE ${SUBCOMMANDS}`);
  return v;
}

async function restore(a: Args, file: string, datasetDir: string, pipeline: string): Promise<number> {
  const r = await restoreVersion(datasetDir, arg(a, 2, 'a version id'), { to: a.to, pipeline, pipelineFile: path.resolve(file) });
  if (a.json) outJson(r);
  else if (a.to) out(`${r.version} written to ${r.dir} (${r.files} files); the dataset is unchanged.`);
  else out(`The dataset is now ${r.version} (${r.files} files). The dataset as it was is kept as ${r.keptAs}. The next run syncs from the source on top of ${r.version}.`);
  return EXIT.ok;
}

export async function versions({ args: a }: CommandContext): Promise<number> {
  const file = requireFile(a);
  const loaded = loadPipelineFile(file);
  const datasetDir = loaded.datasetDir;
  const sub = a.files[1];
  if (!sub) {
    const all = listVersions(datasetDir);
    if (a.json) outJson({ versions: all.map(publicVersion) });
    else printList(all, file);
    return EXIT.ok;
  }
  switch (sub) {
    case 'show': {
      const v = getVersion(datasetDir, arg(a, 2, 'a version id'));
      const files = versionFiles(v);
      if (a.json) outJson({ ...publicVersion(v), files });
      else {
        printList([v], file);
        out(`folder: ${v.dir}\ndataset files: ${files.dataset}\nmodel files: ${files.model.join(', ') || 'none'}\npipeline file kept: ${files.hasPipeline ? 'yes' : 'no'}`);
        const perLabel = Object.keys(v.metrics).some((k) => k.includes('.per_label.'));
        for (const [k, value] of Object.entries(v.metrics)) if (!k.includes('.per_label.')) out(`  ${escapeControl(formatMetric(k, { value }))}`);
        if (perLabel) out(`  (per-label figures: --json, or ${path.join(v.dir, 'metrics.json')})`);
      }
      return EXIT.ok;
    }
    case 'diff': {
      const d = diffVersions(datasetDir, arg(a, 2, 'two version ids'), arg(a, 3, 'two version ids'));
      if (a.json) outJson(d);
      else printDiff(d);
      return EXIT.ok;
    }
    case 'restore':
      return restore(a, file, datasetDir, loaded.pipeline?.name ?? path.basename(file));
    case 'prune': {
      if (a.keep === undefined) throw new UsageError('versions FILE prune needs --keep N: the number of newest versions to keep');
      const removed = await pruneVersions(datasetDir, a.keep);
      if (a.json) outJson({ removed, kept: listVersions(datasetDir).map((v) => v.id) });
      else out(removed.length ? `Removed ${removed.join(', ')}.` : 'Nothing to remove.');
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown versions subcommand "${sub}": use ${SUBCOMMANDS}`);
  }
}
