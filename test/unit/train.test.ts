// The training contract, versions and deployments end to end, with a test training command (a
// Node script, test/support/testTrainer.ts): what the command is given, metrics in the run record,
// the report, a real webhook receiver and a real SMTP server, the warm start, failures, the
// deployment zip (read back with yauzl), and the versions CLI.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadPipelineFile, runPipeline, type RunRecord, type StepResult } from '../../src/core';
import { runReport } from '../../src/core/notify';
import { makePng } from '../../src/demo/images';
import { receiver, smtp } from '../support/peers';
import { readZip, type ZipRead } from '../support/zip';
import { trainerRuns, writeTestTrainer } from '../support/testTrainer';
import { snapshot, tempDir, waitFor, writeFiles, writePipeline } from './helpers';

const CLI = path.resolve(__dirname, '../../../dist/cli.js');
const png = (seed: number) => makePng(4, 4, (x, y) => [seed % 256, x * 40, y * 40]);

interface Setup {
  dir: string;
  file: string;
  log: string;
}

/** A folder import with cars and dogs, a retrain step running the test trainer, and more steps. */
function setup(block: object = {}, moreSteps: object[] = [], extra: object = {}): Setup {
  const dir = tempDir('dsp-train-');
  writeFiles(path.join(dir, 'src'), { 'cars/a.png': png(1), 'cars/b.png': png(2), 'dogs/c.png': png(3), 'dogs/d.png': png(4), 'testing/dogs/e.png': png(5) });
  const t = writeTestTrainer(dir);
  const retrain = { name: 'Retrain', builtinTransformationBlock: { type: 'project-action', retrainModel: true, trainCommand: t.command, env: { TRAINER_LOG: t.log }, ...block } };
  const file = writePipeline(dir, { name: 'Train me', steps: [{ name: 'Import', builtinTransformationBlock: { type: 'folder-to-project', path: 'src' } }, retrain, ...moreSteps], ...extra });
  return { dir, file, log: t.log };
}

const run = (file: string, extra: object = {}) => runPipeline(loadPipelineFile(file), { trigger: 'cli', ...extra });
const step = (r: RunRecord, name: string): StepResult => r.steps.find((s) => s.name === name)!;

