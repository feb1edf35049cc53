// <dataset>/info.labels in Edge Impulse's dataset format, so the folder uploads to Edge Impulse as is.
// Every entry carries `boundingBoxes` (the Python SDK's upload_files.py reads it directly) and
// metadata that fits an HTTP header (the CLI uploader sends metadata as an `x-metadata` header),
// with no absolute local path, host or endpoint in it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Category } from '../types';
import { writeJsonArrayFile, type StateEntry } from './state';
import { compareCodePoints } from '../util/format';
import { writeFileAtomic } from '../util/files';

export interface InfoLabelsFile {
  version: 1;
  files: {
    path: string;
    name: string;
    category: Category;
    label: { type: 'label'; label: string } | { type: 'unlabeled' };
    metadata: Record<string, string>;
    boundingBoxes: unknown[];
  }[];
}

/** Percent-encodes everything that is not printable ASCII (and `%` itself), so the value is a valid header value. */
export function headerSafe(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x20 && c < 0x7f && ch !== '%') out += ch;
    // A lone surrogate: a byte of a name that is not UTF-8 (surrogate-escaped, util/names.ts).
    else if (c >= 0xd800 && c <= 0xdfff) out += c >= 0xdc80 && c <= 0xdcff ? `%${(c - 0xdc00).toString(16).toUpperCase()}` : '%EF%BF%BD';
    else out += encodeURIComponent(ch === '%' ? '%' : ch).replace(/[!'()*]/g, (x) => '%' + x.charCodeAt(0).toString(16).toUpperCase());
  }
  return out;
}

/** A description of the source without hosts, endpoints or absolute local paths. */
export function safeSourceName(source: string): string {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)(\/.*)?$/i.exec(source);
  if (m) {
    const scheme = m[1].toLowerCase();
    if (scheme === 'http' || scheme === 'https') return scheme; // an endpoint: host dropped
    // s3://bucket/prefix, gs://bucket/prefix, az://container/prefix: the bucket is not a host, but an
    // endpoint may hide in the authority (user@host:port): keep only a plain bucket name.
    const bucket = /^[A-Za-z0-9._-]+$/.test(m[2]) && !m[2].includes(':') ? m[2] : '';
    return bucket ? `${scheme}://${bucket}${m[3] ?? '/'}` : scheme;
  }
  if (source.startsWith('/') || /^[A-Za-z]:[\\/]/.test(source) || source.startsWith('\\\\') || source.startsWith('folder:')) return 'folder';
  // Anything else that looks like a host (dots, colon) is dropped rather than risked.
  return /[./\\:@]/.test(source) ? 'source' : source;
}

export function buildInfoLabels(entries: Iterable<StateEntry>): InfoLabelsFile {
  const files: InfoLabelsFile['files'] = [];
  for (const e of entries) {
    if (e.status !== 'synced' || !e.path || !e.category) continue;
    const base = e.path.slice(e.path.lastIndexOf('/') + 1);
    const dot = base.lastIndexOf('.');
    files.push({
      path: e.path,
      name: dot > 0 ? base.slice(0, dot) : base,
      category: e.category,
      label: e.label === null ? { type: 'unlabeled' } : { type: 'label', label: e.label },
      metadata: { source: headerSafe(safeSourceName(e.source)), key: headerSafe(e.key.replace(/^\/+/, '')) },
      boundingBoxes: [],
    });
  }
  files.sort((a, b) => compareCodePoints(a.path, b.path));
  return { version: 1, files };
}

export function writeInfoLabels(datasetDir: string, entries: Iterable<StateEntry>): InfoLabelsFile {
  const info = buildInfoLabels(entries);
  const file = path.join(datasetDir, 'info.labels');
  const tmp = `${file}.tmp-${process.pid}`;
  fs.mkdirSync(datasetDir, { recursive: true });
  writeJsonArrayFile(tmp, '{"version":1,"files":[\n', info.files, '\n]}\n');
  fs.renameSync(tmp, file);
  return info;
}

/** Writes `<dataset>/labels.txt` atomically: every label, sorted, deduplicated, one per line, trailing newline. */
export function writeLabelsTxt(datasetDir: string, labels: Iterable<string>): string[] {
  const sorted = [...new Set(labels)].sort(compareCodePoints);
  const file = path.join(datasetDir, 'labels.txt');
  writeFileAtomic(file, sorted.length ? sorted.join('\n') + '\n' : '');
  return sorted;
}
