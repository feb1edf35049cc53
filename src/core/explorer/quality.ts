// Data-quality findings, each naming its samples: near-identical images across categories
// (train/test leakage) and within one (near-duplicates), by 64-bit dHash; samples whose nearest
// neighbours mostly carry another label (likely mislabeled); class imbalance; unusual sizes.
import type { Category } from '../types';
import type { ImageInfo } from './features';
import { seeded } from './map';

export const HASH_DISTANCE = 5;
export const NEIGHBOURS = 7;
export const MISLABEL_AGREEMENT = 0.7;
/** Beyond this many labeled samples, the neighbours are looked for among a sample of this many. */
export const REFERENCE_LIMIT = 5000;
const PROJECTED_DIMS = 32;

export interface Sample {
  path: string;
  label: string | null;
  category: Category;
  info: ImageInfo;
  vector: number[] | null;
}

export interface QualityReport {
  counts: Record<string, number>;
  leakage: { samples: string[]; categories: Category[]; distance: number }[];
  nearDuplicates: { samples: string[]; category: Category; distance: number }[];
  mislabeled: { sample: string; label: string; suggested: string; agreement: number }[];
  imbalance: { category: Category; label: string; count: number; largest: number }[];
  unusualSize: { sample: string; width: number; height: number }[];
  undecodable: string[];
}

