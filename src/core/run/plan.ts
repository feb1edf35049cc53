// A listing + the sync state -> what each object becomes: new / changed / unchanged / removed /
// duplicate / skipped / rejected, each with its label, category, local path and a reason.
import { checkBeforeDownload } from '../dataset/checklist';
import { labelFor } from '../dataset/labels';
import { foldPath, samplePath, withSuffix } from '../dataset/layout';
import { judgeKey } from '../dataset/safety';
import { categorize } from '../dataset/split';
import type { StateEntry, SyncState } from '../dataset/state';
import type { ImportBlock } from '../pipeline/model';
import { emptyCounts, type Category, type PlanItem, type SourceObject, type StepPreview } from '../types';
import { makeKeyFilter } from '../util/glob';

export const UNLABELED = '(unlabeled)';

/** Paths already taken in the dataset (folded form -> owner), shared by all steps of a run. */
export class PathClaims {
  private readonly owners = new Map<string, string>();
  static fromState(state: SyncState | undefined): PathClaims {
    const c = new PathClaims();
    if (state) for (const e of state.all()) if (e.path && e.status === 'synced') c.owners.set(foldPath(e.path), ownerId(e.source, e.key));
    return c;
  }
  ownerOf(p: string): string | undefined {
    return this.owners.get(foldPath(p));
  }
  claim(p: string, owner: string): void {
    this.owners.set(foldPath(p), owner);
  }
  /** Claims `p` unless another owner holds it; returns that other owner. One fold, one lookup. */
  claimIfFree(p: string, owner: string): string | undefined {
    const k = foldPath(p);
    const held = this.owners.get(k);
    if (held !== undefined && held !== owner) return held;
    this.owners.set(k, owner);
    return undefined;
  }
  release(p: string, owner: string): void {
    if (this.owners.get(foldPath(p)) === owner) this.owners.delete(foldPath(p));
  }
}

export const ownerId = (source: string, key: string) => `${source}\u0000${key}`;

