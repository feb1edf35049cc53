// How the tools people train with read a dataset folder, written down from their sources so the
// suite can check what the engine writes without installing each of them:
//
// - Hugging Face `load_dataset("imagefolder", data_dir=...)`: datasets' data_files.py
//   (SPLIT_KEYWORDS, KEYWORDS_IN_DIR_NAME_BASE_PATTERNS / KEYWORDS_IN_FILENAME_BASE_PATTERNS for
//   fsspec >= 2023.12, ALL_DEFAULT_PATTERNS tried in order, the first with a match wins; hidden
//   parts and `__` dirs ignored) and FolderBasedBuilder._split_generators (label = parent dir
//   name, labels only when there is more than one and every file is at the same depth).
// - Keras `image_dataset_from_directory`: dataset_utils.index_directory (sorted listdir, dirs not
//   starting with "." are the classes, class_names must be among them; files taken recursively
//   when fname.lower() ends with .bmp .gif .jpeg .jpg .png).
// - Edge Impulse `info.labels`: the Python SDK's upload_exported_dataset (path joined to the
//   folder, boundingBoxes read directly, label.label, metadata, category -> POST
//   /api/<category>/files) and the uploader sending metadata as an `x-metadata` header.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Python's sorted() on str: by code point (JS `<` compares UTF-16 code units). */
export function pyCompare(a: string, b: string): number {
  const A = Array.from(a);
  const B = Array.from(b);
  for (let i = 0; i < Math.min(A.length, B.length); i++) {
    const d = A[i].codePointAt(0)! - B[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return A.length - B.length;
}
export const pySorted = (xs: Iterable<string>) => [...xs].sort(pyCompare);

/** Every file under root as '/'-separated relative paths (hidden ones too: each tool filters itself). */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(path.join(dir, d.name), r);
      else if (d.isFile()) out.push(r);
    }
  };
  walk(root, '');
  return out.sort();
}

export function readLabelsTxt(datasetDir: string): string[] {
  const text = fs.readFileSync(path.join(datasetDir, 'labels.txt'), 'utf8');
  if (text === '') return [];
  if (!text.endsWith('\n')) throw new Error('labels.txt does not end with a newline');
  return text.slice(0, -1).split('\n');
}

// ---------------------------------------------------------------- Hugging Face imagefolder

const SPLIT_KEYWORDS: Record<string, string[]> = {
  train: ['train', 'training'],
  validation: ['validation', 'valid', 'dev', 'val'],
  test: ['test', 'testing', 'eval', 'evaluation'],
};
const SEP = '-._ 0-9';
const FILENAME_BASE = ['**/{keyword}[{sep}]*', '**/*[{sep}]{keyword}[{sep}]*'];
const DIRNAME_BASE = ['**/{keyword}/**', '**/{keyword}[{sep}]*/**', '**/*[{sep}]{keyword}/**', '**/*[{sep}]{keyword}[{sep}]*/**'];
const fmt = (p: string, keyword: string) => p.replace('{keyword}', keyword).replace(/\{sep\}/g, SEP);
const bySplit = (bases: string[]) =>
  Object.fromEntries(Object.entries(SPLIT_KEYWORDS).map(([split, kws]) => [split, kws.flatMap((k) => bases.map((b) => fmt(b, k)))]));
export const HF_ALL_DEFAULT_PATTERNS: Record<string, string[]>[] = [
  { logs: ['**/*.eval'] },
  { test: ['**/task.toml', '**/instruction.md'] },
  bySplit(DIRNAME_BASE),
  bySplit(FILENAME_BASE),
  { train: ['**'] },
];
const HF_SPLIT_PATTERN_SHARDED = 'data/*-[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9]*.*';
const HF_FILES_TO_IGNORE = new Set(['README.md', 'config.json', 'dataset_info.json', 'dataset_infos.json', 'dummy_data.zip', 'dataset_dict.json']);
/** datasets' ImageFolder.EXTENSIONS (Pillow's registered image extensions). */
export const HF_IMAGE_EXTENSIONS = new Set(
  '.blp .bmp .dib .bufr .cur .pcx .dcx .dds .ps .eps .fit .fits .fli .flc .ftc .ftu .gbr .gif .grib .h5 .hdf .png .apng .jp2 .j2k .jpc .jpf .jpx .j2c .icns .ico .im .iim .tif .tiff .jfif .jpe .jpg .jpeg .mpg .mpeg .msp .pcd .pxr .pbm .pgm .ppm .pnm .psd .bw .rgb .rgba .sgi .ras .tga .icb .vda .vst .webp .wmf .emf .xbm .xpm'.split(
    ' ',
  ),
);
const HF_METADATA = new Set(['metadata.csv', 'metadata.jsonl', 'metadata.parquet']);

