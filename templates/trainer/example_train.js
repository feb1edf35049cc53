// Example trainer that needs nothing installed (Node 20, only node: builtins): a nearest-centroid
// classifier over a cheap file feature, for demos of the pipeline. It cannot decode images, so each
// file's feature is the normalised histogram of its raw bytes (64 bins): it tells apart files that
// differ in their bytes (colours, formats, sizes), not what the pictures show. Use train.py for real work.
//
// The training contract (environment variables):
//   DATASET_DIR, LABELS_FILE  the dataset (<category>/<label>/<file>, categories training, validation,
//                             testing) and its labels.txt (one label per line)
//   MODEL_DIR                 a fresh, empty folder: model.json, labels.txt, centroids.json
//                             (+ centroids_int8.json when BUILD_MODEL_TYPE=int8)
//   PREVIOUS_MODEL_DIR        the last model ("" the first time): with the same labels, its centroids are
//                             blended into the new ones (warm start)
//   METRICS_FILE              JSON: validation/testing {accuracy, loss, per_label, confusion_matrix},
//                             training {accuracy, loss}, epochs, samples (the shape train.py writes)
//   EMBEDDINGS_FILE           optional: one {"path", "vector"} JSON line per sample (its feature)
//   BUILD_MODEL_TYPE          "int8" also writes the centroids quantized to int8 (a scale per label)
// Usage: node example_train.js
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const CATEGORIES = ['training', 'validation', 'testing'];
const BINS = 64;
const WARM_WEIGHT = 0.5; // the previous centroids' share in a warm start
const env = process.env;
const fail = (message) => { console.error(`error: ${message}`); process.exit(1); };

const datasetDir = env.DATASET_DIR || fail('DATASET_DIR is not set');
const modelDir = env.MODEL_DIR || fail('MODEL_DIR is not set');
const labelsFile = env.LABELS_FILE || path.join(datasetDir, 'labels.txt');
if (!fs.existsSync(labelsFile)) fail(`no labels file at ${labelsFile}`);
const labels = fs.readFileSync(labelsFile, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
if (!labels.length) fail(`${labelsFile} lists no labels`);

/** The normalised 64-bin histogram of a file's bytes. */
function feature(file) {
  const bytes = fs.readFileSync(file);
  const h = new Array(BINS).fill(0);
  for (const b of bytes) h[b >> 2]++;
  return h.map((v) => v / (bytes.length || 1));
}

// Samples: {rel: "<category>/<label>/<file>", index (into labels), vector}, per category.
const data = {};
for (const c of CATEGORIES) {
  data[c] = [];
  labels.forEach((label, index) => {
    const dir = path.join(datasetDir, c, label);
    if (!fs.existsSync(dir)) return;
    for (const name of fs.readdirSync(dir).sort()) {
      const file = path.join(dir, name);
      if (!name.startsWith('.') && fs.statSync(file).isFile()) data[c].push({ rel: `${c}/${label}/${name}`, index, vector: feature(file) });
    }
  });
}
if (!data.training.length) fail(`no training files under ${path.join(datasetDir, 'training')}/<label>/`);
console.log(`samples: ${CATEGORIES.map((c) => `${c} ${data[c].length}`).join(', ')}`);

const dist = (a, b) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));
const mean = (vs) => vs[0].map((_, i) => vs.reduce((s, v) => s + v[i], 0) / vs.length);

// Training: the mean feature per label (null for a label without training samples: never predicted).
let centroids = labels.map((_, i) => {
  const vs = data.training.filter((s) => s.index === i).map((s) => s.vector);
  return vs.length ? mean(vs) : null;
});
const previous = env.PREVIOUS_MODEL_DIR ? path.join(env.PREVIOUS_MODEL_DIR, 'centroids.json') : '';
if (previous && fs.existsSync(previous)) {
  const old = JSON.parse(fs.readFileSync(previous, 'utf8'));
  if (JSON.stringify(old.labels) === JSON.stringify(labels) && old.bins === BINS) {
    centroids = centroids.map((c, i) => {
      const o = old.centroids[i];
      return c && o ? c.map((v, j) => (1 - WARM_WEIGHT) * v + WARM_WEIGHT * o[j]) : c || o;
    });
    console.log(`warm start from ${previous} (previous centroids weighted ${WARM_WEIGHT})`);
  } else {
    console.log(`not warm-starting: ${previous} was made for other labels`);
  }
}
// The softmax temperature: the mean distance of the training samples to their own centroid.
const temperature = data.training.reduce((s, x) => s + dist(x.vector, centroids[x.index]), 0) / data.training.length || 1;

