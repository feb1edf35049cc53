// What the data explorer knows of each image: a small feature vector (colour and structure, from a
// 9×8 thumbnail decoded by sharp), a 64-bit difference hash for near-identical images, and its
// size. Or the training's own embeddings, when the last retrain wrote them for every sample.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { imageSize } from '../dataset/checklist';
import { latestModel } from '../train/models';

export interface ImageInfo {
  path: string;
  /** null: the image could not be decoded. */
  vector: number[] | null;
  /** dHash, as two 32-bit halves. */
  hash: [number, number] | null;
  width: number;
  height: number;
}

type Sharp = typeof import('sharp');
let sharpModule: Promise<Sharp | undefined> | undefined;
/** sharp, or undefined where it cannot load (an editor install without its native binary). */
export function loadSharp(): Promise<Sharp | undefined> {
  sharpModule ??= import('sharp').then((m) => ((m as unknown as { default?: Sharp }).default ?? (m as unknown as Sharp))).catch(() => undefined);
  return sharpModule;
}

/** Without sharp: a histogram of the file's bytes (a weak map, but one) and the size from the header. */
async function describeBytes(datasetDir: string, rel: string): Promise<ImageInfo> {
  try {
    const b = await fs.promises.readFile(path.join(datasetDir, rel));
    const size = imageSize(b);
    const hist = new Array<number>(64).fill(0);
    for (let i = 0; i < b.length; i++) hist[b[i] >> 2]++;
    return { path: rel, vector: hist.map((n) => n / (b.length || 1)), hash: null, width: size?.width ?? 0, height: size?.height ?? 0 };
  } catch {
    return { path: rel, vector: null, hash: null, width: 0, height: 0 };
  }
}

async function describe(datasetDir: string, rel: string): Promise<ImageInfo> {
  const s = await loadSharp();
  if (!s) return describeBytes(datasetDir, rel);
  try {
    const img = s(path.join(datasetDir, rel), { failOn: 'error' });
    const meta = await img.metadata();
    const { data } = await img.resize(9, 8, { fit: 'fill' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const grey: number[] = [];
    const vector: number[] = [];
    for (let i = 0; i < 72; i++) {
      const [r, g, b] = [data[i * 3], data[i * 3 + 1], data[i * 3 + 2]];
      vector.push(r / 255, g / 255, b / 255);
      grey.push(0.299 * r + 0.587 * g + 0.114 * b);
    }
    // dHash: is each pixel brighter than its right neighbour (8 × 8 comparisons).
    const hash: [number, number] = [0, 0];
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) if (grey[y * 9 + x] > grey[y * 9 + x + 1]) hash[y < 4 ? 0 : 1] |= 1 << ((y % 4) * 8 + x);
    // Structure: the horizontal and vertical gradients of the grey thumbnail, scaled like the colours.
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) vector.push((grey[y * 9 + x + 1] - grey[y * 9 + x]) / 255 / 2);
    return { path: rel, vector, hash, width: meta.width ?? 0, height: meta.height ?? 0 };
  } catch {
    return { path: rel, vector: null, hash: null, width: 0, height: 0 };
  }
}

/** Every sample's features, a few images at a time. */
export async function imageInfos(datasetDir: string, paths: string[], signal?: AbortSignal): Promise<ImageInfo[]> {
  const out: ImageInfo[] = new Array(paths.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < paths.length; i = next++) {
      if (signal?.aborted) throw new Error('cancelled');
      out[i] = await describe(datasetDir, paths[i]);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return out;
}

/** The last training's embeddings by sample path, when it wrote one for every sample. */
export function trainingEmbeddings(datasetDir: string, paths: string[]): { runId: string; vectors: Map<string, number[]> } | undefined {
  const model = latestModel(datasetDir);
  const file = model && path.join(model.dir, 'embeddings.jsonl');
  if (!model || !file || !fs.existsSync(file)) return undefined;
  const vectors = new Map<string, number[]>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as { path?: unknown; vector?: unknown };
      if (typeof r.path === 'string' && Array.isArray(r.vector) && r.vector.every((v) => typeof v === 'number' && Number.isFinite(v))) vectors.set(r.path, r.vector as number[]);
    } catch {
      return undefined; // a broken file: the image features are used instead
    }
  }
  const dims = vectors.values().next().value?.length;
  if (!dims || !paths.every((p) => vectors.get(p)?.length === dims)) return undefined;
  return { runId: model.runId, vectors };
}