/** A glob (Python glob / fsspec >= 2023.12 semantics: `**` a whole segment = any depth) as a RegExp. */
export function globToRegExp(glob: string): RegExp {
  const segs = glob.split('/');
  let re = '^';
  segs.forEach((seg, i) => {
    const last = i === segs.length - 1;
    if (seg === '**') {
      re += last ? '.+' : '(?:[^/]+/)*';
      return;
    }
    for (let j = 0; j < seg.length; j++) {
      const c = seg[j];
      if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else if (c === '[') {
        const end = seg.indexOf(']', j + 2);
        if (end === -1) re += '\\[';
        else {
          let body = seg.slice(j + 1, end);
          const neg = body.startsWith('!');
          if (neg) body = body.slice(1);
          re += `[${neg ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
          j = end;
        }
      } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
    }
    if (!last) re += '/';
  });
  return new RegExp(re + '$', 'u');
}

/** datasets' resolve_pattern on a local folder: files matching, minus hidden parts, `__` dirs and FILES_TO_IGNORE. */
export function hfResolve(pattern: string, files: string[]): string[] {
  const re = globToRegExp(pattern);
  const hiddenIn = (parts: string[]) => parts.filter((p) => p.startsWith('.') && !/^\.+$/.test(p)).length;
  const specialIn = (parts: string[]) => parts.filter((p) => p.startsWith('__')).length;
  const patParts = pattern.split('/');
  return files.filter((f) => {
    if (!re.test(f)) return false;
    const parts = f.split('/');
    if (HF_FILES_TO_IGNORE.has(parts[parts.length - 1])) return false;
    if (specialIn(parts.slice(0, -1)) !== specialIn(patParts.slice(0, -1))) return false;
    if (hiddenIn(parts) !== hiddenIn(patParts)) return false;
    return true;
  });
}

export interface HfLoad {
  /** split -> data files (relative to data_dir) the imagefolder builder reads as images. */
  splits: Record<string, string[]>;
  /** The ClassLabel names, or null when the builder adds no label column. */
  labels: string[] | null;
  why: string;
}

/** What `load_dataset("imagefolder", data_dir=root)` would see, without downloading anything. */
export function hfImagefolder(root: string): HfLoad {
  const files = listFiles(root);
  let patterns: Record<string, string[]> | undefined;
  let why = '';
  if (hfResolve(HF_SPLIT_PATTERN_SHARDED, files).length) throw new Error('sharded data/{split}-NNNNN-of-NNNNN files found: splits would come from them');
  for (const [i, dict] of HF_ALL_DEFAULT_PATTERNS.entries()) {
    const nonEmpty = Object.entries(dict).filter(([, pats]) => pats.some((p) => hfResolve(p, files).length > 0));
    if (nonEmpty.length) {
      patterns = Object.fromEntries(nonEmpty);
      why = ['logs', 'harbor', 'split in dir name', 'split in file name', 'everything is train'][i];
      break;
    }
  }
  if (!patterns) throw new Error('EmptyDatasetError: no data files');
  const splits: Record<string, string[]> = {};
  const labels = new Set<string>();
  const depths = new Set<number>();
  let hasMetadata = false;
  for (const [split, pats] of Object.entries(patterns)) {
    const matched = [...new Set(pats.flatMap((p) => hfResolve(p, files)))].sort();
    const images: string[] = [];
    for (const f of matched) {
      const base = f.slice(f.lastIndexOf('/') + 1);
      const ext = path.posix.extname(f).toLowerCase();
      const ext2 = path.posix.extname(f.slice(0, f.length - ext.length)).toLowerCase();
      if (HF_IMAGE_EXTENSIONS.has(ext) || HF_IMAGE_EXTENSIONS.has(ext2)) {
        images.push(f);
        if (HF_IMAGE_EXTENSIONS.has(ext)) {
          labels.add(path.posix.basename(path.posix.dirname(f)));
          depths.add(f.split('/').length);
        }
      } else if (HF_METADATA.has(base)) hasMetadata = true;
    }
    splits[split] = images;
  }
  const addLabels = !hasMetadata && labels.size > 1 && depths.size === 1;
  return { splits, labels: addLabels ? pySorted(labels) : null, why };
}

// ---------------------------------------------------------------- Keras image_dataset_from_directory

export const KERAS_FORMATS = ['.bmp', '.gif', '.jpeg', '.jpg', '.png'];

export interface KerasIndex {
  classNames: string[];
  perClass: Record<string, string[]>;
  /** Files under the directory Keras never reads (wrong extension, or not inside a class folder). */
  ignored: string[];
}

/** dataset_utils.index_directory(directory, labels="inferred", formats=ALLOWLIST_FORMATS). */
export function kerasIndex(dir: string): KerasIndex {
  const subdirs = pySorted(fs.readdirSync(dir)).filter((n) => fs.statSync(path.join(dir, n)).isDirectory() && !n.startsWith('.'));
  const perClass: Record<string, string[]> = {};
  const taken = new Set<string>();
  for (const s of subdirs) {
    perClass[s] = listFiles(path.join(dir, s))
      .filter((f) => KERAS_FORMATS.some((e) => f.toLowerCase().endsWith(e)))
      .map((f) => `${s}/${f}`);
    for (const f of perClass[s]) taken.add(f);
  }
  const ignored = listFiles(dir).filter((f) => !taken.has(f));
  return { classNames: subdirs, perClass, ignored };
}

// ---------------------------------------------------------------- Edge Impulse info.labels

/**
 * Categories an info.labels entry may carry: the ingestion service's endpoints (POST
 * /api/<category>/files: training, testing, anomaly, split) and validation, which Edge Impulse
 * Studio's data sources and info.labels allow (the product's contract, issue 7).
 */
export const EI_CATEGORIES = new Set(['training', 'validation', 'testing', 'anomaly', 'split']);
/** A valid HTTP header value (what Node's http and Python's http.client accept): Latin-1, no CR/LF/NUL. */
export const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export interface InfoLabelsEntry {
  path: string;
  name?: string;
  category: string;
  label: { type: 'label'; label: string } | { type: 'unlabeled' };
  metadata?: Record<string, string>;
  boundingBoxes: unknown[];
}

/** Every problem an Edge Impulse upload of `<dir>/info.labels` would hit; [] when it would go through. */
export function checkInfoLabels(datasetDir: string, imageFiles: string[]): { problems: string[]; entries: InfoLabelsEntry[] } {
  const problems: string[] = [];
  let doc: any;
  try {
    doc = JSON.parse(fs.readFileSync(path.join(datasetDir, 'info.labels'), 'utf8'));
  } catch (e) {
    return { problems: [`info.labels does not parse: ${(e as Error).message}`], entries: [] };
  }
  if (doc.version !== 1) problems.push(`version is ${JSON.stringify(doc.version)}, not 1`);
  if (!Array.isArray(doc.files)) return { problems: [...problems, 'files is not an array'], entries: [] };
  const seen = new Map<string, number>();
  for (const [i, f] of (doc.files as any[]).entries()) {
    const at = `files[${i}] (${f?.path})`;
    if (typeof f?.path !== 'string' || !f.path) {
      problems.push(`${at}: path is not a non-empty string`);
      continue;
    }
    seen.set(f.path, (seen.get(f.path) ?? 0) + 1);
    if (path.isAbsolute(f.path) || f.path.split('/').includes('..') || f.path.includes('\\')) problems.push(`${at}: path is not a plain relative path`);
    else if (!fs.statSync(path.join(datasetDir, f.path), { throwIfNoEntry: false })?.isFile()) problems.push(`${at}: file does not exist`);
    if (f.name !== undefined && typeof f.name !== 'string') problems.push(`${at}: name is not a string`);
    if (!EI_CATEGORIES.has(f.category)) problems.push(`${at}: category ${JSON.stringify(f.category)} has no ingestion endpoint (accepted: ${[...EI_CATEGORIES].join(', ')})`);
    const l = f.label;
    if (!l || (l.type !== 'label' && l.type !== 'unlabeled')) problems.push(`${at}: label.type is ${JSON.stringify(l?.type)}`);
    else if (l.type === 'label' && (typeof l.label !== 'string' || !l.label)) problems.push(`${at}: label.label is not a non-empty string`);
    if (!Array.isArray(f.boundingBoxes)) problems.push(`${at}: boundingBoxes is not an array`);
    if (f.metadata !== undefined) {
      if (typeof f.metadata !== 'object' || f.metadata === null || Array.isArray(f.metadata)) problems.push(`${at}: metadata is not an object`);
      else {
        for (const [k, v] of Object.entries(f.metadata)) {
          if (typeof v !== 'string') problems.push(`${at}: metadata.${k} is not a string`);
          else if (!HEADER_VALUE.test(k) || !HEADER_VALUE.test(v)) problems.push(`${at}: metadata ${JSON.stringify(k)}=${JSON.stringify(v)} is not a valid HTTP header value`);
        }
        if (!HEADER_VALUE.test(JSON.stringify(f.metadata))) problems.push(`${at}: the x-metadata header (JSON of metadata) is not a valid header value`);
      }
    }
  }
  for (const [p, n] of seen) if (n > 1) problems.push(`${p} is listed ${n} times`);
  for (const img of imageFiles) if (!seen.has(img)) problems.push(`${img} is in the dataset but not in info.labels`);
  return { problems, entries: doc.files as InfoLabelsEntry[] };
}
