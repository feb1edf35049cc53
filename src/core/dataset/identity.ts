// Who owns what in a dataset: a sample's identity (its source and key), the paths samples hold,
// and the content they hold. The state, the planner and the executor all use these, so a path or
// a content hash is owned by the same rule at plan time and at transfer time.
import type { StateEntry } from './state';
import { foldPath, LabelFolders, labelFolderOf } from './layout';

/** One sample's identity: the source it comes from and its key there. */
export const ownerId = (source: string, key: string): string => `${source}\u0000${key}`;

/** The source and key an `ownerId` was made from. */
export function ownerParts(owner: string): { source: string; key: string } {
  const cut = owner.indexOf('\u0000');
  return { source: owner.slice(0, cut), key: owner.slice(cut + 1) };
}

/**
 * Who holds a path or a content, as kept in memory: an owner id, or the state entry itself (what
 * the state says is held is most of a large dataset, and a joined id per entry would double it).
 */
type Held = string | { source: string; key: string };

/** Whether `held` is `owner` (an ownerId), without building a string. */
function isOwner(held: Held, owner: string): boolean {
  if (typeof held === 'string') return held === owner;
  const n = held.source.length;
  return owner.length === n + 1 + held.key.length && owner.charCodeAt(n) === 0 && owner.startsWith(held.source) && owner.endsWith(held.key);
}

const asOwnerId = (held: Held): string => (typeof held === 'string' ? held : ownerId(held.source, held.key));

/** A sample that stores a file: it owns its path and its content. */
const holdsFile = (e: StateEntry): boolean => e.status === 'synced' && !!e.path;

/** Paths already taken in the dataset (folded form -> owner), shared by all steps of a run. */
export class PathClaims {
  private readonly owners = new Map<string, Held>();
  /** The folder of each label, the same in every category. */
  readonly labels = new LabelFolders();

  static fromState(state: { all(): Iterable<StateEntry> } | undefined): PathClaims {
    const c = new PathClaims();
    if (state)
      for (const e of state.all()) {
        if (!holdsFile(e)) continue;
        c.owners.set(foldPath(e.path!), e);
        const folder = e.label === null ? undefined : labelFolderOf(e.path!);
        if (folder !== undefined && e.label !== null) c.labels.keep(e.label, folder);
      }
    return c;
  }

  ownerOf(p: string): string | undefined {
    const held = this.owners.get(foldPath(p));
    return held === undefined ? undefined : asOwnerId(held);
  }

  claim(p: string, owner: string): void {
    this.owners.set(foldPath(p), owner);
  }

  /** Claims `p` unless another owner holds it; returns that other owner. One fold, one lookup. */
  claimIfFree(p: string, owner: string): string | undefined {
    const k = foldPath(p);
    const held = this.owners.get(k);
    if (held !== undefined) return isOwner(held, owner) ? undefined : asOwnerId(held);
    this.owners.set(k, owner);
    return undefined;
  }

  release(p: string, owner: string): void {
    const k = foldPath(p);
    const held = this.owners.get(k);
    if (held !== undefined && isOwner(held, owner)) this.owners.delete(k);
  }
}

const holderOf = (h: ContentHolder | StateEntry): Held => ('owner' in h ? h.owner : h);

/** Who holds a content hash, and where its file is. */
export interface ContentHolder {
  owner: string;
  path: string;
}

/**
 * Duplicate detection, in one place: the content (MD5) each sample holds. The planner asks it with
 * the MD5 a store declares, before anything is fetched; the executor asks it with the MD5 of the
 * bytes it fetched, for stores that declare none. The first holder of a content keeps it.
 */
export class ContentIndex {
  /** Content hash -> who holds it: a claim made in this run, or the state entry itself. */
  private readonly holders = new Map<string, ContentHolder | StateEntry>();

  static fromState(state: { all(): Iterable<StateEntry> } | undefined): ContentIndex {
    const index = new ContentIndex();
    if (state) for (const e of state.all()) if (e.hash && holdsFile(e)) index.holders.set(e.hash, e);
    return index;
  }

  /** Another sample that holds this content, if any: then `owner`'s copy is a duplicate. */
  duplicateOf(hash: string | undefined, owner: string): ContentHolder | undefined {
    if (!hash) return undefined;
    const held = this.holders.get(hash);
    if (!held || isOwner(holderOf(held), owner)) return undefined;
    return 'owner' in held ? held : { owner: asOwnerId(held), path: held.path! };
  }

  /**
   * Takes the content for `owner`, and returns a function that gives it back to whoever held it
   * before (used when the file then fails to land). Claim before the first await, so two identical
   * objects in flight cannot both land.
   */
  claim(hash: string, owner: string, path: string): () => void {
    const before = this.holders.get(hash);
    const mine: ContentHolder = { owner, path };
    this.holders.set(hash, mine);
    return () => {
      if (this.holders.get(hash) !== mine) return;
      if (before) this.holders.set(hash, before);
      else this.holders.delete(hash);
    };
  }

  /** `owner` no longer holds `hash` (its content changed, or its file is gone). */
  release(hash: string | undefined, owner: string): void {
    const held = hash ? this.holders.get(hash) : undefined;
    if (held && isOwner(holderOf(held), owner)) this.holders.delete(hash!);
  }
}
