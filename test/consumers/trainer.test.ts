// The reference trainer for real: init-trainer wires templates/trainer/train.py into a pipeline, the
// engine runs it with torch on the demo images (retrain, version, int8 deployment zip), the zip's
// predict.py classifies every testing image with the quantized model, and a second run warm-starts
// from the first model. Offline: --no-pretrained, so no ImageNet weights are fetched.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadPipelineFile, type RunRecord } from '../../src/core';
import { generateDemo } from '../../src/demo/generate';
import { readZip } from '../support/zip';
import { tempDir, writePipeline } from '../unit/helpers';

const PYTHON = process.env.CONSUMERS_PYTHON ?? '/usr/bin/python3';
const CLI = path.resolve(__dirname, '../../../dist/cli.js');
const DEPLOYMENT_FILES = ['model_int8.pt', 'model.json', 'labels.txt', 'metrics.json', 'predict.py', 'deployment.json'];
const IMAGE = /\.(png|jpe?g|bmp|gif|webp)$/i;

type Step = RunRecord['steps'][number];

function cli(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, DSP_PYTHON: PYTHON }, maxBuffer: 64 * 1024 * 1024, timeout: 280_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function cliJson<T>(args: string[], cwd: string): T {
  const r = cli(args, cwd);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`data-pipelines ${args.join(' ')} (exit ${r.status}) printed no JSON document.\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

/** Runs the pipeline with the CLI and returns its run record, after checking every step succeeded. */
function runPipelineCli(file: string, cwd: string): RunRecord {
  const run = cliJson<RunRecord>(['run', file, '--json'], cwd);
  const steps = run.steps.map((s) => `${s.name}: ${s.status}${s.errors.length ? ` (${s.errors.join('; ')})` : ''}`);
  assert.equal(run.status, 'success', `the run did not succeed:\n${steps.join('\n')}${run.error ? `\n${run.error}` : ''}`);
  for (const s of run.steps) assert.equal(s.status, 'success', `step ${steps.join('\n')}`);
  return run;
}

function step(run: RunRecord, name: string): Step {
  const s = run.steps.find((x) => x.name === name);
  assert.ok(s, `the run has no step "${name}": ${run.steps.map((x) => x.name).join(', ')}`);
  return s;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    const abs = path.join(dir, d.name);
    if (d.isDirectory()) out.push(...filesUnder(abs));
    else out.push(abs);
  }
  return out;
}

/** Extracts a zip (read back with yauzl, every CRC checked) into `to`; the entry names. */
async function unzip(zip: string, to: string): Promise<string[]> {
  const r = await readZip(zip);
  for (const [name, data] of r.data) {
    const dest = path.join(to, name);
    assert.ok(!path.relative(to, dest).startsWith('..'), `zip entry outside the folder: ${name}`);
    if (name.endsWith('/')) continue;
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, data);
  }
  return r.names.filter((n) => !n.endsWith('/'));
}

function num(v: unknown, what: string): number {
  assert.equal(typeof v, 'number', `${what} is not a number: ${JSON.stringify(v)}`);
  assert.ok(Number.isFinite(v as number), `${what} is not finite: ${v}`);
  return v as number;
}

describe('consumers: the PyTorch reference trainer (templates/trainer/train.py)', function () {
  this.timeout(300_000);

  let root: string;
  let file: string;
  let datasetDir: string;
  let first: RunRecord;

  before(function () {
    const probe = spawnSync(PYTHON, ['-c', 'import torch, torchvision, PIL'], { stdio: 'ignore' });
    assert.equal(probe.status, 0, `${PYTHON} cannot import torch, torchvision and PIL: run scripts/test-consumers.sh (it apt-installs python3-torch python3-torchvision python3-pil), or set CONSUMERS_PYTHON`);
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: node esbuild.mjs first`);
    root = tempDir('dsp-trainer-');
    generateDemo(root, 12);
    file = writePipeline(
      root,
      {
        name: 'torch trainer',
        dataset: 'datasets/torch',
        steps: [
          { name: 'Import', builtinTransformationBlock: { type: 'folder-to-project', path: 'sources/train-test', category: 'split', labelStrategy: 'infer-from-folder-name' } },
          { name: 'Retrain', builtinTransformationBlock: { type: 'project-action', retrainModel: true } },
          { name: 'Version', builtinTransformationBlock: { type: 'project-action', createVersion: true } },
          { name: 'Deploy', builtinTransformationBlock: { type: 'project-action', buildBinary: 'zip', buildBinaryModelType: 'int8' } },
        ],
      },
      'torch.pipeline.json',
    );
    datasetDir = loadPipelineFile(file).datasetDir;
  });

  after(function () {
    if (root && !process.env.KEEP_TRAINER_TEST) fs.rmSync(root, { recursive: true, force: true });
  });

  it('init-trainer finds the python with torch and wires train.py into the retrain step', function () {
    const r = cliJson<{ python: string; pythonHasTorch: boolean; command: string; wired: string[]; kept: unknown[]; addedStep?: string; files: { path: string }[] }>(['init-trainer', '--pipeline', file, '--no-pretrained', '--json'], root);
    assert.equal(r.python, PYTHON);
    assert.equal(r.pythonHasTorch, true, JSON.stringify(r));
    assert.deepEqual(r.wired, ['Retrain']);
    assert.deepEqual(r.kept, []);
    assert.equal(r.addedStep, undefined);
    assert.match(r.command, /train\.py --no-pretrained$/);
    for (const name of ['train.py', 'predict.py']) assert.ok(fs.existsSync(path.join(root, name)), `init-trainer wrote no ${name}`);

    const body = JSON.parse(fs.readFileSync(file, 'utf8'));
    const retrain = body.steps.find((s: { name: string }) => s.name === 'Retrain').builtinTransformationBlock;
    assert.equal(retrain.trainCommand, r.command);
    retrain.trainCommand = `${r.command} --epochs 2`;
    fs.writeFileSync(file, JSON.stringify(body, null, 2));
  });

  it('the first run trains, keeps a version and builds an int8 zip, with held-out metrics', function () {
    first = runPipelineCli(file, root);
    const s = step(first, 'Retrain');
    const metrics = s.metrics ?? {};
    const keys = Object.keys(metrics);
    // The train-test layout has training/ and testing/ only: train.py evaluates the categories present.
    assert.ok(metrics['testing.accuracy'] || metrics['validation.accuracy'], `no testing.accuracy or validation.accuracy: ${keys.join(', ')}`);
    const accuracy = num(metrics['testing.accuracy']?.value, 'testing.accuracy');
    assert.ok(accuracy >= 0 && accuracy <= 1, `testing.accuracy ${accuracy}`);
    num(metrics['testing.loss']?.value, 'testing.loss');
    num(metrics['training.accuracy']?.value, 'training.accuracy');
    num(metrics['int8.testing.accuracy']?.value, 'int8.testing.accuracy');
    assert.equal(metrics.epochs?.value, 2, 'the trainCommand runs --epochs 2');
    for (const m of Object.values(metrics)) assert.equal(m.previous, undefined, 'a first training has nothing to compare with');

    const confusion = (s.metricTables ?? []).find((t) => t.kind === 'confusion_matrix');
    assert.ok(confusion, `no confusion_matrix table: ${JSON.stringify(s.metricTables)}`);
    const labels = fs.readFileSync(path.join(datasetDir, 'labels.txt'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
    assert.deepEqual(confusion.rows, labels);
    assert.equal(confusion.cells.length, labels.length);
    const testing = filesUnder(path.join(datasetDir, 'testing')).filter((f) => IMAGE.test(f)).length;
    const cells = confusion.cells.flat().reduce<number>((a, c) => a + (c ?? 0), 0);
    assert.equal(cells, testing, `the ${confusion.name} counts ${cells} samples, testing/ holds ${testing}`);

    assert.equal(step(first, 'Version').status, 'success');
    const deploy = step(first, 'Deploy');
    assert.match(deploy.artifacts?.deployment ?? '', /\.zip$/, JSON.stringify(deploy));
    assert.ok(fs.existsSync(deploy.artifacts!.deployment!));
  });

  it("the zip's predict.py classifies every testing image with the int8 model", async function () {
    assert.ok(first, 'the first run did not happen');
    const zip = step(first, 'Deploy').artifacts!.deployment!;
    const out = tempDir('dsp-deploy-');
    try {
      const names = await unzip(zip, out);
      for (const name of DEPLOYMENT_FILES) assert.ok(names.includes(name), `the zip lacks ${name}: ${names.join(', ')}`);
      const manifest = JSON.parse(fs.readFileSync(path.join(out, 'deployment.json'), 'utf8'));
      assert.equal(manifest.modelType, 'int8');
      assert.equal(manifest.format, 'dsp-torch-v1');
      const labels = fs.readFileSync(path.join(out, 'labels.txt'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
      assert.ok(labels.length >= 2, `labels.txt: ${labels.join(', ')}`);

      const testingDir = path.join(datasetDir, 'testing');
      const expected = filesUnder(testingDir).filter((f) => IMAGE.test(f)).length;
      assert.ok(expected > 0, `no testing images under ${testingDir}`);
      const r = spawnSync(PYTHON, [path.join(out, 'predict.py'), testingDir, '--int8'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
      assert.equal(r.status, 0, `predict.py failed (exit ${r.status}):\n${r.stderr}`);
      const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
      const summary = lines.pop().summary;
      assert.ok(summary, `the last line is not a summary: ${r.stdout.slice(-500)}`);
      assert.equal(summary.n, expected, `predict.py classified ${summary.n} of the ${expected} testing images:\n${r.stderr}`);
      assert.equal(summary.model, 'model_int8.pt');
      const accuracy = num(summary.accuracy, 'summary.accuracy');
      assert.ok(accuracy >= 0 && accuracy <= 1, `summary.accuracy ${accuracy}`);
      assert.equal(lines.length, expected);
      for (const line of lines) {
        assert.ok(labels.includes(line.label), `predict.py gave ${JSON.stringify(line.label)}, not a label of labels.txt: ${JSON.stringify(line)}`);
        assert.ok(labels.includes(line.expected), `no expected label from the folder: ${JSON.stringify(line)}`);
        const score = num(line.score, 'score');
        assert.ok(score > 0 && score <= 1, JSON.stringify(line));
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('a second run warm-starts from the first model and reports the metrics beside it', function () {
    assert.ok(first, 'the first run did not happen');
    const second = runPipelineCli(file, root);
    const s = step(second, 'Retrain');
    assert.match(s.message ?? '', new RegExp(`retrained from run ${first.id}`), s.message);
    const metrics = s.metrics ?? {};
    for (const key of ['testing.accuracy', 'testing.loss']) {
      const m = metrics[key];
      assert.ok(m, `no ${key}: ${Object.keys(metrics).join(', ')}`);
      assert.equal(num(m.previous, `${key}.previous`), step(first, 'Retrain').metrics![key].value);
      num(m.change, `${key}.change`);
    }
    assert.match(step(second, 'Deploy').artifacts?.deployment ?? '', /\.zip$/);

    const { versions } = cliJson<{ versions: { id: string; runId: string; metrics: Record<string, number> }[] }>(['versions', file, '--json'], root);
    assert.equal(versions.length, 2, JSON.stringify(versions));
    assert.deepEqual(new Set(versions.map((v) => v.runId)), new Set([first.id, second.id]));
    for (const v of versions) {
      num(v.metrics['testing.accuracy'], `version ${v.id} testing.accuracy`);
      num(v.metrics['testing.loss'], `version ${v.id} testing.loss`);
    }
  });
});