const popcount = (n: number) => {
  n -= (n >>> 1) & 0x55555555;
  n = (n & 0x33333333) + ((n >>> 2) & 0x33333333);
  return (((n + (n >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
};
const hamming = (a: [number, number], b: [number, number]) => popcount(a[0] ^ b[0]) + popcount(a[1] ^ b[1]);

/** Pairs within HASH_DISTANCE. With 6 bands of the 64 bits, two hashes that differ in at most 5
 * bits agree on at least one band, so only images sharing a band are compared. */
function similarPairs(samples: Sample[]): [number, number, number][] {
  const buckets = new Map<string, number[]>();
  samples.forEach((s, i) => {
    const h = s.info.hash;
    if (!h) return;
    const bits = BigInt(h[0] >>> 0) | (BigInt(h[1] >>> 0) << 32n);
    for (let b = 0; b < 6; b++) {
      const key = `${b}:${(bits >> BigInt(b * 11)) & 0x7ffn}`;
      (buckets.get(key) ?? buckets.set(key, []).get(key)!).push(i);
    }
  });
  const seen = new Set<number>();
  const out: [number, number, number][] = [];
  for (const list of buckets.values()) {
    if (list.length > 2000) continue; // a flat colour shared by thousands: not a finding per pair
    for (let x = 0; x < list.length; x++)
      for (let y = x + 1; y < list.length; y++) {
        const [i, j] = [list[x], list[y]];
        const id = i * samples.length + j;
        if (seen.has(id)) continue;
        seen.add(id);
        const d = hamming(samples[i].info.hash!, samples[j].info.hash!);
        if (d <= HASH_DISTANCE) out.push([i, j, d]);
      }
  }
  return out.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

/** The vectors the neighbours are found in: as they are, or (many samples of many dimensions) a
 * seeded random projection to PROJECTED_DIMS, which keeps distances close enough for a vote. */
function neighbourSpace(vectors: number[][]): { dims: number; flat: Float64Array } {
  const dims = vectors[0]?.length ?? 0;
  const project = vectors.length > 2000 && dims > PROJECTED_DIMS;
  const out = project ? PROJECTED_DIMS : dims;
  const random = seeded(7);
  const planes = project ? Array.from({ length: out * dims }, () => random() - 0.5) : [];
  const flat = new Float64Array(vectors.length * out);
  vectors.forEach((v, i) => {
    if (!project) return flat.set(v, i * out);
    for (let o = 0; o < out; o++) {
      let sum = 0;
      for (let d = 0; d < dims; d++) sum += planes[o * dims + d] * v[d];
      flat[i * out + o] = sum;
    }
  });
  return { dims: out, flat };
}

/** The NEIGHBOURS nearest references of sample q (brute force, a sorted insertion list). */
function nearest(q: number, qs: Float64Array, refs: Float64Array, dims: number, self: number): number[] {
  const best: { r: number; d: number }[] = [];
  const n = refs.length / dims;
  for (let r = 0; r < n; r++) {
    if (r === self) continue;
    let d = 0;
    for (let j = 0; j < dims; j++) d += (refs[r * dims + j] - qs[q * dims + j]) ** 2;
    if (best.length === NEIGHBOURS && d >= best[NEIGHBOURS - 1].d) continue;
    let at = best.length;
    while (at > 0 && best[at - 1].d > d) at--;
    best.splice(at, 0, { r, d });
    if (best.length > NEIGHBOURS) best.pop();
  }
  return best.map((b) => b.r);
}

/** Labeled samples whose nearest neighbours (in embedding space, against at most REFERENCE_LIMIT
 * references) mostly carry one other label. A label with fewer than NEIGHBOURS samples cannot
 * hold a majority of anyone's neighbours, so its samples are not judged (imbalance names it). */
function mislabeled(samples: Sample[]): QualityReport['mislabeled'] {
  const labeled = samples.filter((s) => s.label !== null && s.vector);
  // A seeded random sample of references (every n-th would line up with any period in the paths).
  const refIdx = labeled.map((_, i) => i);
  const random = seeded(7);
  for (let i = refIdx.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [refIdx[i], refIdx[j]] = [refIdx[j], refIdx[i]];
  }
  refIdx.length = Math.min(refIdx.length, REFERENCE_LIMIT);
  refIdx.sort((a, b) => a - b);
  const space = neighbourSpace(labeled.map((s) => s.vector!));
  const refs = new Float64Array(refIdx.length * space.dims);
  refIdx.forEach((i, k) => refs.set(space.flat.subarray(i * space.dims, (i + 1) * space.dims), k * space.dims));
  const refOf = new Map(refIdx.map((i, k) => [i, k]));
  const size = new Map<string, number>();
  for (const i of refIdx) size.set(labeled[i].label!, (size.get(labeled[i].label!) ?? 0) + 1);
  const out: QualityReport['mislabeled'] = [];
  labeled.forEach((s, q) => {
    if ((size.get(s.label!) ?? 0) < NEIGHBOURS) return;
    const near = nearest(q, space.flat, refs, space.dims, refOf.get(q) ?? -1).map((r) => labeled[refIdx[r]].label!);
    if (near.length < NEIGHBOURS) return;
    const votes = new Map<string, number>();
    for (const l of near) votes.set(l, (votes.get(l) ?? 0) + 1);
    const [top, count] = [...votes].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    if (top !== s.label && count / near.length >= MISLABEL_AGREEMENT) out.push({ sample: s.path, label: s.label!, suggested: top, agreement: +(count / near.length).toFixed(2) });
  });
  return out;
}

function imbalance(samples: Sample[]): QualityReport['imbalance'] {
  const out: QualityReport['imbalance'] = [];
  const by = new Map<Category, Map<string, number>>();
  for (const s of samples) if (s.label !== null) (by.get(s.category) ?? by.set(s.category, new Map()).get(s.category)!).set(s.label, (by.get(s.category)?.get(s.label) ?? 0) + 1);
  for (const [category, labels] of by) {
    const largest = Math.max(...labels.values());
    for (const [label, count] of labels) if (count * 5 < largest) out.push({ category, label, count, largest });
  }
  return out;
}

function unusualSize(samples: Sample[]): QualityReport['unusualSize'] {
  const ok = samples.filter((s) => s.info.width > 0 && s.info.height > 0);
  if (ok.length < 5) return [];
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const area = median(ok.map((s) => s.info.width * s.info.height));
  const aspect = median(ok.map((s) => s.info.width / s.info.height));
  return ok.filter((s) => {
    const a = s.info.width * s.info.height;
    const r = s.info.width / s.info.height / aspect;
    return a > area * 16 || a * 16 < area || r > 2 || r < 0.5;
  }).map((s) => ({ sample: s.path, width: s.info.width, height: s.info.height }));
}

export function findQuality(samples: Sample[]): { report: QualityReport; findings: Map<string, Set<string>> } {
  const report: QualityReport = { counts: {}, leakage: [], nearDuplicates: [], mislabeled: mislabeled(samples), imbalance: imbalance(samples), unusualSize: unusualSize(samples), undecodable: samples.filter((s) => !s.info.vector).map((s) => s.path) };
  for (const [i, j, d] of similarPairs(samples)) {
    const [a, b] = [samples[i], samples[j]];
    if (a.category !== b.category) report.leakage.push({ samples: [a.path, b.path], categories: [a.category, b.category], distance: d });
    else report.nearDuplicates.push({ samples: [a.path, b.path], category: a.category, distance: d });
  }
  const findings = new Map<string, Set<string>>();
  const add = (p: string, f: string) => (findings.get(p) ?? findings.set(p, new Set()).get(p)!).add(f);
  for (const l of report.leakage) for (const p of l.samples) add(p, 'leakage');
  for (const l of report.nearDuplicates) for (const p of l.samples) add(p, 'near-duplicate');
  for (const m of report.mislabeled) add(m.sample, 'mislabeled');
  for (const u of report.unusualSize) add(u.sample, 'unusual-size');
  for (const p of report.undecodable) add(p, 'undecodable');
  const imbalanced = new Set(report.imbalance.map((x) => `${x.category}\u0000${x.label}`));
  for (const s of samples) if (s.label !== null && imbalanced.has(`${s.category}\u0000${s.label}`)) add(s.path, 'imbalance');
  for (const kind of ['leakage', 'near-duplicate', 'mislabeled', 'imbalance', 'unusual-size', 'undecodable']) report.counts[kind] = [...findings.values()].filter((f) => f.has(kind)).length;
  return { report, findings };
}
