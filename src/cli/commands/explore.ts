// data-pipelines explore FILE [--json] [--png OUT]: the data explorer made now (a 2-D map of every
// sample and the data-quality findings), under the dataset's lock. Nothing in the dataset moves.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { explorerFiles, refreshExplorer, type ExplorerDoc } from '../../core/explorer/explorer';
import type { QualityReport } from '../../core/explorer/quality';
import { loadPipelineFile } from '../../core/pipeline/validate';
import { escapeControl } from '../../core/util/format';
import { requireFile } from '../args';
import { EXIT } from '../exit';
import { err, out, outJson } from '../output';
import type { CommandContext } from './context';

const SHOWN = 3;

/** Each kind of finding with its first few samples. */
function findingLines(q: QualityReport): string[] {
  const kinds: [string, string[][]][] = [
    ['leakage (near-identical across categories)', q.leakage.map((l) => l.samples)],
    ['near-duplicate (within a category)', q.nearDuplicates.map((l) => l.samples)],
    ['mislabeled (neighbours carry another label)', q.mislabeled.map((m) => [`${m.sample} (${m.label}, looks like ${m.suggested}: ${Math.round(m.agreement * 100)}%)`])],
    ['imbalance', q.imbalance.map((i) => [`${i.category}/${i.label}: ${i.count} against ${i.largest}`])],
    ['unusual size', q.unusualSize.map((u) => [`${u.sample} (${u.width}×${u.height})`])],
    ['undecodable', q.undecodable.map((p) => [p])],
  ];
  const lines: string[] = [];
  for (const [name, groups] of kinds) {
    if (!groups.length) continue;
    lines.push(`  ${name}: ${groups.length}`);
    for (const g of groups.slice(0, SHOWN)) lines.push(`    ${g.map(escapeControl).join('  ≈  ')}`);
    if (groups.length > SHOWN) lines.push(`    … and ${groups.length - SHOWN} more`);
  }
  return lines.length ? lines : ['  no findings'];
}

function summary(doc: ExplorerDoc, png: string): string {
  const e = doc.embedding;
  const labeled = doc.points.filter((p) => p.label !== null).length;
  return [
    `${doc.points.length} samples on the map (${labeled} labeled), from ${e.kind === 'training' ? `the embeddings of training run ${e.runId}` : e.kind === 'image-features' ? 'image features' : "the files' bytes"} (${e.dims} dimensions)`,
    `Samples per finding: ${Object.entries(doc.quality.counts).map(([k, n]) => `${k} ${n}`).join(', ')}`,
    'Findings:',
    ...findingLines(doc.quality),
    `Map: ${png}`,
  ].join('\n');
}

export async function explore({ args: a, logger, signal }: CommandContext): Promise<number> {
  const file = requireFile(a);
  const png = (a as { png?: string }).png;
  const loaded = loadPipelineFile(file);
  if (!loaded.pipeline) {
    err(`${escapeControl(file)}: the pipeline is invalid; run \`data-pipelines validate ${file}\` for the problems.`);
    return EXIT.failed;
  }
  if (!fs.existsSync(loaded.datasetDir)) {
    err(`${escapeControl(loaded.datasetDir)}: no dataset yet. Run the pipeline first: data-pipelines run ${file}`);
    return EXIT.failed;
  }
  const doc = await refreshExplorer(loaded, { logger, signal });
  for (const w of doc.warnings ?? []) err(`warning: ${w}`);
  const made = explorerFiles(loaded.datasetDir).png;
  if (png) {
    fs.mkdirSync(path.dirname(path.resolve(png)), { recursive: true });
    fs.copyFileSync(made, png);
  }
  if (a.json) outJson({ points: doc.points.map((p) => ({ path: p.path, x: p.x, y: p.y, label: p.label, category: p.category })), quality: doc.quality });
  else out(summary(doc, png ?? made));
  return EXIT.ok;
}
