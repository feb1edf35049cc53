// The data explorer's map: time to place synthetic embeddings on the 2-D map (UMAP fitted on at
// most FIT_LIMIT of them, the rest placed by their nearest fitted neighbours) and to find the
// mislabeled samples, at 10,000 and 100,000 samples. Run after `npx tsc -p .`:
//   node out/bench/explorer.js            (BENCH_SAMPLES=10000,100000  BENCH_DIMS=280)
import { FIT_LIMIT, mapPoints, seeded } from '../src/core/explorer/map';
import { findQuality, type Sample } from '../src/core/explorer/quality';

const SIZES = (process.env.BENCH_SAMPLES ?? '10000,100000').split(',').map(Number);
const DIMS = Number(process.env.BENCH_DIMS ?? 280); // as many as the image features have
const LABELS = ['cars', 'bikes', 'trucks', 'people', 'dogs'];

/** Five Gaussian-ish clusters in DIMS dimensions, one per label, 1 sample in 50 in the wrong folder. */
function synthetic(n: number): Sample[] {
  const rnd = seeded(7);
  const centres = LABELS.map(() => Array.from({ length: DIMS }, () => rnd()));
  return Array.from({ length: n }, (_, i) => {
    const c = i % LABELS.length;
    const vector = centres[c].map((v) => v + (rnd() + rnd() + rnd() - 1.5) * 0.2);
    const label = i % 50 === 7 ? LABELS[(c + 1) % LABELS.length] : LABELS[c];
    return { path: `training/${label}/s${String(i).padStart(6, '0')}.png`, label, category: 'training', vector, info: { path: '', vector, hash: null, width: 96, height: 96 } };
  });
}

async function main(): Promise<void> {
  const rows: Record<string, unknown>[] = [];
  for (const n of SIZES) {
    const samples = synthetic(n);
    const t0 = performance.now();
    const xy = await mapPoints(samples.map((s) => s.vector!));
    const t1 = performance.now();
    const { report } = findQuality(samples);
    const t2 = performance.now();
    const planted = samples.filter((_, i) => i % 50 === 7).length;
    rows.push({ samples: n, dims: DIMS, fitted: Math.min(n, FIT_LIMIT), mapSeconds: +((t1 - t0) / 1000).toFixed(1), qualitySeconds: +((t2 - t1) / 1000).toFixed(1), mislabeledFound: report.mislabeled.length, mislabeledPlanted: planted, points: xy.length, rssMB: Math.round(process.memoryUsage().rss / 2 ** 20) });
    console.log(JSON.stringify(rows[rows.length - 1]));
  }
  console.table(rows);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
