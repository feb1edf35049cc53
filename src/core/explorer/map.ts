// Every sample on a 2-D map: UMAP (umap-js), seeded so that the same data gives the same map.
// Beyond FIT_LIMIT samples UMAP is fitted on a seeded sample and the others are placed at the
// mean of their nearest fitted neighbours (compared on a seeded random projection, which keeps
// that placement to seconds at 100,000 samples).

export const FIT_LIMIT = 20_000;

/** A seeded PRNG (mulberry32): the map depends on the data only. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normalise(points: number[][]): [number, number][] {
  if (!points.length) return [];
  if (points.length === 1) return [[0.5, 0.5]];
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of points) [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
  const sx = maxX - minX || 1;
  const sy = maxY - minY || 1;
  return points.map(([x, y]) => [+((x - minX) / sx).toFixed(5), +((y - minY) / sy).toFixed(5)]);
}

function project(v: number[], planes: number[][]): number[] {
  return planes.map((p) => p.reduce((s, w, i) => s + w * (v[i] ?? 0), 0));
}

/** UMAP's optimisation epochs: its own defaults (500 small, 200 large) cost most of the time in
 * umap-js; the layout of a few clusters settles well before. */
export function epochsFor(n: number): number {
  return n <= 2000 ? 300 : n <= 10_000 ? 150 : 100;
}

async function fit(vectors: number[][], random: () => number, signal?: AbortSignal): Promise<number[][]> {
  const n = vectors.length;
  // Too few for UMAP's neighbour graph: one point in the middle, two or three on a circle.
  if (n === 1) return [[0.5, 0.5]];
  if (n < 4) return vectors.map((_, i) => [Math.cos((2 * Math.PI * i) / n), Math.sin((2 * Math.PI * i) / n)]);
  const { UMAP } = await import('umap-js');
  const umap = new UMAP({ nComponents: 2, nNeighbors: Math.min(15, n - 1), minDist: 0.1, random, nEpochs: epochsFor(n) });
  // Epoch by epoch, yielding to the event loop every few epochs: the editor's extension host stays
  // responsive during a long fit, and a cancelled run stops it.
  const epochs = umap.initializeFit(vectors);
  for (let e = 0; e < epochs; e++) {
    umap.step();
    if (e % 5 === 4) {
      await new Promise<void>((r) => setImmediate(r));
      if (signal?.aborted) throw new Error('cancelled');
    }
  }
  return umap.getEmbedding().map(([x, y]) => [Number.isFinite(x) ? x : 0, Number.isFinite(y) ? y : 0]);
}

export const UMAP_DIMS = 32;

/** Vectors of more than UMAP_DIMS numbers, projected onto UMAP_DIMS seeded random directions
 * (distances are kept closely: Johnson–Lindenstrauss). umap-js's neighbour search costs grow with
 * the dimensions: 280-D image features at 10,000 samples took minutes, the projection seconds. */
function reduced(vectors: number[][], random: () => number): number[][] {
  const dims = vectors[0]?.length ?? 0;
  if (dims <= UMAP_DIMS) return vectors;
  const planes = Array.from({ length: UMAP_DIMS }, () => Float64Array.from({ length: dims }, () => (random() + random() + random() - 1.5) * 2));
  return vectors.map((v) => planes.map((p) => {
    let s = 0;
    for (let i = 0; i < dims; i++) s += p[i] * v[i];
    return s / Math.sqrt(UMAP_DIMS);
  }));
}

/** 2-D positions in [0, 1] for the vectors, in their order. */
export async function mapPoints(input: number[][], seed = 42, signal?: AbortSignal): Promise<[number, number][]> {
  const random = seeded(seed);
  const vectors = reduced(input, random);
  if (vectors.length <= FIT_LIMIT) return normalise(await fit(vectors, random, signal));
  // A seeded sample is fitted; each other point goes to the mean of its 3 nearest fitted ones.
  const order = vectors.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const fitted = order.slice(0, FIT_LIMIT);
  const placed = await fit(fitted.map((i) => vectors[i]), random, signal);
  const dims = vectors[0].length;
  const planes = Array.from({ length: 16 }, () => Array.from({ length: dims }, () => random() - 0.5));
  const refs = fitted.slice(0, 2000).map((i, k) => ({ k, p: project(vectors[i], planes) }));
  const out: number[][] = new Array(vectors.length);
  fitted.forEach((i, k) => (out[i] = placed[k]));
  for (const i of order.slice(FIT_LIMIT)) {
    const q = project(vectors[i], planes);
    const best: { k: number; d: number }[] = [];
    for (const r of refs) {
      let d = 0;
      for (let j = 0; j < q.length; j++) d += (r.p[j] - q[j]) ** 2;
      if (best.length < 3 || d < best[2].d) {
        best.push({ k: r.k, d });
        best.sort((a, b) => a.d - b.d);
        if (best.length > 3) best.pop();
      }
    }
    out[i] = [best.reduce((s, b) => s + placed[b.k][0], 0) / best.length, best.reduce((s, b) => s + placed[b.k][1], 0) / best.length];
  }
  return normalise(out);
}
