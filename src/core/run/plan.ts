// A listing + the sync state -> what each object becomes: new / changed / unchanged / removed /
// duplicate / skipped / rejected, each with its label, category, local path and a reason.
import { checkBeforeDownload, extensionOf, READERS, readersWarning } from '../dataset/checklist';
import { labelFor } from '../dataset/labels';
import { overrideId, type Overrides } from '../dataset/overrides';
import { ContentIndex, ownerId, PathClaims } from '../dataset/identity';
import { samplePath, withSuffix } from '../dataset/layout';
import type { LocalFiles } from '../dataset/localFiles';
import { judgeKey } from '../dataset/safety';
import { categorize, keyFraction, splitShares } from '../dataset/split';
import type { StateEntry, SyncState } from '../dataset/state';
import type { ImportBlock } from '../pipeline/model';
import { emptyCounts, type Category, type PlanItem, type SourceObject, type StepPreview } from '../types';
import { makeKeyFilter } from '../util/glob';
import { shardOfPath, type ShardSpec } from './shard';

import { UNLABELED } from '../constants';

export { ownerId, PathClaims } from '../dataset/identity';

/** Edge Impulse's own files in a source: they describe samples and are never samples themselves. */
export function isEdgeImpulseMetaFile(rel: string): boolean {
  const name = rel.slice(rel.lastIndexOf('/') + 1);
  return name === 'info.labels' || name === 'bounding_boxes.labels';
}

/** Labels and categories an Edge Impulse `info.labels` in the source gives, by key relative to the step's path. */
export type SourceLabels = Map<string, { label: string | null; category?: Category }>;

interface Classified {
  obj: SourceObject;
  item: PlanItem;
  prev?: StateEntry;
  fileName?: string;
  /** The category came from the key's hash, so it may move to give a rare label every category. */
  byHash?: boolean;
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
  sourceLabels?: SourceLabels;
  /** What people decided (labels-override.json): applied over every inference. */
  overrides?: Overrides;
  /** What the dataset folder holds: a sample whose file is gone is fetched again. */
  local?: LocalFiles;
  /** Plan only this shard's share (src/core/run/shard.ts); every shard classifies the whole listing alike. */
  shard?: ShardSpec;
}

/**
 * The keys of a listing, each once, without a set of a million strings in the usual case: a store
 * lists keys in strictly increasing order, so a repeat can only be the key before. Out of order
 * (a store that does not sort), it falls back to a set. `known` counts keys the state holds.
 */
class ListedKeys {
  private last: string | undefined;
  private readonly keys: string[] = [];
  private set: Set<string> | undefined;
  known = 0;

  /** False when the key was listed already. */
  add(key: string): boolean {
    if (this.set) {
      if (this.set.has(key)) return false;
      this.set.add(key);
    } else if (this.last === undefined || key > this.last) this.last = key;
    else {
      this.set = new Set(this.keys);
      if (this.set.has(key)) return false;
      this.set.add(key);
    }
    this.keys.push(key);
    return true;
  }

  has(key: string): boolean {
    if (!this.set) this.set = new Set(this.keys);
    return this.set.has(key);
  }
}

interface Classification {
  classified: Classified[];
  /** The keys listed, each once: to find what the state holds that the source no longer lists. */
  seen: ListedKeys;
  atRoot: number;
}

/**
 * A plan item with every field in place from the start, in one order: all items share one hidden
 * class. (Items made by spreading a base object and then given a reason each got shapes of their
 * own: 35 MB of hidden classes at 100,000 keys.)
 */
const planItem = (obj: SourceObject, o: Partial<PlanItem> = {}): PlanItem => ({
  key: obj.key,
  rel: obj.rel,
  size: obj.size,
  version: obj.version,
  category: o.category ?? null,
  label: o.label ?? null,
  path: null,
  status: o.status ?? 'skipped',
  action: o.action ?? 'skip',
  reason: o.reason,
  warnings: undefined,
  labelSource: o.labelSource,
});

/**
 * The listing entry takes the strings the state entry already holds for the same key (and version,
 * when unchanged): at a million keys, two copies of each are about 90 MB.
 */
function shareStrings(obj: SourceObject, prev: StateEntry): void {
  if (obj.key !== prev.key) return;
  const cut = obj.key.length - obj.rel.length;
  if (obj.rel === obj.key.slice(cut)) obj.rel = prev.key.slice(cut);
  obj.key = prev.key;
  if (obj.version === prev.version) {
    if (obj.md5 === obj.version) obj.md5 = prev.version;
    obj.version = prev.version;
  }
}

