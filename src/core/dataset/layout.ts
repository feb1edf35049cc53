// Step 5 of the contract: where a sample lands, and how colliding names are kept apart.
//
//   <dataset>/<category>/<label folder>/<file>     category: training | validation | testing
//   <dataset>/.unlabeled/<category>/<file>         hidden: no consumer takes it for a class or split
//
// Every category loads as an ImageFolder (torchvision, Keras) and the root loads in Hugging Face's
// `imagefolder` with exactly the labels as classes; labels.txt and info.labels sit at the root.
import { createHash } from 'node:crypto';
import type { Category } from '../types';

const MAX_NAME_BYTES = 255;

/** Where unlabeled samples live: a hidden folder, so Hugging Face, Keras and torchvision skip it. */
export const UNLABELED_DIR = '.unlabeled';

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

// Windows (and so a dataset opened there): reserved device names with any extension, the
// characters <>:"|?* (":" also opens an NTFS alternate stream), and a trailing dot or space,
// which Windows strips, so "cars." and "cars " would be the folder "cars".
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;
const WINDOWS_FORBIDDEN = /[<>:"|?*]/g;

/**
 * A segment that is a valid name on every platform, mapped stably: forbidden characters become
 * "_", a reserved device name gets "_" after it (CON.jpg -> CON_.jpg), a trailing dot or space
 * becomes "_". Returns the name unchanged when it is already safe.
 */
export function windowsSafeName(name: string): string {
  let out = name.replace(WINDOWS_FORBIDDEN, '_');
  out = out.replace(/[. ]+$/, (tail) => '_'.repeat(tail.length));
  const dot = out.indexOf('.');
  const stem = (dot === -1 ? out : out.slice(0, dot)).replace(/ +$/, '');
  if (WINDOWS_RESERVED.test(stem)) out = `${stem}_${out.slice(stem.length)}`;
  return out;
}

/** The file-name part of a sample's path: safe on every platform and within 255 bytes. */
export function sampleFileName(fileName: string, key: string): string {
  return fitName(windowsSafeName(fileName), key);
}

/** The folder a label is stored in before collisions are settled: safe on every platform. */
export function baseLabelFolder(label: string): string {
  return fitName(windowsSafeName(label), label);
}

/** `<category>/<label folder>/<file>`, or `.unlabeled/<category>/<file>`; '/'-separated, relative to the dataset. */
export function samplePath(category: Category, labelFolder: string | null, fileName: string, key: string): string {
  const file = sampleFileName(fileName, key);
  return labelFolder === null ? `${UNLABELED_DIR}/${category}/${file}` : `${category}/${labelFolder}/${file}`;
}

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\u0000-\u007f]/;

/** Folds a path the way case-insensitive or normalising file systems do (macOS, Windows). */
export function foldPath(p: string): string {
  // ASCII is its own NFC form: most paths skip the normalizer.
  return (NON_ASCII.test(p) ? p.normalize('NFC') : p).toLowerCase();
}


/**
 * `dir/name.ext` -> `dir/name~hash.ext`: the same key always gets the same suffix. `attempt`
 * 0 is the plain suffix; later attempts (when a crafted key already holds that name) hash
 * `key#attempt`, still stable for the key.
 */
export function withSuffix(p: string, key: string, attempt = 0): string {
  const slash = p.lastIndexOf('/');
  const dir = p.slice(0, slash + 1);
  const name = p.slice(slash + 1);
  const dot = name.indexOf('.', 1);
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : '';
  return dir + fitName(`${stem}~${shortHash(attempt === 0 ? key : `${key}#${attempt}`)}${ext}`, key);
}

/** The label folder of a stored sample's path, or undefined for an unlabeled one. */
export function labelFolderOf(p: string): string | undefined {
  // category/label/…: the second segment, when there are three or more (no split: called per sample).
  const a = p.indexOf('/');
  const b = a < 0 ? -1 : p.indexOf('/', a + 1);
  if (b < 0) return undefined;
  const first = p.slice(0, a);
  return first === UNLABELED_DIR || first === 'unlabeled' ? undefined : p.slice(a + 1, b);
}

/**
 * Which folder each label is stored in, shared by every category and step of a run, so every
 * category has the same class folders. Two labels whose folders would be one on Windows or
 * macOS (Cars / cars, "cars." / cars) get distinct folders: the later one a hash suffix.
 */
export class LabelFolders {
  private readonly byLabel = new Map<string, string>();
  private readonly byFold = new Map<string, string>();

  /** Records a folder a label already uses in the dataset (from the state). */
  keep(label: string, folder: string): void {
    if (this.byLabel.has(label)) return;
    this.byLabel.set(label, folder);
    if (!this.byFold.has(foldPath(folder))) this.byFold.set(foldPath(folder), label);
  }

  folderFor(label: string): string {
    const known = this.byLabel.get(label);
    if (known !== undefined) return known;
    const base = baseLabelFolder(label);
    let folder = base;
    for (let attempt = 0; this.byFold.has(foldPath(folder)) && this.byFold.get(foldPath(folder)) !== label; attempt++) {
      folder = fitName(`${base}~${shortHash(attempt === 0 ? label : `${label}#${attempt}`)}`, label);
    }
    this.byLabel.set(label, folder);
    this.byFold.set(foldPath(folder), label);
    return folder;
  }
}
