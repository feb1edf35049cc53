// data-pipelines label FILE (--label L | --unlabel) [--category C] PATH... [--json]: a person's
// label (or none) and/or category for samples. The files move, info.labels, labels.txt and the
// state follow, and labels-override.json keeps the decision for every later sync.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { relabelSamples, type RelabelResult } from '../../core/dataset/relabel';
import { formatProblem, loadPipelineFile } from '../../core/pipeline/validate';
import { escapeControl } from '../../core/util/format';
import { UsageError, requireFile, type Args } from '../args';
import { EXIT } from '../exit';
import { err, out, outJson, table } from '../output';
import type { CommandContext } from './context';

const HOW = 'data-pipelines label FILE --label L PATH…, --unlabel PATH… or --category C PATH…';

/** What to change, from the options; a usage error for none or a contradiction. */
function request(a: Args): { label?: string | null; category?: Args['category'] } {
  if (a.label !== undefined && a.unlabel) throw new UsageError('label takes --label L or --unlabel, not both');
  if (a.label === undefined && !a.unlabel && !a.category) throw new UsageError(`label needs --label L, --unlabel or --category C: ${HOW}`);
  return { ...(a.label !== undefined ? { label: a.label } : a.unlabel ? { label: null } : {}), ...(a.category ? { category: a.category } : {}) };
}

/**
 * A PATH as the user typed it -> the dataset-relative path info.labels uses: an absolute path, or
 * one relative to the current directory, naming a file inside the dataset folder is taken as
 * that file; anything else is already relative to the dataset.
 */
export function datasetPath(datasetDir: string, p: string, cwd = process.cwd()): string {
  const root = path.resolve(datasetDir);
  const abs = path.resolve(cwd, p);
  const rel = path.relative(root, abs);
  const inside = !!rel && !rel.startsWith('..') && !path.isAbsolute(rel);
  if (inside && (path.isAbsolute(p) || fs.existsSync(abs))) return rel.split(path.sep).join('/');
  return p.split(path.sep).join('/').replace(/^(\.\/)+/, '');
}

function printResult(r: RelabelResult): void {
  if (r.changed.length) {
    const rows = [['from', 'to', 'label', 'category']];
    for (const c of r.changed) rows.push([c.path, c.to.path, c.to.label ?? '(unlabeled)', c.to.category]);
    out(table(rows));
  }
  out(`${r.changed.length} sample(s) changed${r.unchanged.length ? `, ${r.unchanged.length} already so` : ''}. Later syncs keep these labels (labels-override.json).`);
}

export async function label({ args: a, logger }: CommandContext): Promise<number> {
  const file = requireFile(a);
  const change = request(a);
  const given = a.files.slice(1);
  if (!given.length) throw new UsageError(`label needs the samples' paths (relative to the dataset folder, as info.labels lists them): ${HOW}`);
  const loaded = loadPipelineFile(file);
  if (!loaded.pipeline) {
    for (const p of loaded.problems) err(formatProblem(file, p));
    err(`${escapeControl(file)}: the pipeline is invalid; nothing was labeled.`);
    if (a.json) outJson({ file, valid: false, problems: loaded.problems });
    return EXIT.failed;
  }
  const paths = given.map((p) => datasetPath(loaded.datasetDir, p));
  const r = await relabelSamples(loaded, { paths, ...change, logger });
  if (a.json) outJson({ dataset: loaded.datasetDir, ...r });
  else printResult(r);
  return EXIT.ok;
}
