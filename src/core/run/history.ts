// Run records: one JSON file per run in <dataset>/.dsp/runs, newest first when listed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { metaDir } from '../dataset/state';
import type { RunRecord } from '../types';
import { writeFileAtomic } from '../util/files';

const KEEP = 200;

export function runsDir(datasetDir: string): string {
  return path.join(metaDir(datasetDir), 'runs');
}

export function newRunId(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z') + '-' + Math.random().toString(36).slice(2, 8);
}

export function saveRun(datasetDir: string, run: RunRecord): void {
  writeFileAtomic(path.join(runsDir(datasetDir), `${run.id}.json`), JSON.stringify(run, null, 1));
}

export function listRuns(datasetDir: string, limit = 50): RunRecord[] {
  let names: string[];
  try {
    names = fs.readdirSync(runsDir(datasetDir)).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  names.sort().reverse();
  const out: RunRecord[] = [];
  for (const n of names.slice(0, limit)) {
    try {
      out.push(JSON.parse(fs.readFileSync(path.join(runsDir(datasetDir), n), 'utf8')) as RunRecord);
    } catch {
      /* a record cut short by a crash is skipped */
    }
  }
  return out;
}

export function getRun(datasetDir: string, id: string): RunRecord | undefined {
  if (!/^[\w.-]+$/.test(id)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(path.join(runsDir(datasetDir), `${id}.json`), 'utf8')) as RunRecord;
  } catch {
    return undefined;
  }
}

/** A run left "running" by a process that died is marked so, not left spinning forever. */
export function markAbandoned(datasetDir: string): void {
  for (const r of listRuns(datasetDir, 20)) {
    if (r.status === 'running') {
      r.status = 'failed';
      r.error = 'The process running this pipeline stopped before the run finished (killed or crashed). The next run resumes where it left off.';
      r.endedAt = r.endedAt ?? new Date().toISOString();
      saveRun(datasetDir, r);
    }
  }
}

export function pruneRuns(datasetDir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(runsDir(datasetDir)).filter((n) => n.endsWith('.json'));
  } catch {
    return;
  }
  names.sort();
  for (const n of names.slice(0, Math.max(0, names.length - KEEP))) fs.rmSync(path.join(runsDir(datasetDir), n), { force: true });
}
