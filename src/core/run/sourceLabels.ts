// An Edge Impulse export in a source carries its own `info.labels`: it sets each file's label and
// category, as Edge Impulse's bucket import does. Read here, before planning; never imported as a
// sample (plan.ts skips it).
import type { Category, Source, SourceObject } from '../types';
import type { SourceLabels } from './plan';

/** Larger than any real info.labels (a million entries is about 150 MB: refused, with a warning). */
const MAX_BYTES = 64 * 1024 * 1024;
const CATEGORIES: readonly string[] = ['training', 'validation', 'testing'];
// Labels become folder names and lines in labels.txt: control characters, separators and dot names are refused.
// eslint-disable-next-line no-control-regex
const BAD_LABEL = /[\u0000-\u001f\u007f-\u009f/\\]|^\.{1,2}$/;

export interface SourceLabelsResult {
  labels: SourceLabels;
  warnings: string[];
}

async function readAll(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    n += b.length;
    if (n > limit) throw new Error(`larger than ${limit / 1024 / 1024} MB`);
    parts.push(b);
  }
  return Buffer.concat(parts);
}

/** Joins an info.labels entry's path to the folder that holds the file, as a key relative to the step's path. */
function join(dir: string, p: string): string | undefined {
  const parts = [...(dir ? dir.split('/') : []), ...p.replace(/\\/g, '/').split('/')];
  const out: string[] = [];
  for (const s of parts) {
    if (s === '' || s === '.') continue;
    if (s === '..') {
      if (!out.length) return undefined; // outside the step's path: ignored
      out.pop();
    } else out.push(s);
  }
  return out.join('/');
}

/** Parses one info.labels text into `into`; returns warnings. Pure. */
export function parseInfoLabels(text: string, dir: string, into: SourceLabels, where: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    return [`${where} is not valid JSON (${(err as Error).message}); labels come from the folder and file names instead.`];
  }
  const files = (doc as { files?: unknown })?.files;
  if (!Array.isArray(files)) return [`${where} has no "files" list; labels come from the folder and file names instead.`];
  let skipped = 0;
  for (const f of files as unknown[]) {
    const e = f as { path?: unknown; category?: unknown; label?: { type?: unknown; label?: unknown } };
    const rel = typeof e?.path === 'string' ? join(dir, e.path) : undefined;
    const type = e?.label?.type;
    const label = type === 'label' && typeof e.label?.label === 'string' && e.label.label !== '' && !BAD_LABEL.test(e.label.label) ? e.label.label : type === 'unlabeled' ? null : undefined;
    if (!rel || label === undefined) {
      skipped++;
      continue;
    }
    const category = typeof e.category === 'string' && CATEGORIES.includes(e.category) ? (e.category as Category) : undefined;
    into.set(rel, { label, category });
  }
  return skipped ? [`${where}: ${skipped} entr${skipped === 1 ? 'y' : 'ies'} without a path or a label this tool reads (label types "label" and "unlabeled"; no control characters, "/" or "\\" in a label) were ignored; those files are labeled from their names.`] : [];
}

/** Reads every info.labels among the listed objects. A file that cannot be read gives a warning, never a failed run. */
export async function readSourceLabels(source: Source, listed: readonly SourceObject[], signal?: AbortSignal): Promise<SourceLabelsResult> {
  const labels: SourceLabels = new Map();
  const warnings: string[] = [];
  const files = listed.filter((o) => !o.unreadable && (o.rel === 'info.labels' || o.rel.endsWith('/info.labels')));
  // Outer files first, so that an info.labels nearer the file wins.
  files.sort((a, b) => a.rel.split('/').length - b.rel.split('/').length);
  for (const obj of files) {
    const dir = obj.rel.includes('/') ? obj.rel.slice(0, obj.rel.lastIndexOf('/')) : '';
    if (obj.size > MAX_BYTES) {
      warnings.push(`${obj.rel} is ${Math.round(obj.size / 1024 / 1024)} MB, larger than an info.labels can sensibly be; not read.`);
      continue;
    }
    try {
      const text = (await readAll(await source.open(obj, signal), MAX_BYTES)).toString('utf8');
      warnings.push(...parseInfoLabels(text, dir, labels, obj.rel));
    } catch (err) {
      if (signal?.aborted) throw err;
      warnings.push(`${obj.rel} could not be read (${(err as Error).message}); labels come from the folder and file names instead.`);
    }
  }
  if (files.length) {
    const present = new Set(listed.map((o) => o.rel));
    const missing = [...labels.keys()].filter((k) => !present.has(k)).length;
    if (missing) warnings.push(`${missing} file(s) listed in the source's info.labels are not in the source.`);
  }
  return { labels, warnings };
}
