// Step 2 of the contract: the category. Deterministic per key, whatever else is in the bucket.
import { createHash } from 'node:crypto';
import type { SplitShares } from '../pipeline/model';
import type { Category, CategoryRule } from '../types';

/** A number in [0, 1) from the key alone. */
export function keyFraction(rel: string): number {
  const h = createHash('sha1').update(rel, 'utf8').digest();
  return h.readUInt32BE(0) / 0x1_0000_0000;
}

/** The step's `splitRatio` as shares of each category (default 80% training, 20% testing). */
export function splitShares(ratio: number | SplitShares | undefined): Required<SplitShares> {
  if (ratio === undefined) return { training: 0.8, validation: 0, testing: 0.2 };
  if (typeof ratio === 'number') return { training: ratio, validation: 0, testing: 1 - ratio };
  const validation = ratio.validation ?? 0;
  const sum = ratio.training + validation + ratio.testing || 1;
  return { training: ratio.training / sum, validation: validation / sum, testing: ratio.testing / sum };
}

/** The category whose share holds `fraction`: training first, then validation, then testing. */
export function categoryAt(fraction: number, shares: Required<SplitShares>): Category {
  if (fraction < shares.training) return 'training';
  if (fraction < shares.training + shares.validation) return 'validation';
  return 'testing';
}

export function hashCategory(rel: string, ratio?: number | SplitShares): Category {
  return categoryAt(keyFraction(rel), splitShares(ratio));
}

const FOLDER_CATEGORIES = new Set<string>(['training', 'validation', 'testing']);

/**
 * Returns the category and the segments left once a training/, validation/ or testing/ folder is
 * taken off. `byHash` says the category came from the key's hash, so the planner may move it to
 * give a rare label a sample in every category.
 */
export function categorize(segments: string[], rule: CategoryRule, ratio?: number | SplitShares): { category: Category; rest: string[]; byHash: boolean } {
  if (rule !== 'split') return { category: rule, rest: segments, byHash: false };
  const first = segments[0];
  if (segments.length > 1 && FOLDER_CATEGORIES.has(first)) return { category: first as Category, rest: segments.slice(1), byHash: false };
  return { category: hashCategory(segments.join('/'), ratio), rest: segments, byHash: true };
}
