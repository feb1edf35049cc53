// What a person decided about a sample's label or category (the data explorer, `label`), kept
// beside the sync state in <dataset>/.dsp/labels-override.json. Later syncs apply it before any
// inference: a folder name or a split never overwrites a person's label.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CATEGORIES, type Category } from '../types';
import { metaDir } from './state';

export interface Override {
  /** null: unlabeled on purpose; absent: the label is inferred as usual. */
  label?: string | null;
  category?: Category;
  at: string;
}

export type Overrides = Map<string, Override>;

export const overrideId = (source: string, key: string): string => `${source}\u0000${key}`;

export function overridesFile(datasetDir: string): string {
  return path.join(metaDir(datasetDir), 'labels-override.json');
}

export function loadOverrides(datasetDir: string): Overrides {
  let doc: { overrides?: { source: string; key: string; label?: string | null; category?: Category; at: string }[] };
  try {
    doc = JSON.parse(fs.readFileSync(overridesFile(datasetDir), 'utf8')) as typeof doc;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new Error(`${overridesFile(datasetDir)} is not readable JSON (${(err as Error).message}). It holds the labels people gave; fix or restore it before syncing.`);
  }
  const out: Overrides = new Map();
  for (const o of doc.overrides ?? []) {
    // A hand-edited entry that could not be a class folder or a category is ignored, never followed.
    if (typeof o?.source !== 'string' || typeof o.key !== 'string') continue;
    if (o.label !== undefined && o.label !== null && (typeof o.label !== 'string' || labelProblem(o.label))) continue;
    if (o.category !== undefined && !CATEGORIES.includes(o.category)) continue;
    out.set(overrideId(o.source, o.key), { ...(o.label !== undefined ? { label: o.label } : {}), ...(o.category ? { category: o.category } : {}), at: o.at });
  }
  return out;
}

export function saveOverrides(datasetDir: string, overrides: Overrides): void {
  const list = [...overrides].map(([id, o]) => {
    const cut = id.indexOf('\u0000');
    const [source, key] = [id.slice(0, cut), id.slice(cut + 1)];
    return { source, key, ...o };
  });
  const file = overridesFile(datasetDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify({ version: 1, overrides: list }, null, 1) + '\n');
  fs.renameSync(tmp, file);
}

/** Why a label cannot be a class folder (the rules every label a person gives follows), or undefined when it can. */
export function labelProblem(label: string): string | undefined {
  if (!label.trim()) return 'A label cannot be empty or blank: to make samples unlabeled, unlabel them (--unlabel).';
  if (/[/\\]/.test(label) || label === '.' || label === '..') return `"${label}" cannot be a label: it would be a path, not a class folder. Use a name without "/", "\\" or "..".`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(label)) return `${JSON.stringify(label)} cannot be a label: it holds control characters.`;
  if (label.startsWith('.')) return `"${label}" cannot be a label: a folder starting with "." is hidden from the tools that load the dataset.`;
  if (Buffer.byteLength(label, 'utf8') > 200) return 'A label is at most 200 bytes long.';
  return undefined;
}