/** S3's ETag of a single-part upload is the MD5 of the content; multipart ETags (`…-N`) are opaque. */
export function md5FromVersion(version: string): string | undefined {
  const v = version.replace(/"/g, '').toLowerCase();
  return /^[0-9a-f]{32}$/.test(v) ? v : undefined;
}

interface Classified {
  obj: SourceObject;
  item: PlanItem;
  prev?: StateEntry;
  basePath?: string;
  /** The key keeps the path it already has. */
  sticky?: boolean;
}

export interface PlanOptions {
  sourceId: string;
  step: string;
  type: string;
  block: ImportBlock;
  state?: SyncState;
  claims?: PathClaims;
}

export function planStep(objects: SourceObject[], opts: PlanOptions): StepPreview {
  const { block, state, sourceId } = opts;
  const claims = opts.claims ?? PathClaims.fromState(state);
  const filter = makeKeyFilter(block.include, block.exclude);
  const rule = block.category ?? 'split';
  const strategy = block.labelStrategy ?? 'infer-from-folder-name';
  const ratio = block.splitRatio;
  const warnings: string[] = [];
  const classified: Classified[] = [];
  let atRoot = 0;
  const seenKeys = new Set<string>();

  for (const obj of objects) {
    if (seenKeys.has(obj.key)) continue; // a listing that repeats a key must not double a sample
    seenKeys.add(obj.key);
    const base: PlanItem = { key: obj.key, rel: obj.rel, size: obj.size, version: obj.version, category: null, label: null, path: null, status: 'skipped', action: 'skip' };
    const verdict = judgeKey(obj.rel);
    if (verdict.kind === 'folder-marker') {
      classified.push({ obj, item: { ...base, reason: 'folder marker' } });
      continue;
    }
    if (verdict.kind === 'rejected') {
      classified.push({ obj, item: { ...base, status: 'rejected', action: 'reject', reason: verdict.reason } });
      continue;
    }
    if (verdict.kind === 'hidden') {
      classified.push({ obj, item: { ...base, reason: verdict.reason } });
      continue;
    }
    const filtered = filter(obj.rel);
    if (filtered) {
      classified.push({ obj, item: { ...base, reason: filtered } });
      continue;
    }
    const { category, rest } = categorize(verdict.segments, rule, ratio);
    const lab = labelFor(rest, strategy, block.label);
    const fileName = rest[rest.length - 1];
    const item: PlanItem = { ...base, category, label: lab.label };
    if (lab.warning) {
      item.warnings = [lab.warning];
      if (rest.length < 2) atRoot++;
    }
    const checklist = checkBeforeDownload(fileName, obj.size);
    if (checklist) {
      classified.push({ obj, item: { ...item, reason: checklist } });
      continue;
    }
    classified.push({ obj, item, prev: state?.get(sourceId, obj.key), basePath: samplePath(category, lab.label, fileName, obj.key) });
  }

  // Paths: what a key held before stays its own; new keys claim in byte order; the later of two
  // colliding keys (same name, or equal after case folding / Unicode normalisation) gets a suffix.
  const withPaths = classified.filter((c) => c.basePath !== undefined);
  for (const c of withPaths) c.sticky = !!c.prev?.path && c.prev.status === 'synced' && (c.prev.path === c.basePath || c.prev.path === withSuffix(c.basePath!, c.obj.key));
  withPaths.sort((a, b) => Number(b.sticky) - Number(a.sticky) || (a.obj.key < b.obj.key ? -1 : a.obj.key > b.obj.key ? 1 : 0));
  let collisions = 0;
  for (const c of withPaths) {
    const me = ownerId(sourceId, c.obj.key);
    let p = c.sticky ? c.prev!.path! : c.basePath!;
    if (claims.claimIfFree(p, me) !== undefined) {
      p = withSuffix(c.basePath!, c.obj.key);
      collisions++;
      (c.item.warnings ??= []).push(`name collides with another key; stored as ${p.slice(p.lastIndexOf('/') + 1)}`);
      claims.claim(p, me);
    }
    c.item.path = p;
  }

  // Status against the state.
  const hashes = new Map<string, string>();
  if (state && !block.allowDuplicates) for (const e of state.all()) if (e.hash && e.path && e.status === 'synced') hashes.set(e.hash, e.path);
  for (const c of withPaths) {
    const { item, prev, obj } = c;
    if (prev && prev.version === obj.version && prev.size === obj.size) {
      if (prev.status === 'synced' && prev.path === item.path) {
        item.status = 'unchanged';
        item.action = 'skip';
        item.reason = 'unchanged since the last sync';
      } else if (prev.status === 'duplicate') {
        item.status = 'unchanged';
        item.action = 'skip';
        item.reason = prev.reason ?? 'duplicate content';
        item.path = null;
      } else if (prev.status === 'failed') {
        item.status = 'unchanged';
        item.action = 'skip';
        item.reason = prev.reason ?? 'failed the checklist';
        item.path = null;
      } else {
        item.status = 'changed';
        item.action = 'download';
        item.reason = 'label, category or path rule changed';
      }
    } else {
      item.status = prev ? 'changed' : 'new';
      item.action = 'download';
      if (prev) item.reason = 'the object changed since the last sync';
    }
    if (item.action === 'download' && !block.allowDuplicates) {
      const md5 = md5FromVersion(obj.version);
      const dupOf = md5 ? hashes.get(md5) : undefined;
      if (md5 && dupOf && dupOf !== item.path) {
        claims.release(item.path!, ownerId(sourceId, obj.key));
        item.status = 'duplicate';
        item.action = 'skip';
        item.reason = `same content as ${dupOf}`;
        item.path = null;
      } else if (md5 && !dupOf) hashes.set(md5, item.path!);
    }
  }

  // Objects gone from the source.
  const items: PlanItem[] = classified.map((c) => c.item);
  if (state) {
    for (const e of state.forSource(sourceId)) {
      if (seenKeys.has(e.key)) continue;
      items.push({
        key: e.key,
        rel: e.key,
        size: e.size,
        version: e.version,
        category: e.category,
        label: e.label,
        path: e.path,
        status: 'removed',
        // Nothing stored locally (a duplicate or a failed sample): the record is simply forgotten.
        action: block.deleteRemoved || !e.path ? 'delete' : 'skip',
        reason: !e.path ? 'gone from the source; nothing was stored locally' : block.deleteRemoved ? 'gone from the source; deleted locally (deleteRemoved)' : 'gone from the source; kept locally (set deleteRemoved to delete)',
      });
    }
  }

  const counts = emptyCounts();
  const byCategoryLabel: Record<string, Record<string, number>> = { training: {}, validation: {}, testing: {} };
  const labels = new Set<string>();
  let unlabeled = 0;
  let hidden = 0;
  for (const it of items) {
    counts[it.status]++;
    if (it.reason?.startsWith('hidden')) hidden++;
    if (it.action === 'download') counts.bytes += it.size;
    const holds = (it.action === 'download' || (it.status === 'unchanged' && it.path) || (it.status === 'removed' && it.action !== 'delete' && it.path)) && it.category;
    if (holds) {
      const l = it.label ?? UNLABELED;
      const row = byCategoryLabel[it.category as Category];
      row[l] = (row[l] ?? 0) + 1;
      if (it.label === null) unlabeled++;
      else labels.add(it.label);
    }
  }
  if (!objects.length) warnings.push('The source listed no objects under this path. Check the path and prefix.');
  if (counts.rejected) warnings.push(`${counts.rejected} key(s) rejected as unsafe (see their reasons); nothing is written for them.`);
  if (hidden) warnings.push(`${hidden} hidden file(s) or folder(s) skipped.`);
  if (collisions) warnings.push(`${collisions} name collision(s) kept apart with a hash suffix.`);
  if (atRoot) warnings.push(`${atRoot} file(s) at the root of the path have no folder to take a label from; they stay unlabeled.`);
  if (labels.size === 1 && (block.labelStrategy ?? 'infer-from-folder-name') !== 'keep-unlabeled' && !block.label) warnings.push(`Only one label (${[...labels][0]}): a classifier needs at least two.`);
  if (unlabeled) warnings.push(`${unlabeled} sample(s) will be unlabeled.`);
  return { step: opts.step, type: opts.type, sourceId, items, counts, byCategoryLabel, warnings };
}