/** Steps 1 to 4 of the contract for each listed object: safety, filters, category, label, checklist. */
function classify(objects: SourceObject[], opts: PlanOptions): Classification {
  const { block, state, sourceId } = opts;
  const filter = makeKeyFilter(block.include, block.exclude);
  const rule = block.category ?? 'split';
  const strategy = block.labelStrategy ?? 'infer-from-folder-name';
  const classified: Classified[] = [];
  const seen = new ListedKeys();
  let atRoot = 0;
  for (const obj of objects) {
    if (!seen.add(obj.key)) continue; // a listing that repeats a key must not double a sample
    if (obj.unreadable) {
      classified.push({ obj, item: planItem(obj, { status: 'rejected', action: 'reject', reason: obj.unreadable }) });
      continue;
    }
    const verdict = judgeKey(obj.rel);
    if (verdict.kind === 'folder-marker' || verdict.kind === 'hidden') {
      classified.push({ obj, item: planItem(obj, { reason: verdict.kind === 'hidden' ? verdict.reason : 'folder marker' }) });
      continue;
    }
    if (verdict.kind === 'rejected') {
      classified.push({ obj, item: planItem(obj, { status: 'rejected', action: 'reject', reason: verdict.reason }) });
      continue;
    }
    if (isEdgeImpulseMetaFile(obj.rel)) {
      classified.push({ obj, item: planItem(obj, { reason: 'Edge Impulse labels file: read for labels and categories, not imported as a sample' }) });
      continue;
    }
    const filtered = filter(obj.rel);
    if (filtered) {
      classified.push({ obj, item: planItem(obj, { reason: filtered }) });
      continue;
    }
    const prev = state?.get(sourceId, obj.key);
    if (prev) {
      seen.known++;
      shareStrings(obj, prev);
    }
    const given = opts.sourceLabels?.get(obj.rel);
    const split = categorize(verdict.segments, rule, block.splitRatio);
    const rest = split.rest;
    let { category, byHash } = split;
    let lab = labelFor(rest, strategy, block.label);
    if (given) {
      // An Edge Impulse export's info.labels decides, as Edge Impulse's own bucket import does.
      if (rule === 'split' && given.category) {
        category = given.category;
        byHash = false;
      } else if (byHash && prev?.category) category = prev.category;
      lab = { label: given.label };
    } else if (byHash && prev?.category) category = prev.category; // a synced sample never changes category
    const manual = opts.overrides?.size ? opts.overrides.get(overrideId(sourceId, obj.key)) : undefined;
    if (manual?.label !== undefined) lab = { label: manual.label };
    if (manual?.category) [category, byHash] = [manual.category, false];
    const fileName = rest[rest.length - 1];
    const item = planItem(obj, { category, label: lab.label, labelSource: manual?.label !== undefined ? 'manual' : given ? 'source' : 'inferred' });
    if (lab.warning) {
      item.warnings = [lab.warning];
      if (rest.length < 2) atRoot++;
    }
    const checklist = checkBeforeDownload(fileName, obj.size);
    if (checklist) {
      item.reason = checklist;
      classified.push({ obj, item });
      continue;
    }
    const readers = readersWarning(extensionOf(fileName));
    if (readers) (item.warnings ??= []).push(readers);
    if (obj.note) (item.warnings ??= []).push(obj.note);
    classified.push({ obj, item, prev, fileName, byHash: byHash && !prev });
  }
  return { classified, seen, atRoot };
}

/**
 * Under `split`, a label with two or more samples gets at least one in each category in use
 * (training, testing, and validation when it has a share): otherwise torchvision and Keras see
 * different classes per category. Only new, hash-placed samples move, so the result is stable.
 */
