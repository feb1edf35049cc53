// What was synced: one entry per source object. Kept as a snapshot plus an append-only journal,
// so recording one file costs one small append and a run killed at any moment loses at most the
// last few records (their files are re-fetched to the same paths, never doubled).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Category } from '../types';

export const META_DIR = '.dsp';

export interface StateEntry {
  source: string;
  key: string;
  version: string;
  size: number;
  /** MD5 of the content, hex. */
  hash?: string;
  /** Relative to the dataset; null when nothing is stored locally (duplicate, failed checklist). */
  path: string | null;
  label: string | null;
  category: Category | null;
  status: 'synced' | 'duplicate' | 'failed';
  reason?: string;
  syncedAt: string;
}

type JournalLine = { op: 'set'; e: StateEntry } | { op: 'del'; source: string; key: string };


export function metaDir(datasetDir: string): string {
  return path.join(datasetDir, META_DIR);
}

/**
 * One copy of each value many entries share (the source, labels, categories, statuses, the run's
 * timestamp): JSON.parse makes a fresh string per field per line, and at a million entries those
 * copies alone are hundreds of megabytes.
 */
class Interner {
  private readonly seen = new Map<string, string>();
  get<T extends string | null | undefined>(s: T): T {
    if (typeof s !== 'string') return s;
    const had = this.seen.get(s);
    if (had !== undefined) return had as T;
    if (this.seen.size < 100_000) this.seen.set(s, s);
    return s;
  }
}

/** An entry as it is kept in memory: shared strings interned, a hash equal to the version the same string. */
function compactEntry(e: StateEntry, strings: Interner): StateEntry {
  e.source = strings.get(e.source);
  e.label = strings.get(e.label);
  e.category = strings.get(e.category);
  e.status = strings.get(e.status);
  e.syncedAt = strings.get(e.syncedAt);
  if (e.reason !== undefined) e.reason = strings.get(e.reason);
  if (e.hash !== undefined && e.hash === e.version) e.hash = e.version;
  return e;
}

export class SyncState {
  /** By source, then by key: the entry's own key string is the map's key (no joined id per entry). */
  private readonly entries = new Map<string, Map<string, StateEntry>>();
  private count = 0;
  private readonly strings = new Interner();
  private pending: string[] = [];
  private journalFd: number | undefined;
  private hadJournal = false;
  /** True once anything was recorded since the state was loaded. */
  changed = false;

  /** Where records are appended; a shard's own journal when `overlay` (see loadShard). */
  private journalFile: string;
  /** A shard's view: the dataset's state read, the shard's journal written, the snapshot never rewritten. */
  private overlay = false;

  private constructor(private readonly dir: string) {
    this.journalFile = path.join(dir, 'state.journal');
  }

