// One run per dataset at a time, across processes (CLI, editor, scheduler).
// The lock file is created atomically with its content (written to a unique temp file, then
// link()ed into place, which fails if the lock exists), so it is never seen empty or half-written.
// Taking over a stale lock happens under a second, mkdir-based guard and re-checks the holder
// inside it, so two processes can never both remove a lock and both take it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { metaDir } from './state';

export interface LockHolder { pid: number; host: string; since: string; pipeline?: string }

export class DatasetLockedError extends Error {
  constructor(readonly holder: LockHolder) {
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

/** A lock file that cannot be parsed counts as stale only once it is this old (another writer may be mid-write). */
const UNREADABLE_STALE_MS = 10_000;
const GUARD_STALE_MS = 10_000;

function readHolder(file: string): { holder?: LockHolder; raw?: string; mtimeMs?: number; missing?: boolean } {
  let raw: string;
  let mtimeMs: number;
  try {
    raw = fs.readFileSync(file, 'utf8');
    mtimeMs = fs.statSync(file).mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true };
    throw err;
  }
  try {
    const h = JSON.parse(raw);
    if (h && typeof h.pid === 'number') return { holder: h, raw, mtimeMs };
  } catch {
    /* unreadable */
  }
  return { raw, mtimeMs };
}

function isStale(r: ReturnType<typeof readHolder>, host: string): boolean {
  if (r.missing) return false;
  if (!r.holder) return Date.now() - (r.mtimeMs ?? Date.now()) > UNREADABLE_STALE_MS;
  return r.holder.host === host && !alive(r.holder.pid);
}

/** Removes `file` if it is still the same stale lock, under an exclusive mkdir guard. */
function removeIfStillStale(file: string, seen: string | undefined, host: string): void {
  const guard = `${file}.takeover`;
  try {
    fs.mkdirSync(guard);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    try {
      if (Date.now() - fs.statSync(guard).mtimeMs > GUARD_STALE_MS) fs.rmdirSync(guard);
    } catch {
      /* someone else cleaned it */
    }
    return; // someone else is taking over; try again
  }
  try {
    const again = readHolder(file);
    if (!again.missing && again.raw === seen && isStale(again, host)) fs.rmSync(file, { force: true });
  } finally {
    try {
      fs.rmdirSync(guard);
    } catch {
      /* gone */
    }
  }
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

export function acquireLock(datasetDir: string, pipeline: string, lockFile?: string): () => void {
  // A shard of a sharded run holds a lock of its own (lockFile); everything else the dataset's.
  const file = lockFile ?? path.join(metaDir(datasetDir), 'lock');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const me: LockHolder = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), pipeline };
  const mine = JSON.stringify(me);
  const tmp = `${file}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(tmp, mine);
  try {
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        fs.linkSync(tmp, file);
        return () => {
          try {
            if (fs.readFileSync(file, 'utf8') === mine) fs.rmSync(file, { force: true });
          } catch {
            /* already gone */
          }
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const r = readHolder(file);
      if (r.missing) continue;
      if (!isStale(r, me.host)) {
        throw new DatasetLockedError(r.holder ?? { pid: 0, host: 'unknown (lock being written)', since: new Date(r.mtimeMs ?? Date.now()).toISOString() });
      }
      removeIfStillStale(file, r.raw, me.host);
      // Another process may be mid-takeover: give it a moment (this call is synchronous by design).
      Atomics.wait(PAUSE, 0, 0, Math.min(100, 2 ** attempt));
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  throw new Error(`Could not take the dataset lock ${file}.`);
}
