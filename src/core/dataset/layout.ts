// Step 5 of the contract: where a sample lands, and how colliding names are kept apart.
import { createHash } from 'node:crypto';
import type { Category } from '../types';

const MAX_NAME_BYTES = 255;

export function shortHash(text: string, len = 8): string {
  return createHash('sha1').update(text, 'utf8').digest('hex').slice(0, len);
}

/** Keeps a path segment within the file system's 255-byte limit, stably. */
export function fitName(name: string, key: string): string {
  if (Buffer.byteLength(name, 'utf8') <= MAX_NAME_BYTES) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  const suffix = `~${shortHash(key)}${ext}`;
  let stem = name.slice(0, name.length - ext.length);
  while (Buffer.byteLength(stem, 'utf8') + Buffer.byteLength(suffix, 'utf8') > MAX_NAME_BYTES) stem = Array.from(stem).slice(0, -1).join('');
  return stem + suffix;
}

/** `<category>/<label>/<file>`, or `unlabeled/<category>/<file>`; '/'-separated, relative to the dataset. */
export function samplePath(category: Category, label: string | null, fileName: string, key: string): string {
  const file = fitName(fileName, key);
  return label === null ? `unlabeled/${category}/${file}` : `${category}/${fitName(label, label)}/${file}`;
}

/** Folds a path the way case-insensitive or normalising file systems do (macOS, Windows). */
export function foldPath(p: string): string {
  return p.normalize('NFC').toLowerCase();
}

/** `dir/name.ext` -> `dir/name~hash.ext`: the same key always gets the same suffix. */
export function withSuffix(p: string, key: string): string {
  const slash = p.lastIndexOf('/');
  const dir = p.slice(0, slash + 1);
  const name = p.slice(slash + 1);
  const dot = name.indexOf('.', 1);
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : '';
  return dir + fitName(`${stem}~${shortHash(key)}${ext}`, key);
}