function balanceCategories(placed: Classified[], opts: PlanOptions): string[] {
  const shares = splitShares(opts.block.splitRatio);
  const byLabel = new Map<string, Classified[]>();
  const have = new Map<string, Record<Category, number>>();
  const countOf = (label: string) => {
    let r = have.get(label);
    if (!r) have.set(label, (r = { training: 0, validation: 0, testing: 0 }));
    return r;
  };
  if (opts.state) for (const e of opts.state.all()) if (e.source !== opts.sourceId && e.status === 'synced' && e.label !== null && e.category) countOf(e.label)[e.category]++;
  for (const c of placed) {
    const label = c.item.label;
    if (label === null || !c.item.category) continue;
    countOf(label)[c.item.category]++;
    if (c.byHash) (byLabel.get(label) ?? byLabel.set(label, []).get(label)!).push(c);
  }
  // In order of need: a model is trained on training and scored on testing; validation comes last.
  // A category is in use when it has a share or holds samples (a source's validation/ folder).
  const holds = (c: Category) => [...have.values()].some((n) => n[c] > 0);
  const inUse = (['training', 'testing', 'validation'] as const).filter((c) => shares[c] > 0 || holds(c));
  const rank = (c: Category) => inUse.indexOf(c as (typeof inUse)[number]);
  for (const [label, movable] of byLabel) {
    const n = countOf(label);
    for (const target of inUse) {
      if (n[target] > 0 || n.training + n.validation + n.testing < 2) continue;
      const centre = target === 'training' ? 0 : target === 'testing' ? 1 : shares.training + shares.validation / 2;
      let best: Classified | undefined;
      let bestDistance = Infinity;
      for (const c of movable) {
        // Never empty another category to fill this one, unless that one matters less.
        if (n[c.item.category!] < 2 && rank(c.item.category!) <= rank(target)) continue;
        const d = Math.abs(keyFraction(c.obj.rel) - centre);
        if (d < bestDistance || (d === bestDistance && best && c.obj.key < best.obj.key)) [best, bestDistance] = [c, d];
      }
      if (!best) continue;
      n[best.item.category!]--;
      n[target]++;
      (best.item.warnings ??= []).push(`placed in ${target} (hash said ${best.item.category}) so that label "${label}" has a sample in every category`);
      best.item.category = target;
    }
  }
  // What could not be balanced: too few samples for every category in use.
  const short: string[] = [];
  for (const [label, n] of have) {
    const missing = inUse.filter((c) => n[c] === 0);
    if (missing.length) short.push(`"${label}" (not in ${missing.join(' or ')})`);
  }
  if (!short.length) return [];
  const shown = short.slice(0, 10).join(', ') + (short.length > 10 ? ` and ${short.length - 10} more` : '');
  return [
    `${short.length} label(s) have too few samples for every category (${inUse.join(', ')}): ${shown}. ImageFolder and Keras list fewer classes in those categories than labels.txt; add samples, or map each category's classes to labels.txt (README, "Use the dataset").`,
  ];
}

/** The path each sample's key would take, before collisions are settled. */
function basePaths(placed: Classified[], claims: PathClaims): void {
  for (const c of placed) {
    const folder = c.item.label === null ? null : claims.labels.folderFor(c.item.label);
    c.basePath = samplePath(c.item.category!, folder, c.fileName!, c.obj.key);
    const file = c.basePath.slice(c.basePath.lastIndexOf('/') + 1);
    if (file !== c.fileName) (c.item.warnings ??= []).push(`stored as ${file}: the name is not valid on every platform (Windows) or too long`);
    if (folder !== null && folder !== c.item.label) (c.item.warnings ??= []).push(`label "${c.item.label}" is stored in the folder ${folder}: its name is not valid on every platform or is taken by a label that differs only in case`);
  }
}

const SUFFIX_ATTEMPTS = 16;

/** Whether `p` is the path this key would hold for `basePath`, with or without its suffix. */
function isOwnPath(p: string, basePath: string, key: string): boolean {
  if (p === basePath) return true;
  for (let a = 0; a < SUFFIX_ATTEMPTS; a++) if (p === withSuffix(basePath, key, a)) return true;
  return false;
}

/**
 * Paths: what a key held before stays its own; new keys claim in byte order; the later of two
 * colliding keys (same name, or equal after case folding / Unicode normalisation) gets a suffix,
 * and a suffix is claimed only when it is free: two objects never share a path.
 */
function assignPaths(placed: Classified[], opts: PlanOptions, claims: PathClaims): number {
  for (const c of placed) c.sticky = !!c.prev?.path && c.prev.status === 'synced' && isOwnPath(c.prev.path, c.basePath!, c.obj.key);
  placed.sort((a, b) => Number(b.sticky) - Number(a.sticky) || (a.obj.key < b.obj.key ? -1 : a.obj.key > b.obj.key ? 1 : 0));
  let collisions = 0;
  for (const c of placed) {
    const me = ownerId(opts.sourceId, c.obj.key);
    let p = c.sticky ? c.prev!.path! : c.basePath!;
    if (claims.claimIfFree(p, me) !== undefined) {
      collisions++;
      let attempt = 0;
      do p = withSuffix(c.basePath!, c.obj.key, attempt++);
      while (claims.claimIfFree(p, me) !== undefined && attempt < SUFFIX_ATTEMPTS);
      if (claims.ownerOf(p) !== me) {
        c.item.status = 'rejected';
        c.item.action = 'reject';
        c.item.reason = `no free name for this key near ${c.basePath}: every suffix is taken`;
        continue;
      }
      (c.item.warnings ??= []).push(`name collides with another key; stored as ${p.slice(p.lastIndexOf('/') + 1)}`);
    }
    c.item.path = p;
  }
  return collisions;
}

