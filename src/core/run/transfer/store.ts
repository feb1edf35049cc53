// Carrying out the plan's decisions on the dataset folder and recording each in the state and
// the tally together: a fetched file stored (or found to be a duplicate, or failing the
// checklist), a stored file moved, a removed one deleted. The state is written only after a file
// is in place, so a crash at any point loses nothing: the file is fetched again.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkDownloaded } from '../../dataset/checklist';
import { ContentIndex, ownerId, type PathClaims } from '../../dataset/identity';
import type { StateEntry, SyncState } from '../../dataset/state';
import type { PlanItem, SourceObject } from '../../types';
import { errorMessage } from '../../util/errors';
import { SYNC_WRITE_LIMIT, type Fetched } from './fetch';
import type { StepTally } from './tally';

export interface StoreOptions {
  sourceId: string;
  allowDuplicates: boolean;
  state: SyncState;
  claims: PathClaims;
  datasetDir: string;
  tally: StepTally;
}

const folderOf = (rel: string) => rel.slice(0, Math.max(0, rel.lastIndexOf('/')));

export function toFsPath(datasetDir: string, rel: string): string {
  const abs = path.join(datasetDir, ...rel.split('/'));
  // Defence in depth: the planner only produces safe paths, but nothing may land outside the dataset.
  if (!abs.startsWith(datasetDir + path.sep)) throw new Error(`refusing to write outside the dataset: ${rel}`);
  return abs;
}

/** Removes each folder in `dirs` (relative to the dataset) and its parents while they are empty. */
export function pruneEmptyDirs(datasetDir: string, dirs: Iterable<string>): void {
  for (const start of dirs) {
    for (let rel = start; rel !== ''; rel = folderOf(rel)) {
      try {
        fs.rmdirSync(toFsPath(datasetDir, rel));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') break; // not empty: nor are its parents
      }
    }
  }
}

export class StepStore {
  private readonly madeDirs = new Set<string>();
  /** Folders a file left: pruned at the end, so no empty label folder is left behind. */
  private readonly leftDirs = new Set<string>();
  private contents: ContentIndex | undefined;
  // One timestamp per step: a per-file string would cost 100,000 strings on a large run.
  private readonly stamp = new Date().toISOString();

  constructor(private readonly o: StoreOptions) {}

  /** Settles an item the plan needs no transfer for: counts it, and records a duplicate the store's MD5 revealed. */
  settle(it: PlanItem, obj: SourceObject | undefined): void {
    const { tally } = this.o;
    if (it.status === 'removed' || it.status === 'unchanged') tally.count(it, it.status);
    else if (it.status === 'rejected') {
      tally.count(it, 'rejected');
      tally.problem(it.key, it.reason ?? 'rejected');
    } else if (it.status === 'duplicate') {
      tally.count(it, 'duplicate');
      if (obj) this.record(it, obj, { size: obj.size, hash: obj.md5, path: null, status: 'duplicate', reason: it.reason });
    } else {
      tally.counts.skipped++;
      if (it.reason?.startsWith('checklist')) tally.count(it, 'checklistFailed');
      // Every key not imported is named with its reason; what the user's own globs leave out is only counted.
      if (!/^(not matched by include|excluded by )/.test(it.reason ?? '')) tally.problem(it.key, it.reason ?? 'skipped');
    }
  }