function cli(args: string[], cwd?: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('training contract', function () {
  this.timeout(60_000);

  it('runs trainCommand with the contract environment; metrics reach the run record and the report; the second run warm-starts and compares', async () => {
    const s = setup({}, [{ name: 'Deploy', builtinTransformationBlock: { type: 'project-action', buildBinary: 'zip', buildBinaryModelType: 'int8' } }]);
    const r1 = await run(s.file);
    assert.equal(r1.status, 'success', JSON.stringify(r1.steps));
    const [env1] = trainerRuns(s.log);
    const datasetDir = loadPipelineFile(s.file).datasetDir;
    assert.equal(env1.DATASET_DIR, datasetDir);
    assert.equal(env1.LABELS_FILE, path.join(datasetDir, 'labels.txt'));
    assert.equal(env1.PREVIOUS_MODEL_DIR, '', 'empty the first time');
    assert.deepEqual(env1.modelDirEntries, [], 'MODEL_DIR starts empty');
    assert.equal(env1.BUILD_MODEL_TYPE, 'int8', 'a buildBinary step follows');
    assert.equal(env1.RUN_ID, r1.id);
    assert.equal(env1.PIPELINE_FILE, s.file);
    assert.equal(fs.realpathSync(env1.cwd as string), fs.realpathSync(s.dir), 'runs in the pipeline file folder');
    const t1 = step(r1, 'Retrain');
    assert.equal(t1.status, 'success');
    assert.equal(t1.metrics!['validation.accuracy'].value, 0.625);
    assert.equal(t1.metrics!['validation.accuracy'].previous, undefined);
    assert.equal(t1.metrics!['testing.loss'].value, 1.5);
    assert.equal(t1.metrics!['validation.per_label.cars.precision'].value, 0.625, 'every numeric leaf is a metric');
    assert.ok(!('note' in t1.metrics!), 'strings are not metrics');
    const cm = t1.metricTables!.find((t) => t.kind === 'confusion_matrix')!;
    assert.equal(cm.name, 'validation.confusion_matrix');
    assert.deepEqual(cm.rows, ['cars', 'dogs']);
    assert.deepEqual(cm.cells, [[4, 1], [1, 4]]);
    assert.ok(t1.metricTables!.some((t) => t.kind === 'per_label' && t.rows.includes('dogs')));
    assert.match(t1.message!, /first training/);

    const r2 = await run(s.file);
    const env2 = trainerRuns(s.log)[1];
    assert.equal(env2.PREVIOUS_MODEL_DIR, env1.MODEL_DIR, 'warm start from the first model');
    assert.notEqual(env2.MODEL_DIR, env1.MODEL_DIR, 'a fresh folder per run');
    const m2 = step(r2, 'Retrain').metrics!;
    assert.deepEqual(m2['validation.accuracy'], { value: 0.75, previous: 0.625, change: 0.125 });
    assert.deepEqual(m2['validation.loss'], { value: 0.5, previous: 1, change: -0.5 });
    const report = runReport(r2);
    assert.deepEqual(report.metrics!['validation.accuracy'], { value: 0.75, previous: 0.625, change: 0.125 });
    assert.ok(report.metricTables!.length >= 1);
  });

  it('the webhook payload and the email carry the metrics, beside the previous values', async () => {
    const hook = await receiver([200]);
    const mail = await smtp();
    try {
      const s = setup({}, [], { notificationWebhook: hook.url, emailRecipients: ['ml@example.com'], whenToEmail: 'always' });
      const notify = { smtp: { host: '127.0.0.1', port: mail.port, secure: false, from: 'pipelines@example.com' } };
      await run(s.file, { notify });
      await run(s.file, { notify });
      await waitFor(() => mail.mails.length === 2 && hook.got.bodies.length === 2, 'two mails and two webhooks');
      const body = hook.got.bodies[1];
      assert.deepEqual(body.metrics['validation.accuracy'], { value: 0.75, previous: 0.625, change: 0.125 });
      assert.ok(body.metricTables.some((t: any) => t.name === 'validation.confusion_matrix' && t.kind === 'confusion_matrix'));
      const text = mail.mails[1].data.replace(/=\r?\n/g, '');
      assert.match(text, /validation\.accuracy 0\.75 \(was 0\.625, \+0\.125\)/);
      assert.match(text, /validation\.confusion_matrix/);
    } finally {
      await hook.close();
      await mail.close();
    }
  });

  it('a failing trainCommand fails its step with the output tail, secrets hidden; the previous model is kept and no deployment is built', async () => {
    const s = setup({ env: { TRAINER_LOG: '', TRAINER_MODE: '${env:MODE}', TRAINER_TOKEN: '${secret:TRAINER_TOKEN}' } }, [{ name: 'Deploy', builtinTransformationBlock: { type: 'project-action', buildBinary: 'zip', buildBinaryModelType: 'float32' } }]);
    const pipeline = JSON.parse(fs.readFileSync(s.file, 'utf8'));
    pipeline.steps[1].builtinTransformationBlock.env.TRAINER_LOG = s.log;
    fs.writeFileSync(s.file, JSON.stringify(pipeline));
    const resolver = (mode: string) => ({ env: { MODE: mode }, secret: async (n: string) => (n === 'TRAINER_TOKEN' ? 'tok-5ecret-value' : undefined) });
    const ok = await run(s.file, { resolver: resolver('ok') });
    assert.equal(step(ok, 'Deploy').status, 'success');
    const r = await run(s.file, { resolver: resolver('fail') });
    assert.equal(r.status, 'failed');
    const t = step(r, 'Retrain');
    assert.equal(t.status, 'failed');
    assert.match(t.errors[0], /exited with code 3/);
    assert.match(t.errors[0], /out of memory: pretend/);
    assert.match(t.errors[0], /previous model is kept/);
    assert.ok(!JSON.stringify(r).includes('tok-5ecret-value'), 'the secret never reaches the run record');
    assert.equal(step(r, 'Deploy').status, 'skipped', 'the deploy step of a failed retrain is not a success');
    assert.match(step(r, 'Deploy').message!, /retrain step "Retrain" failed/);
    const again = await run(s.file, { resolver: resolver('ok') });
    assert.equal(trainerRuns(s.log)[2].PREVIOUS_MODEL_DIR, trainerRuns(s.log)[0].MODEL_DIR, 'the failed run did not replace the model');
    assert.equal(step(again, 'Retrain').metrics!['validation.accuracy'].previous, 0.625);
  });

  it('a missing or unreadable metrics file is a warning that says so; a training that saves nothing is a warning too', async () => {
    for (const [mode, warning] of [['no-metrics', /METRICS_FILE was not created/], ['bad-metrics', /not JSON/], ['no-model', /wrote nothing to MODEL_DIR/]] as const) {
      const s = setup({ env: { TRAINER_LOG: '', TRAINER_MODE: mode } });
      const p = JSON.parse(fs.readFileSync(s.file, 'utf8'));
      p.steps[1].builtinTransformationBlock.env.TRAINER_LOG = s.log;
      fs.writeFileSync(s.file, JSON.stringify(p));
      const t = step(await run(s.file), 'Retrain');
      assert.equal(t.status, 'success', mode);
      assert.ok(t.warnings.some((w) => warning.test(w)), `${mode}: ${JSON.stringify(t.warnings)}`);
    }
  });

  it('retrainModel without trainCommand is skipped with the reason (a model must be trained once before); the build after it is skipped too', async () => {
    const s = setup({ trainCommand: undefined }, [{ name: 'Deploy', builtinTransformationBlock: { type: 'project-action', buildBinary: 'zip' } }]);
    const loaded = loadPipelineFile(s.file);
    assert.ok(loaded.problems.some((p) => p.severity === 'warning' && /trainCommand/.test(p.message) && /init-trainer/.test(p.message)), JSON.stringify(loaded.problems));
    const r = await run(s.file);
    assert.equal(step(r, 'Retrain').status, 'skipped');
    assert.match(step(r, 'Retrain').message!, /no "trainCommand".*trained once before.*init-trainer/s);
    assert.equal(step(r, 'Deploy').status, 'skipped');
    assert.match(step(r, 'Deploy').message!, /no model has been trained/);
    assert.ok(!fs.existsSync(`${loaded.datasetDir}.deployments`), 'no zip pretends');
    assert.equal(runReport(r).steps.find((x) => x.name === 'Retrain')!.status, 'skipped');
  });
});

describe('deployment zip', function () {
  this.timeout(60_000);

  async function checkZip(zipFile: string): Promise<{ zip: ZipRead; manifest: any }> {
    const zip = await readZip(zipFile);
    const manifest = JSON.parse(zip.data.get('deployment.json')!.toString('utf8'));
    for (const f of manifest.files) {
      const data = zip.data.get(f.name);
      assert.ok(data, `${f.name} is in the zip`);
      assert.equal(createHash('sha256').update(data).digest('hex'), f.sha256, `${f.name}'s checksum`);
      assert.equal(data.length, f.size);
    }
    return { zip, manifest };
  }

  it('int8 and float32 zips hold that model, labels.txt, the metrics and deployment.json with checksums', async () => {
    for (const type of ['int8', 'float32'] as const) {
      const s = setup({}, [{ name: 'Deploy', builtinTransformationBlock: { type: 'project-action', buildBinary: 'zip', buildBinaryModelType: type } }]);
      const r = await run(s.file);
      const d = step(r, 'Deploy');
      assert.equal(d.status, 'success', JSON.stringify(d));
      const { zip, manifest } = await checkZip(d.artifacts!.deployment!);
      const model = type === 'int8' ? 'weights_int8.bin' : 'weights.json';
      assert.deepEqual(zip.names.sort(), [model, 'deployment.json', 'labels.txt', 'metrics.json', 'model.json'].sort(), type);
      assert.equal(manifest.modelType, type);
      assert.equal(manifest.modelRunId, r.id);
      assert.equal(zip.data.get('labels.txt')!.toString(), 'cars\ndogs\n');
      assert.equal(JSON.parse(zip.data.get('metrics.json')!.toString()).validation.accuracy, 0.625);
    }
  });

  it('int8 asked for and no int8 model made: the step fails, says so, and writes no zip', async () => {
    const s = setup({ env: { TRAINER_LOG: '', TRAINER_MODE: 'no-int8' } }, [{ name: 'Deploy', builtinTransformationBlock: { type: 'project-action', buildBinary: 'zip', buildBinaryModelType: 'int8' } }]);
    const p = JSON.parse(fs.readFileSync(s.file, 'utf8'));
    p.steps[1].builtinTransformationBlock.env.TRAINER_LOG = s.log;
    fs.writeFileSync(s.file, JSON.stringify(p));
    const r = await run(s.file);
    const d = step(r, 'Deploy');
    assert.equal(d.status, 'failed');
    assert.match(d.errors[0], /made no int8 model.*No zip was written/s);
    assert.ok(!fs.existsSync(`${loadPipelineFile(s.file).datasetDir}.deployments`));
  });

  it('buildCommand writes its own target into DEPLOY_DIR under the same contract', async () => {
    const s = setup({}, [{ name: 'Deploy', builtinTransformationBlock: { type: 'project-action', buildBinary: 'zip', buildBinaryModelType: 'float32', buildCommand: `"${process.execPath}" -e "const fs=require('fs');fs.writeFileSync(process.env.DEPLOY_DIR+'/model.onnx', fs.readFileSync(process.env.MODEL_DIR+'/weights.json'))"` } }]);
    const r = await run(s.file);
    const d = step(r, 'Deploy');
    assert.equal(d.status, 'success', JSON.stringify(d));
    const { zip } = await checkZip(d.artifacts!.deployment!);
    assert.ok(zip.names.includes('model.onnx'));
    assert.match(zip.data.get('model.onnx')!.toString(), /"generation":1/);
  });
});

describe('versions (CLI)', function () {
  this.timeout(120_000);
  before(function () {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run "node esbuild.mjs" (make build) first`);
  });

  it('list, show, diff, restore --to, restore in place (the next sync carries on), prune', async () => {
    const s = setup({}, [{ name: 'Version', builtinTransformationBlock: { type: 'project-action', createVersion: true } }]);
    const imp = JSON.parse(fs.readFileSync(s.file, 'utf8'));
    imp.steps[0].builtinTransformationBlock.deleteRemoved = true;
    fs.writeFileSync(s.file, JSON.stringify(imp, null, 2));
    const datasetDir = loadPipelineFile(s.file).datasetDir;
    await run(s.file);
    const v1 = snapshot(datasetDir);
    // Between the versions: one sample added, one removed, and every label from the file name instead.
    fs.rmSync(path.join(s.dir, 'src/dogs/d.png'));
    writeFiles(path.join(s.dir, 'src'), { 'cars/f.png': png(6) });
    const p = JSON.parse(fs.readFileSync(s.file, 'utf8'));
    p.steps[0].builtinTransformationBlock.labelStrategy = 'infer-from-file-name';
    fs.writeFileSync(s.file, JSON.stringify(p, null, 2));
    const second = await run(s.file);
    assert.equal(second.status, 'success', JSON.stringify(second.steps));
    const v2 = snapshot(datasetDir);

    const list = cli(['versions', s.file, '--json']);
    assert.equal(list.code, 0, list.stderr);
    const { versions } = JSON.parse(list.stdout);
    assert.deepEqual(versions.map((v: any) => v.id), ['v1', 'v2']);
    assert.equal(versions[0].counts.total, 5);
    assert.equal(versions[1].metrics['validation.accuracy'], 0.75);
    for (const k of ['id', 'created', 'runId', 'counts', 'metrics']) assert.ok(k in versions[0], k);
    assert.match(cli(['versions', s.file]).stdout, /v2 .* validation\.accuracy 0\.75/);

    const show = JSON.parse(cli(['versions', s.file, 'show', '1', '--json']).stdout);
    assert.equal(show.id, 'v1');
    assert.ok(show.files.model.includes('weights.json'), 'the model is kept with the version');
    assert.equal(show.files.hasPipeline, true);

    const diff = JSON.parse(cli(['versions', s.file, 'diff', 'v1', 'v2', '--json']).stdout);
    assert.deepEqual(diff.added.map((x: any) => x.key), ['cars/f.png']);
    assert.deepEqual(diff.removed.map((x: any) => x.key), ['dogs/d.png']);
    const relabeled = diff.relabeled.find((x: any) => x.key === 'cars/a.png');
    assert.deepEqual([relabeled.from, relabeled.to], ['cars', 'a']);
    assert.ok(diff.added[0].sample.endsWith('f.png'), 'each item names its sample');
    assert.equal(cli(['versions', s.file, 'diff', 'v1', 'v9']).code, 1);
    assert.match(cli(['versions', s.file, 'diff', 'v1', 'v9']).stderr, /no version "v9".*v1, v2/);

    const to = path.join(s.dir, 'restored-v1');
    const r1 = cli(['versions', s.file, 'restore', 'v1', '--to', to, '--json']);
    assert.equal(r1.code, 0, r1.stderr);
    assert.deepEqual(snapshot(to), v1);
    assert.deepEqual(snapshot(datasetDir), v2, '--to leaves the dataset alone');
    assert.equal(cli(['versions', s.file, 'restore', 'v1', '--to', to]).code, 1, 'never into a folder that holds files');

    const r2 = JSON.parse(cli(['versions', s.file, 'restore', 'v1', '--json']).stdout);
    assert.equal(r2.keptAs, 'v3');
    assert.deepEqual(snapshot(datasetDir), v1, 'the dataset is v1 again');
    const v3 = JSON.parse(cli(['versions', s.file, 'show', 'v3', '--json']).stdout);
    assert.equal(v3.counts.total, 5);
    // The next sync carries on from v1: it brings the source's changes back, and the dataset is what a clean run makes.
    const after = await run(s.file, { steps: ['Import'] });
    assert.equal(after.status, 'success');
    assert.equal(after.counts.new, 1, JSON.stringify(after.counts));
    assert.deepEqual(snapshot(datasetDir), v2);

    const pruned = JSON.parse(cli(['versions', s.file, 'prune', '--keep', '1', '--json']).stdout);
    assert.deepEqual(pruned.removed, ['v1', 'v2']);
    assert.deepEqual(pruned.kept, ['v3']);
    assert.equal(cli(['versions', s.file, 'prune']).code, 2, '--keep is required');
  });

  it('init-trainer writes train.py and predict.py, keeps an edited train.py, and wires the command without replacing one', () => {
    const dir = tempDir('dsp-init-');
    const file = writePipeline(dir, { name: 'P', steps: [{ name: 'Import', builtinTransformationBlock: { type: 'folder-to-project', path: 'src' } }, { name: 'Retrain', builtinTransformationBlock: { type: 'project-action', retrainModel: true } }] });
    const r = cli(['init-trainer', '--pipeline', file, '--no-pretrained', '--json'], dir);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.ok(fs.readFileSync(path.join(dir, 'train.py'), 'utf8').includes('MODEL_DIR'));
    assert.ok(fs.existsSync(path.join(dir, 'predict.py')));
    assert.deepEqual(out.wired, ['Retrain']);
    assert.match(out.command, /train\.py --no-pretrained$/);
    const p = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(p.steps[1].builtinTransformationBlock.trainCommand, out.command);
    assert.ok(!loadPipelineFile(file).problems.some((x) => /trainCommand/.test(x.message)), 'the warning is gone');
    fs.appendFileSync(path.join(dir, 'train.py'), '\n# my edit\n');
    p.steps[1].builtinTransformationBlock.trainCommand = 'python3 mine.py';
    fs.writeFileSync(file, JSON.stringify(p, null, 2));
    const again = JSON.parse(cli(['init-trainer', dir, '--json'], dir).stdout);
    assert.match(again.files[0].note, /your edits/);
    assert.ok(fs.readFileSync(path.join(dir, 'train.py'), 'utf8').endsWith('# my edit\n'));
    assert.match(again.kept[0].why, /already has "trainCommand"/);
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).steps[1].builtinTransformationBlock.trainCommand, 'python3 mine.py');
    // No retrain step at all: one is added.
    const dir2 = tempDir('dsp-init-');
    const file2 = writePipeline(dir2, { name: 'Q', steps: [{ name: 'Import', builtinTransformationBlock: { type: 'folder-to-project', path: 'src' } }] });
    const added = JSON.parse(cli(['init-trainer', file2, '--json'], dir2).stdout);
    assert.equal(added.addedStep, 'Retrain');
    assert.equal(JSON.parse(fs.readFileSync(file2, 'utf8')).steps[1].builtinTransformationBlock.retrainModel, true);
  });
});