/** The decision for a sample the state already holds at this version and size. */
function decideKnown(c: Classified, opts: PlanOptions, claims: PathClaims): void {
  const { item, prev, obj } = c;
  if (!prev) return;
  const gone = (p: string) => opts.local !== undefined && !opts.local.has(p, prev.size);
  if (prev.status === 'synced' && prev.path === item.path) {
    if (prev.path && gone(prev.path)) {
      item.status = 'changed';
      item.action = 'download';
      item.reason = 'the local file was missing';
    } else {
      item.status = 'unchanged';
      item.action = 'skip';
      item.reason = 'unchanged since the last sync';
    }
  } else if (prev.status === 'duplicate' || prev.status === 'failed') {
    claims.release(item.path!, ownerId(opts.sourceId, obj.key));
    item.status = 'unchanged';
    item.action = 'skip';
    item.path = null;
    item.reason = prev.reason ?? (prev.status === 'duplicate' ? 'duplicate content' : 'failed the checklist');
  } else if (prev.status === 'synced' && prev.path && !gone(prev.path)) {
    const why = prev.label !== item.label ? 'the label changed' : prev.category !== item.category ? 'the category changed' : 'the dataset layout changed';
    item.status = 'changed';
    item.action = 'move';
    item.reason = `moved from ${prev.path}: ${why}`;
  } else {
    item.status = 'changed';
    item.action = 'download';
    item.reason = prev.path ? `its file ${prev.path} was missing` : 'label, category or path rule changed';
  }
}

/**
 * new / changed / unchanged / duplicate against the state and the dataset folder; a stored sample
 * whose path changed is moved, not fetched again. A download whose content the store declares,
 * and which the dataset already holds, is a duplicate before anything is fetched.
 */
function decideStatus(placed: Classified[], opts: PlanOptions, claims: PathClaims): void {
  const { state, block, sourceId } = opts;
  // Built on the first download that declares its content: a no-op sync never builds it.
  let index: ContentIndex | undefined;
  const contentIndex = () => (index ??= ContentIndex.fromState(state));
  for (const c of placed) {
    const { item, prev, obj } = c;
    if (item.action === 'reject') continue;
    if (prev && prev.version === obj.version && prev.size === obj.size) decideKnown(c, opts, claims);
    else {
      item.status = prev ? 'changed' : 'new';
      item.action = 'download';
      if (prev) item.reason = 'the object changed since the last sync';
    }
    if (item.action !== 'download' || block.allowDuplicates || !obj.md5) continue;
    const contents = contentIndex();
    const me = ownerId(sourceId, obj.key);
    const dup = contents.duplicateOf(obj.md5, me);
    if (dup) {
      claims.release(item.path!, me);
      [item.status, item.action, item.path] = ['duplicate', 'skip', null];
      item.reason = `same content as ${dup.path}`;
    } else contents.claim(obj.md5, me, item.path!);
  }
}