  /** A stored sample that only changes place: renamed, never fetched again. False when its file is gone. */
  async move(it: PlanItem): Promise<boolean> {
    const { state, sourceId, datasetDir, tally } = this.o;
    const prev = state.get(sourceId, it.key);
    if (!prev?.path || !it.path) return false;
    try {
      const dest = toFsPath(datasetDir, it.path);
      await this.ensureDir(path.dirname(dest));
      await fs.promises.rename(toFsPath(datasetDir, prev.path), dest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false; // gone since the plan: fetched again
      tally.fail(it.key, `could not move ${prev.path} to ${it.path}`, err);
      return true;
    }
    this.leftDirs.add(folderOf(prev.path));
    this.o.claims.release(prev.path, ownerId(sourceId, it.key));
    state.set({ ...prev, path: it.path, label: it.label, category: it.category, syncedAt: this.stamp });
    tally.count(it, 'changed');
    return true;
  }

  /** A sample gone from the source that the plan deletes locally. */
  async remove(it: PlanItem): Promise<void> {
    const { state, sourceId, datasetDir, tally } = this.o;
    try {
      if (it.path) {
        await fs.promises.rm(toFsPath(datasetDir, it.path), { force: true });
        this.leftDirs.add(folderOf(it.path));
      }
      state.delete(sourceId, it.key);
      this.o.claims.release(it.path ?? '', ownerId(sourceId, it.key));
      tally.count(it, 'removed');
    } catch (err) {
      tally.problem(it.key, `could not delete ${it.path}: ${errorMessage(err)}`);
    }
  }

  /** A fetched file: a duplicate of stored content, a checklist failure, or stored at its path. */
  async place(it: PlanItem, obj: SourceObject, fetched: Fetched): Promise<void> {
    const { sourceId, state, tally } = this.o;
    const me = ownerId(sourceId, it.key);
    const prev = state.get(sourceId, it.key);
    const contents = this.contentIndex();
    let unclaim = () => {};
    let inPlace = false;
    try {
      const dup = contents?.duplicateOf(fetched.hash, me);
      if (dup) return await this.duplicate(it, obj, fetched, prev, `same content as ${dup.path}`);
      if (contents) unclaim = contents.claim(fetched.hash, me, it.path!);
      const failed = await checkDownloaded(it.path!.slice(it.path!.lastIndexOf('/') + 1), fetched);
      if (failed) {
        unclaim();
        return await this.failedChecklist(it, obj, fetched, prev, failed);
      }
      await this.rename(fetched, it.path!);
      inPlace = true;
      await this.replaced(it, prev, fetched.hash);
      this.record(it, obj, { size: obj.size, hash: fetched.hash, path: it.path, status: 'synced' });
      tally.count(it, it.status === 'changed' ? 'changed' : 'new');
      tally.count(it, 'checklistOk');
      tally.counts.bytes += obj.size;
    } catch (err) {
      if (!inPlace) {
        unclaim();
        await fs.promises.rm(fetched.tmp, { force: true });
      }
      tally.count(it, 'rejected');
      tally.fail(it.key, `could not store ${it.path}`, err);
    }
  }

  /** Writes what is pending and removes the folders files left, if empty (unless `prune` is false). */
  finish(prune = true): void {
    this.o.state.flush();
    if (prune) pruneEmptyDirs(this.o.datasetDir, this.leftDirs);
  }

  // The content the dataset holds: built on the first fetched file, so a no-op sync never reads it.
  private contentIndex(): ContentIndex | undefined {
    if (this.o.allowDuplicates) return undefined;
    return (this.contents ??= ContentIndex.fromState(this.o.state));
  }

  private async duplicate(it: PlanItem, obj: SourceObject, fetched: Fetched, prev: StateEntry | undefined, reason: string): Promise<void> {
    await fs.promises.rm(fetched.tmp, { force: true });
    await this.dropPrevious(it, prev);
    this.o.claims.release(it.path!, ownerId(this.o.sourceId, it.key));
    this.record(it, obj, { size: fetched.size, hash: fetched.hash, path: null, status: 'duplicate', reason });
    it.status = 'duplicate';
    it.reason = reason;
    this.o.tally.count(it, 'duplicate');
  }

  private async failedChecklist(it: PlanItem, obj: SourceObject, fetched: Fetched, prev: StateEntry | undefined, reason: string): Promise<void> {
    await fs.promises.rm(fetched.tmp, { force: true });
    await this.dropPrevious(it, prev);
    this.record(it, obj, { size: fetched.size, hash: fetched.hash, path: null, status: 'failed', reason });
    this.o.tally.count(it, 'checklistFailed');
    this.o.tally.problem(it.key, reason);
  }

  /** The key's earlier file, when this version stores none: removed, with its path and content let go. */
  private async dropPrevious(it: PlanItem, prev: StateEntry | undefined): Promise<void> {
    if (!prev?.path || prev.status !== 'synced') return;
    const me = ownerId(this.o.sourceId, it.key);
    await fs.promises.rm(toFsPath(this.o.datasetDir, prev.path), { force: true });
    this.leftDirs.add(folderOf(prev.path));
    this.o.claims.release(prev.path, me);
    this.contents?.release(prev.hash, me);
  }

  /** The key's earlier file and content, once the new one is in place. */
  private async replaced(it: PlanItem, prev: StateEntry | undefined, hash: string): Promise<void> {
    const me = ownerId(this.o.sourceId, it.key);
    if (prev?.path && prev.path !== it.path && prev.status === 'synced') {
      await fs.promises.rm(toFsPath(this.o.datasetDir, prev.path), { force: true });
      this.leftDirs.add(folderOf(prev.path));
      this.o.claims.release(prev.path, me);
    }
    if (prev?.hash !== hash) this.contents?.release(prev?.hash, me);
  }

  private async rename(fetched: Fetched, rel: string): Promise<void> {
    const dest = toFsPath(this.o.datasetDir, rel);
    await this.ensureDir(path.dirname(dest));
    if (fetched.size <= SYNC_WRITE_LIMIT) fs.renameSync(fetched.tmp, dest);
    else await fs.promises.rename(fetched.tmp, dest);
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.madeDirs.has(dir)) return;
    await fs.promises.mkdir(dir, { recursive: true });
    this.madeDirs.add(dir);
  }

  private record(it: PlanItem, obj: SourceObject, e: Pick<StateEntry, 'size' | 'hash' | 'path' | 'status'> & { reason?: string }): void {
    this.o.state.set({ source: this.o.sourceId, key: it.key, version: obj.version, label: it.label, category: it.category, syncedAt: this.stamp, ...e });
  }
}