  static load(datasetDir: string): SyncState {
    const s = new SyncState(metaDir(datasetDir));
    const snap = path.join(s.dir, 'state.json');
    try {
      // One entry per line after a header line, read in blocks: a large state is never one string.
      forEachLine(snap, (line, n) => {
        if (n === 0) {
          const header = JSON.parse(line) as { version?: number; entries?: StateEntry[] };
          if (header.entries) for (const e of header.entries) s.put(e); // version 1: one document
          return;
        }
        s.put(JSON.parse(line) as StateEntry);
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`The sync state ${snap} is unreadable (${(err as Error).message}). Move it away to start a full re-sync.`);
    }
    s.hadJournal = s.replay(path.join(s.dir, 'state.journal'));
    return s;
  }

  /**
   * A shard's state (src/core/run/shard.ts): the dataset's state as the last finalize left it,
   * with the shard's own journal replayed over it; what the shard records goes to that journal
   * only, and finalize merges the journals.
   */
  static loadShard(datasetDir: string, journalFile: string): SyncState {
    const s = SyncState.load(datasetDir);
    s.overlay = true;
    s.journalFile = journalFile;
    s.hadJournal = false;
    s.replay(journalFile);
    return s;
  }

  /** Applies a journal's records; false when there is none. A line cut short by a crash is skipped: its file is simply fetched again. */
  replay(file: string): boolean {
    let journal: string;
    try {
      journal = fs.readFileSync(file, 'utf8');
    } catch {
      return false;
    }
    for (const line of journal.split('\n')) {
      if (!line) continue;
      let j: JournalLine;
      try {
        j = JSON.parse(line) as JournalLine;
      } catch {
        continue;
      }
      if (j.op === 'set') this.set(j.e, false);
      else this.delete(j.source, j.key, false);
    }
    return true;
  }

  get size(): number {
    return this.count;
  }

  get(source: string, key: string): StateEntry | undefined {
    return this.entries.get(source)?.get(key);
  }

  *all(): IterableIterator<StateEntry> {
    for (const bySource of this.entries.values()) yield* bySource.values();
  }

  /** How many entries `source` has. */
  countFor(source: string): number {
    return this.entries.get(source)?.size ?? 0;
  }

  forSource(source: string): StateEntry[] {
    return [...(this.entries.get(source)?.values() ?? [])];
  }

  private put(e: StateEntry): void {
    compactEntry(e, this.strings);
    let bySource = this.entries.get(e.source);
    if (!bySource) this.entries.set(e.source, (bySource = new Map()));
    const before = bySource.size;
    bySource.set(e.key, e);
    this.count += bySource.size - before;
  }

  private remove(source: string, key: string): boolean {
    const bySource = this.entries.get(source);
    if (!bySource?.delete(key)) return false;
    this.count--;
    return true;
  }

  /** Records an entry (`record`: also in the journal, so it survives a crash). */
  set(e: StateEntry, record = true): void {
    this.put(e);
    if (!record) return;
    this.changed = true;
    this.pending.push(JSON.stringify({ op: 'set', e }));
    this.maybeFlush();
  }

  delete(source: string, key: string, record = true): void {
    if (this.remove(source, key) && record) {
      this.changed = true;
      this.pending.push(JSON.stringify({ op: 'del', source, key }));
      this.maybeFlush();
    }
  }

  private lastFlush = Date.now();

  /** In batches (one write per 256 records), but at least every 250 ms: a killed run loses at most that much work. */
  private maybeFlush(): void {
    if (this.pending.length >= 256 || Date.now() - this.lastFlush >= 250) this.flush();
  }

  /** Appends pending records to the journal. */
  flush(): void {
    this.lastFlush = Date.now();
    if (!this.pending.length) return;
    if (this.journalFd === undefined) {
      fs.mkdirSync(path.dirname(this.journalFile), { recursive: true });
      this.journalFd = fs.openSync(this.journalFile, 'a+');
      // A run killed mid-append left a line without its end: end it, or the first record of this run would join it and be lost.
      const size = fs.fstatSync(this.journalFd).size;
      const last = Buffer.alloc(1);
      if (size > 0 && fs.readSync(this.journalFd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a) fs.writeSync(this.journalFd, '\n');
    }
    fs.writeSync(this.journalFd, this.pending.join('\n') + '\n');
    this.pending = [];
  }

  /** Writes a fresh snapshot atomically and empties the journal (nothing to do when nothing changed). */
  compact(): void {
    if (this.overlay) return this.flush(); // a shard's records stay in its journal until finalize
    if (!this.changed && !this.hadJournal && this.journalFd === undefined) return;
    this.flush();
    fs.mkdirSync(this.dir, { recursive: true });
    this.writeSnapshot(path.join(this.dir, 'state.json'));
    if (this.journalFd !== undefined) {
      fs.closeSync(this.journalFd);
      this.journalFd = undefined;
    }
    fs.rmSync(path.join(this.dir, 'state.journal'), { force: true });
    this.hadJournal = false;
  }

  /** Writes every entry, in the snapshot's format, to `file` (atomically): what a version keeps. */
  writeSnapshot(file: string): void {
    const tmp = `${file}.tmp-${process.pid}`;
    const entries = [...this.all()].sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    writeJsonLines(tmp, '{"version":2}', entries);
    fs.renameSync(tmp, file);
  }

  /** Replaces the dataset's state with a snapshot (a version's), journal dropped. Caller holds the lock. */
  static restoreSnapshot(datasetDir: string, snapshot: string): void {
    const dir = metaDir(datasetDir);
    fs.mkdirSync(dir, { recursive: true });
    const snap = path.join(dir, 'state.json');
    const tmp = `${snap}.tmp-${process.pid}`;
    fs.copyFileSync(snapshot, tmp);
    fs.renameSync(tmp, snap);
    fs.rmSync(path.join(dir, 'state.journal'), { force: true });
  }
}

const CHUNK = 2000;

/** Writes `head`, the items as JSON joined by `sep`, then `tail`, in chunks: a large state never
 * becomes one giant string in memory. */
export function writeJsonArrayFile(file: string, head: string, items: readonly unknown[], tail: string, sep = ',\n'): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, head);
    for (let i = 0; i < items.length; i += CHUNK) {
      const part = items.slice(i, i + CHUNK).map((x) => JSON.stringify(x));
      fs.writeSync(fd, (i ? sep : '') + part.join(sep));
    }
    fs.writeSync(fd, tail);
  } finally {
    fs.closeSync(fd);
  }
}

function writeJsonLines(file: string, header: string, items: readonly unknown[]): void {
  writeJsonArrayFile(file, header + '\n', items, '\n', '\n');
}

/** Calls `fn` for each non-empty line of a file, reading 1 MiB at a time. */
function forEachLine(file: string, fn: (line: string, n: number) => void): void {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    const decoder = new StringDecoder('utf8'); // a character split across two blocks stays whole
    let rest = '';
    let n = 0;
    for (;;) {
      const got = fs.readSync(fd, buf, 0, buf.length, null);
      if (got === 0) break;
      const text = rest + decoder.write(buf.subarray(0, got));
      const lines = text.split('\n');
      rest = lines.pop()!;
      for (const line of lines) if (line) fn(line, n++);
    }
    rest += decoder.end();
    if (rest) fn(rest, n);
  } finally {
    fs.closeSync(fd);
  }
}