/** Samples the state holds that the source no longer lists. */
function removedItems(opts: PlanOptions, seen: ListedKeys): PlanItem[] {
  const { state, block, sourceId } = opts;
  const out: PlanItem[] = [];
  if (!state) return out;
  // Every entry of this source was listed again (the usual re-sync): nothing to look for.
  if (seen.known === state.countFor(sourceId)) return out;
  for (const e of state.forSource(sourceId)) {
    if (seen.has(e.key)) continue;
    out.push({
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
  return out;
}

/** Whether the dataset holds this item's sample once the plan is carried out. */
const holdsSample = (it: PlanItem): boolean =>
  !!it.category && (it.action === 'download' || it.action === 'move' || (it.status === 'unchanged' && !!it.path) || (it.status === 'removed' && it.action !== 'delete' && !!it.path));

interface Summary {
  counts: StepPreview['counts'];
  byCategoryLabel: StepPreview['byCategoryLabel'];
  labels: Set<string>;
  unlabeled: number;
  hidden: number;
  warnings: string[];
}

/** Counts, the samples per category and label, and the warnings about what trainers will read. */
function summarize(items: PlanItem[]): Summary {
  const counts = emptyCounts();
  const byCategoryLabel: Record<string, Record<string, number>> = { training: {}, validation: {}, testing: {} };
  const labels = new Set<string>();
  let unlabeled = 0;
  let hidden = 0;
  // Per label: samples held, and how many torchvision's ImageFolder reads (it fails on a class with none).
  const torchReadable = new Map<string, { held: number; read: number; types: Set<string> }>();
  for (const it of items) {
    counts[it.status]++;
    if (it.reason?.startsWith('hidden')) hidden++;
    if (it.action === 'download') counts.bytes += it.size;
    if (!holdsSample(it)) continue;
    const l = it.label ?? UNLABELED;
    const row = byCategoryLabel[it.category as Category];
    row[l] = (row[l] ?? 0) + 1;
    if (it.label === null) {
      unlabeled++;
      continue;
    }
    labels.add(it.label);
    const ext = extensionOf(it.path ?? it.key);
    const r = torchReadable.get(it.label) ?? torchReadable.set(it.label, { held: 0, read: 0, types: new Set() }).get(it.label)!;
    r.held++;
    r.types.add(ext);
    if (READERS[ext]?.torchvision !== false) r.read++;
  }
  const warnings: string[] = [];
  for (const [label, r] of torchReadable) {
    if (r.read === 0) warnings.push(`Label "${label}" holds only ${[...r.types].map((t) => `.${t}`).join(', ')} samples, which torchvision's ImageFolder does not read: it fails on the dataset ("Found no valid file for the classes ${label}"). Convert them to PNG, or pass is_valid_file to ImageFolder.`);
  }
  return { counts, byCategoryLabel, labels, unlabeled, hidden, warnings };
}

/** The label and split contract for one step's listing: every decision a run carries out (the executor only carries them out). */
export function planStep(objects: SourceObject[], opts: PlanOptions): StepPreview {
  const { block, state, sourceId } = opts;
  const claims = opts.claims ?? PathClaims.fromState(state);
  const warnings: string[] = [];
  const { classified, seen, atRoot } = classify(objects, opts);
  let placed = classified.filter((c) => c.fileName !== undefined && c.item.status !== 'rejected');
  if ((block.category ?? 'split') === 'split') warnings.push(...balanceCategories(placed, opts));
  basePaths(placed, claims);
  let shown = classified;
  const { shard } = opts;
  if (shard) {
    // A placed sample goes by its folded path (colliding keys share it, so one shard settles them);
    // what is not placed is only reported, by the shard of its key.
    const mine = (c: Classified) => shardOfPath(c.basePath ?? c.obj.key, shard.count) === shard.index;
    // The other shards' samples hold their own paths in this shard's view too, so a collision
    // suffix chosen here never names a path another shard writes (a key crafted to equal a suffix).
    for (const c of placed) if (!mine(c)) claims.claimIfFree(c.basePath!, ownerId(sourceId, c.obj.key));
    placed = placed.filter(mine);
    shown = classified.filter(mine);
  }
  const collisions = assignPaths(placed, opts, claims);
  decideStatus(placed, opts, claims);
  const items: PlanItem[] = shown.map((c) => c.item);
  for (const it of removedItems(opts, seen)) if (!shard || shardOfPath(it.path ?? it.key, shard.count) === shard.index) items.push(it);

  const { counts, byCategoryLabel, labels, unlabeled, hidden, warnings: readers } = summarize(items);
  warnings.push(...readers);
  if (!objects.length) warnings.push('The source listed no objects under this path. Check the path and prefix.');
  if (counts.rejected) warnings.push(`${counts.rejected} key(s) rejected as unsafe (see their reasons); nothing is written for them.`);
  if (hidden) warnings.push(`${hidden} hidden file(s) or folder(s) skipped.`);
  if (collisions) warnings.push(`${collisions} name collision(s) kept apart with a hash suffix.`);
  if (atRoot) warnings.push(`${atRoot} file(s) at the root of the path have no folder to take a label from; they stay unlabeled.`);
  if (labels.size === 1 && (block.labelStrategy ?? 'infer-from-folder-name') !== 'keep-unlabeled' && !block.label) warnings.push(`Only one label (${[...labels][0]}): a classifier needs at least two.`);
  if (unlabeled) warnings.push(`${unlabeled} sample(s) will be unlabeled.`);
  return { step: opts.step, type: opts.type, sourceId, items, counts, byCategoryLabel, warnings };
}