/** Class probabilities: a softmax over the negative distances to the centroids, divided by the temperature. */
function probabilities(vector) {
  const logits = centroids.map((c) => (c ? -dist(vector, c) / temperature : -Infinity));
  const top = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - top));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** Accuracy, loss (mean cross-entropy), per-label precision/recall/f1 and the confusion matrix (rows true). */
function evaluate(samples) {
  const n = labels.length;
  const matrix = labels.map(() => new Array(n).fill(0));
  let loss = 0;
  for (const s of samples) {
    const p = probabilities(s.vector);
    loss -= Math.log(Math.max(p[s.index], 1e-12));
    matrix[s.index][p.indexOf(Math.max(...p))]++;
  }
  const per_label = {};
  labels.forEach((label, i) => {
    const tp = matrix[i][i], support = matrix[i].reduce((a, b) => a + b, 0), predicted = matrix.reduce((a, r) => a + r[i], 0);
    const precision = predicted ? tp / predicted : 0, recall = support ? tp / support : 0;
    per_label[label] = { precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0, support };
  });
  const correct = labels.reduce((a, _, i) => a + matrix[i][i], 0);
  return { accuracy: correct / samples.length, loss: loss / samples.length, per_label, confusion_matrix: { labels, matrix } };
}

const metrics = {};
for (const c of ['validation', 'testing']) if (data[c].length) metrics[c] = evaluate(data[c]);
const train = evaluate(data.training);
metrics.training = { accuracy: train.accuracy, loss: train.loss };
metrics.epochs = 1;
metrics.samples = Object.fromEntries(CATEGORIES.map((c) => [c, data[c].length]));

// The model: float32 centroids, and with BUILD_MODEL_TYPE=int8 the same quantized (value ≈ q * scale).
const files = { float32: 'centroids.json' };
const write = (name, doc) => fs.writeFileSync(path.join(modelDir, name), JSON.stringify(doc) + '\n');
write('centroids.json', { labels, bins: BINS, temperature, centroids });
if (env.BUILD_MODEL_TYPE === 'int8') {
  const scale = centroids.map((c) => (c ? Math.max(...c.map(Math.abs)) / 127 || 1 : null));
  const q = centroids.map((c, i) => (c ? c.map((v) => Math.round(v / scale[i])) : null));
  write('centroids_int8.json', { labels, bins: BINS, temperature, scale, centroids: q });
  files.int8 = 'centroids_int8.json';
}
fs.writeFileSync(path.join(modelDir, 'labels.txt'), labels.join('\n') + '\n');
write('model.json', { format: 'dsp-centroid-v1', feature: `byte-histogram-${BINS}`, labels, files });
fs.writeFileSync(env.METRICS_FILE || path.join(modelDir, 'metrics.json'), JSON.stringify(metrics, null, 1) + '\n');
if (env.EMBEDDINGS_FILE) {
  const lines = CATEGORIES.flatMap((c) => data[c].map((s) => JSON.stringify({ path: s.rel, vector: s.vector.map((v) => +v.toFixed(6)) })));
  fs.writeFileSync(env.EMBEDDINGS_FILE, lines.join('\n') + (lines.length ? '\n' : ''));
}

console.log(`training: accuracy ${train.accuracy.toFixed(3)}, loss ${train.loss.toFixed(4)}`);
for (const c of ['validation', 'testing']) {
  if (metrics[c]) console.log(`${c}: accuracy ${metrics[c].accuracy.toFixed(3)}, loss ${metrics[c].loss.toFixed(4)}`);
}
console.log(`model saved to ${modelDir}: ${Object.values(files).join(', ')}`);
