// Step 2 of the contract: the category. Deterministic per key, whatever else is in the bucket.
import { createHash } from 'node:crypto';
import type { Category, CategoryRule } from '../types';

/** A number in [0, 1) from the key alone. */
export function keyFraction(rel: string): number {
  const h = createHash('sha1').update(rel, 'utf8').digest();
  return h.readUInt32BE(0) / 0x1_0000_0000;
}

export function hashCategory(rel: string, splitRatio = 0.8): Category {
  return keyFraction(rel) < splitRatio ? 'training' : 'testing';
}

/** Returns the category and the segments left once a training/ or testing/ folder is taken off. */
export function categorize(segments: string[], rule: CategoryRule, splitRatio = 0.8): { category: Category; rest: string[] } {
  if (rule === 'training' || rule === 'testing') return { category: rule, rest: segments };
  const first = segments[0];
  if (segments.length > 1 && (first === 'training' || first === 'testing')) return { category: first, rest: segments.slice(1) };
  return { category: hashCategory(segments.join('/'), splitRatio), rest: segments };
}
