// A training command for tests of the training contract: a small Node script that records the
// environment it was given, "trains" (a generation counter warm-started from PREVIOUS_MODEL_DIR),
// and writes a model, model.json and metrics whose values depend on that generation. Its mode
// comes from the block's env (TRAINER_MODE), so a test asks for the failure it wants.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The script itself (an e2e workspace holds it as a file). */
export const TEST_TRAINER_SCRIPT = String.raw`
const fs = require('fs'), path = require('path');
const e = process.env;
const mode = e.TRAINER_MODE || 'ok';
const keys = ['DATASET_DIR', 'LABELS_FILE', 'MODEL_DIR', 'PREVIOUS_MODEL_DIR', 'METRICS_FILE', 'EMBEDDINGS_FILE', 'BUILD_MODEL_TYPE', 'RUN_ID', 'PIPELINE_FILE', 'TRAINER_MODE'];
const seen = Object.fromEntries(keys.map((k) => [k, e[k]]));
seen.modelDirEntries = fs.readdirSync(e.MODEL_DIR);
seen.cwd = process.cwd();
fs.appendFileSync(e.TRAINER_LOG, JSON.stringify(seen) + '\n');
console.log('training with token ' + (e.TRAINER_TOKEN || 'none'));
if (mode === 'fail') { console.error('out of memory: pretend'); process.exit(3); }
const prevFile = e.PREVIOUS_MODEL_DIR && path.join(e.PREVIOUS_MODEL_DIR, 'weights.json');
const generation = prevFile && fs.existsSync(prevFile) ? JSON.parse(fs.readFileSync(prevFile, 'utf8')).generation + 1 : 1;
const labels = fs.readFileSync(e.LABELS_FILE, 'utf8').split('\n').filter(Boolean);
if (mode !== 'no-model') {
  fs.writeFileSync(path.join(e.MODEL_DIR, 'weights.json'), JSON.stringify({ generation, labels }));
  fs.writeFileSync(path.join(e.MODEL_DIR, 'labels.txt'), labels.join('\n') + '\n');
  const files = { float32: 'weights.json' };
  if (e.BUILD_MODEL_TYPE === 'int8' && mode !== 'no-int8') {
    fs.writeFileSync(path.join(e.MODEL_DIR, 'weights_int8.bin'), Buffer.from([generation, 1, 2, 3]));
    files.int8 = 'weights_int8.bin';
  }
  fs.writeFileSync(path.join(e.MODEL_DIR, 'model.json'), JSON.stringify({ format: 'test-v1', files }));
}
const accuracy = Math.min(1, 0.5 + 0.125 * generation);
const matrix = labels.map((_, i) => labels.map((_, j) => (i === j ? 3 + generation : 1)));
const per_label = Object.fromEntries(labels.map((l) => [l, { precision: accuracy, recall: accuracy, f1: accuracy }]));
if (mode === 'bad-metrics') fs.writeFileSync(e.METRICS_FILE, '{"validation": {"accuracy": 0.9');
else if (mode !== 'no-metrics') fs.writeFileSync(e.METRICS_FILE, JSON.stringify({
  validation: { accuracy, loss: 1 / generation, per_label, confusion_matrix: { labels, matrix } },
  testing: { accuracy: accuracy - 0.0625, loss: 1.5 / generation },
  epochs: generation,
  note: 'not a number: not a metric',
}));
if (e.EMBEDDINGS_FILE) fs.writeFileSync(e.EMBEDDINGS_FILE, '');
console.log('generation ' + generation + ', validation accuracy ' + accuracy);
`;

/** Writes the trainer into `dir` and returns the trainCommand that runs it and the log it appends to. */
export function writeTestTrainer(dir: string): { command: string; log: string; script: string } {
  const script = path.join(dir, 'test-trainer.js');
  fs.writeFileSync(script, TEST_TRAINER_SCRIPT);
  return { command: `"${process.execPath}" test-trainer.js`, log: path.join(dir, 'trainer-log.jsonl'), script };
}

/** The environments the trainer has seen, oldest first. */
export function trainerRuns(log: string): Record<string, string | string[] | undefined>[] {
  if (!fs.existsSync(log)) return [];
  return fs
    .readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, string | string[] | undefined>);
}
