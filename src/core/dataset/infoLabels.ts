// <dataset>/info.labels in Edge Impulse's dataset format, so the folder uploads to Edge Impulse as is.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Category } from '../types';
import { writeJsonArrayFile, type StateEntry } from './state';

export interface InfoLabelsFile {
  version: 1;
  files: {
    path: string;
    name: string;
    category: Category;
    label: { type: 'label'; label: string } | { type: 'unlabeled' };
    metadata: Record<string, string>;
  }[];
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
      metadata: { source: e.source, key: e.key },
    });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
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
