// One run per dataset at a time, across processes (CLI, editor, scheduler).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { metaDir } from './state';

export class DatasetLockedError extends Error {
  constructor(readonly holder: { pid: number; host: string; since: string; pipeline?: string }) {
    super(`Another run is in progress on this dataset (pid ${holder.pid} on ${holder.host} since ${holder.since}). Wait for it or cancel it; a stale lock is taken over automatically once that process is gone.`);
    this.name = 'DatasetLockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireLock(datasetDir: string, pipeline: string): () => void {
  const dir = metaDir(datasetDir);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'lock');
  const me = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), pipeline };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      return () => {
        try {
          const cur = JSON.parse(fs.readFileSync(file, 'utf8'));
          if (cur.pid === me.pid && cur.since === me.since) fs.rmSync(file, { force: true });
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder: typeof me | undefined;
      try {
        holder = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch {
        holder = undefined; // half-written by a process that died: stale
      }
      if (holder && holder.host === me.host && alive(holder.pid)) throw new DatasetLockedError(holder);
      if (holder && holder.host !== me.host) throw new DatasetLockedError(holder);
      fs.rmSync(file, { force: true });
    }
  }
  throw new Error(`Could not take the dataset lock ${file}.`);
}
