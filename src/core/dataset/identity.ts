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

/** A sample that stores a file: it owns its path and its content. */
const holdsFile = (e: StateEntry): boolean => e.status === 'synced' && !!e.path;

/** Paths already taken in the dataset (folded form -> owner), shared by all steps of a run. */
export class PathClaims {
  private readonly owners = new Map<string, string>();
  /** The folder of each label, the same in every category. */
  readonly labels = new LabelFolders();

  static fromState(state: { all(): Iterable<StateEntry> } | undefined): PathClaims {
    const c = new PathClaims();
    if (state)
      for (const e of state.all()) {
        if (!holdsFile(e)) continue;
        c.owners.set(foldPath(e.path!), ownerId(e.source, e.key));
        const folder = e.label === null ? undefined : labelFolderOf(e.path!);
        if (folder !== undefined && e.label !== null) c.labels.keep(e.label, folder);
      }
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
  private readonly holders = new Map<string, ContentHolder>();

  static fromState(state: { all(): Iterable<StateEntry> } | undefined): ContentIndex {
    const index = new ContentIndex();
    if (state) for (const e of state.all()) if (e.hash && holdsFile(e)) index.holders.set(e.hash, { owner: ownerId(e.source, e.key), path: e.path! });
    return index;
  }

  /** Another sample that holds this content, if any: then `owner`'s copy is a duplicate. */
  duplicateOf(hash: string | undefined, owner: string): ContentHolder | undefined {
    if (!hash) return undefined;
    const held = this.holders.get(hash);
    return held && held.owner !== owner ? held : undefined;
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
    if (hash && this.holders.get(hash)?.owner === owner) this.holders.delete(hash);
  }
}
