// The engine end to end over the folder source and an in-memory source: incremental sync, changes,
// removals, duplicates, the checklist, hostile keys, cancellation, the lock and info.labels.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { loadPipelineFile, previewPipeline, runPipeline, DatasetLockedError, type Source, type SourceObject, type ProgressEvent } from '../../src/core';
import { acquireLock } from '../../src/core/dataset/lock';
import { SyncState } from '../../src/core/dataset/state';
import { makeJpeg, makePng } from '../../src/demo/images';
import { imageSize } from '../../src/core/dataset/checklist';
import { snapshot, tempDir, writeFiles, writePipeline } from './helpers';

const png = (seed: number) => makePng(4, 4, (x, y) => [seed % 256, x * 40, y * 40]);

function folderPipeline(dir: string, block: object = {}, extraSteps: object[] = []) {
  return writePipeline(dir, { name: 'T', steps: [{ name: 'import', builtinTransformationBlock: { type: 'folder-to-project', path: 'src', ...block } }, ...extraSteps] });
}

async function run(file: string, extra: object = {}) {
  return runPipeline(loadPipelineFile(file), { trigger: 'cli', ...extra });
}

/** A source whose keys are whatever the test says, including ones no file system could hold. */
class MemorySource implements Source {
  readonly kind = 'memory';
  readonly id = 'memory:test';
  readonly defaultConcurrency = 4;
  opens = 0;
  constructor(
    public objects: Map<string, Buffer>,
    private readonly onOpen?: (n: number) => void,
  ) {}
  async *list(): AsyncIterable<SourceObject> {
    for (const [key, data] of this.objects) yield { key, rel: key, size: data.length, version: String(data.length) + ':' + data[data.length - 1] };
  }
  async open(obj: SourceObject): Promise<NodeJS.ReadableStream> {
    this.onOpen?.(++this.opens);
    return Readable.from([this.objects.get(obj.key)!]);
  }
  async verify() {
    return { ok: true, detail: 'memory', sampleFiles: [] };
  }
  explain(err: unknown) {
    return { code: 'memory', detail: String(err), kind: 'other' as const };
  }
}

describe('engine: folder source sync', () => {
  it('first run downloads, second run syncs nothing, info.labels lists every sample', async () => {
    const dir = tempDir();
    writeFiles(path.join(dir, 'src'), { 'cars/a.png': png(1), 'cars/b.png': png(2), 'unknown/c.png': png(3), 'unlabeled/d.png': png(4), 'training/cars/e.png': png(5) });
    const file = folderPipeline(dir);
    const r1 = await run(file);
    assert.equal(r1.status, 'success');
    assert.equal(r1.counts.new, 5);
    assert.equal(r1.counts.checklistOk, 5);
    const snap = snapshot(path.join(dir, 'dataset'));
    assert.ok(snap['training/cars/e.png']);
    const info = JSON.parse(fs.readFileSync(path.join(dir, 'dataset', 'info.labels'), 'utf8'));
    assert.equal(info.version, 1);
    assert.equal(info.files.length, 5);
    const d = info.files.find((f: { path: string }) => f.path.endsWith('/d.png'));
    assert.deepEqual(d.label, { type: 'unlabeled' });
    assert.match(d.path, /^\.unlabeled\/(training|testing)\/d\.png$/);
    const e = info.files.find((f: { path: string }) => f.path === 'training/cars/e.png');
    assert.deepEqual(e.label, { type: 'label', label: 'cars' });
    assert.equal(e.category, 'training');
    for (const f of info.files) assert.ok(fs.existsSync(path.join(dir, 'dataset', f.path)), f.path);

    const r2 = await run(file);
    assert.equal(r2.counts.new, 0);
    assert.equal(r2.counts.changed, 0);
    assert.equal(r2.counts.unchanged, 5);
    assert.deepEqual(snapshot(path.join(dir, 'dataset')), snap);
  });

  it('a changed file is replaced; a removed one is reported, and deleted only with deleteRemoved', async () => {
    const dir = tempDir();
    writeFiles(path.join(dir, 'src'), { 'cars/a.png': png(1), 'cars/b.png': png(2), 'dogs/c.png': png(3) });
    const file = folderPipeline(dir);
    await run(file);
    const where = (key: string) => SyncState.load(path.join(dir, 'dataset')).get(`folder:${path.join(dir, 'src')}`, key)!.path!;
    const aPath = where('cars/a.png');
    const bPath = where('cars/b.png');
    fs.writeFileSync(path.join(dir, 'src/cars/a.png'), png(99));
    fs.utimesSync(path.join(dir, 'src/cars/a.png'), new Date(), new Date(Date.now() + 5000));
    fs.rmSync(path.join(dir, 'src/cars/b.png'));
    const r = await run(file);
    assert.equal(r.counts.changed, 1);
    assert.equal(r.counts.removed, 1);
    assert.deepEqual(fs.readFileSync(path.join(dir, 'dataset', aPath)), png(99));
    assert.ok(fs.existsSync(path.join(dir, 'dataset', bPath)), 'kept locally without deleteRemoved');

    const file2 = folderPipeline(dir, { deleteRemoved: true });
    const r2 = await run(file2);
    assert.equal(r2.counts.removed, 1);
    assert.ok(!fs.existsSync(path.join(dir, 'dataset', bPath)), 'deleted with deleteRemoved');
    const info = JSON.parse(fs.readFileSync(path.join(dir, 'dataset', 'info.labels'), 'utf8'));
    assert.ok(!info.files.some((f: { path: string }) => f.path === bPath));
    const r3 = await run(file2);
    assert.equal(r3.counts.removed, 0);
  });

  it('a local file deleted by hand is fetched again', async () => {
    const dir = tempDir();
    writeFiles(path.join(dir, 'src'), { 'cars/a.png': png(1), 'dogs/b.png': png(2) });
    const file = folderPipeline(dir);
    await run(file);
    const before = snapshot(path.join(dir, 'dataset'));
    const victim = Object.keys(before).find((p) => p.endsWith('a.png'))!;
    fs.rmSync(path.join(dir, 'dataset', victim));
    const r = await run(file);
    assert.equal(r.counts.changed, 1);
    assert.deepEqual(snapshot(path.join(dir, 'dataset')), before);
  });

  it('identical content is stored once unless allowDuplicates', async () => {
    const dir = tempDir();
    writeFiles(path.join(dir, 'src'), { 'cars/a.png': png(7), 'cars/copy.png': png(7), 'dogs/same.png': png(7), 'dogs/other.png': png(8) });
    const r = await run(folderPipeline(dir));
    assert.equal(r.counts.new, 2);
    assert.equal(r.counts.duplicate, 2);
    const pngs = Object.keys(snapshot(path.join(dir, 'dataset'))).filter((p) => p.endsWith('.png'));
    assert.equal(pngs.length, 2);
    // A duplicate that leaves the source is reported once, then forgotten (nothing was stored for it).
    // Which of identical files is kept depends on which arrives first, so ask the state.
    const state = SyncState.load(path.join(dir, 'dataset'));
    const dup = ['cars/a.png', 'cars/copy.png', 'dogs/same.png'].find((k) => state.get(`folder:${path.join(dir, 'src')}`, k)?.status === 'duplicate')!;
    fs.rmSync(path.join(dir, 'src', dup));
    assert.equal((await run(folderPipeline(dir))).counts.removed, 1);
    assert.equal((await run(folderPipeline(dir))).counts.removed, 0);
    assert.equal(Object.keys(snapshot(path.join(dir, 'dataset'))).filter((p) => p.endsWith('.png')).length, 2);
    const dir2 = tempDir();
    writeFiles(path.join(dir2, 'src'), { 'cars/a.png': png(7), 'cars/copy.png': png(7) });
    const r2 = await run(folderPipeline(dir2, { allowDuplicates: true }));
    assert.equal(r2.counts.new, 2);
    assert.equal(r2.counts.duplicate, 0);
  });

  it('the checklist fails unreadable images and counts ok/failed', async () => {
    const dir = tempDir();
    writeFiles(path.join(dir, 'src'), { 'cars/good.png': png(1), 'cars/good.jpg': makeJpeg(2, 2, () => 100), 'cars/bad.png': Buffer.from('not a png at all'), 'cars/bad.jpg': Buffer.from([0xff, 0xd8, 0xff, 0x00]), 'cars/x.bin': Buffer.from('?') });
    const r = await run(folderPipeline(dir));
    assert.equal(r.counts.checklistOk, 2);
    assert.equal(r.counts.checklistFailed, 3);
    const files = Object.keys(snapshot(path.join(dir, 'dataset')));
    assert.ok(!files.some((f) => f.includes('bad')), 'failed samples are not placed in the dataset');
    assert.ok(r.steps[0].problems.some((p) => p.key === 'cars/bad.png' && /not a readable PNG/.test(p.reason)));
    // not fetched again while unchanged
    const r2 = await run(folderPipeline(dir));
    assert.equal(r2.counts.new + r2.counts.changed, 0);
  });

  it('generated demo images have readable headers', () => {
    assert.deepEqual(imageSize(makeJpeg(6, 4, () => 50)), { type: 'jpeg', width: 48, height: 32 });
    assert.deepEqual(imageSize(makePng(24, 16, () => [0, 0, 0])), { type: 'png', width: 24, height: 16 });
  });

  it('symlinks leading outside the folder are not followed; inside ones are', async () => {
    const dir = tempDir();
    const outside = tempDir('dsp-outside-');
    writeFiles(outside, { 'secret.png': png(66) });
    writeFiles(path.join(dir, 'src'), { 'cars/a.png': png(1), 'dogs/b.png': png(2) });
    fs.symlinkSync(path.join(outside, 'secret.png'), path.join(dir, 'src/cars/leak.png'));
    fs.symlinkSync(outside, path.join(dir, 'src/outside-dir'));
    fs.symlinkSync(path.join(dir, 'src/cars/a.png'), path.join(dir, 'src/dogs/alias.png'));
    const p = await previewPipeline(loadPipelineFile(folderPipeline(dir)));
    const placed = p[0].items.filter((i) => i.action === 'download').map((i) => i.key).sort();
    assert.deepEqual(placed, ['cars/a.png', 'dogs/alias.png', 'dogs/b.png']);
    // The others are reported, with the reason, never dropped silently.
    const rejected = Object.fromEntries(p[0].items.filter((i) => i.action === 'reject').map((i) => [i.key, i.reason]));
    assert.deepEqual(Object.keys(rejected).sort(), ['cars/leak.png', 'outside-dir']);
    for (const r of Object.values(rejected)) assert.match(r!, /outside the source folder: not followed/);
  });

  it('the dataset inside the source folder is not imported into itself', async () => {
    const dir = tempDir();
    writeFiles(dir, { 'cars/a.png': png(1), 'dogs/b.png': png(2) });
    const file = writePipeline(dir, { name: 'self', steps: [{ name: 'i', builtinTransformationBlock: { type: 'folder-to-project', path: '.' } }] });
    await run(file);
    const r2 = await run(file);
    assert.equal(r2.counts.new, 0, 'second run finds nothing new (its own output is not a source)');
  });

  it('reports progress events and honours --concurrency', async () => {
    const dir = tempDir();
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 50; i++) files[`c${i % 2}/${i}.png`] = png(i);
    writeFiles(path.join(dir, 'src'), files);
    const events: ProgressEvent[] = [];
    const r = await run(folderPipeline(dir), { concurrency: 3, onProgress: (e: ProgressEvent) => events.push(e) });
    assert.equal(r.counts.new, 50);
    const last = events.filter((e) => e.phase === 'transferring').pop()!;
    assert.equal(last.done, 50);
    assert.equal(last.total, 50);
  });
});

describe('engine: hostile keys, cancellation, lock, actions', () => {
  it('hostile keys are rejected and nothing is written outside the dataset', async () => {
    const dir = tempDir();
    const objects = new Map<string, Buffer>([
      ['../escape.png', png(1)],
      ['cars/../../escape2.png', png(2)],
      ['/etc/abs.png', png(3)],
      ['cars\\..\\win.png', png(4)],
      ['cars//double.png', png(5)],
      ['cars/nul\u0000.png', png(6)],
      ['cars/', Buffer.alloc(0)],
      ['cars/ok.png', png(7)],
      ['dogs/ok.png', png(8)],
    ]);
    const src = new MemorySource(objects);
    const file = writePipeline(dir, { name: 'h', dataset: 'out/ds', steps: [{ name: 'i', builtinTransformationBlock: { type: 'folder-to-project', path: '.' } }] });
    const r = await runPipeline(loadPipelineFile(file), { trigger: 'cli', sourceFactory: async () => src });
    assert.equal(r.counts.rejected, 6);
    assert.equal(r.counts.new, 2);
    assert.equal(r.status, 'partial');
    const all = snapshot(dir);
    for (const f of Object.keys(all)) assert.ok(f === 'h.pipeline.json' || f === 'test.pipeline.json' || f.startsWith('out/ds/'), `unexpected file ${f}`);
    assert.ok(!fs.existsSync(path.join(dir, 'escape.png')));
    assert.ok(r.steps[0].problems.some((p) => p.key === '../escape.png' && /"\.\."/.test(p.reason)));
  });

  it('cancellation stops a run, leaves no temporary files, and the next run completes it', async () => {
    const dir = tempDir();
    const objects = new Map<string, Buffer>();
    for (let i = 0; i < 200; i++) objects.set(`c${i % 3}/${i}.png`, png(i));
    const controller = new AbortController();
    const src = new MemorySource(objects, (n) => n === 20 && controller.abort());
    const file = writePipeline(dir, { name: 'c', steps: [{ name: 'i', builtinTransformationBlock: { type: 'folder-to-project', path: '.' } }] });
    const r = await runPipeline(loadPipelineFile(file), { trigger: 'cli', concurrency: 2, signal: controller.signal, sourceFactory: async () => src });
    assert.equal(r.status, 'cancelled');
    assert.ok(r.counts.new < 200);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'dataset', '.dsp', 'tmp')), []);
    const r2 = await runPipeline(loadPipelineFile(file), { trigger: 'cli', sourceFactory: async () => src });
    assert.equal(r.counts.new + r2.counts.new, 200);
    assert.equal(Object.keys(snapshot(path.join(dir, 'dataset'))).filter((f) => f.endsWith('.png')).length, 200);
  });

  it('one run per dataset: a second run while locked fails with DatasetLockedError', async () => {
    const dir = tempDir();
    writeFiles(path.join(dir, 'src'), { 'cars/a.png': png(1) });
    const file = folderPipeline(dir);
    const release = acquireLock(path.join(dir, 'dataset'), 'other');
    try {
      await assert.rejects(run(file), DatasetLockedError);
    } finally {
      release();
    }
    assert.equal((await run(file)).counts.new, 1);
  });

  it('a stale lock left by a dead process is taken over', async () => {
    const dir = tempDir();
    writeFiles(path.join(dir, 'src'), { 'cars/a.png': png(1) });
    const file = folderPipeline(dir);
    fs.mkdirSync(path.join(dir, 'dataset', '.dsp'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'dataset', '.dsp', 'lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), since: 'then' }));
    assert.equal((await run(file)).counts.new, 1);
  });

  it('project actions: refresh explorer, version, retrain command, deployment zip; custom block', async () => {
    const dir = tempDir();
    writeFiles(path.join(dir, 'src'), { 'cars/a.png': png(1), 'dogs/b.png': png(2) });
    const file = folderPipeline(dir, {}, [
      { name: 'refresh', builtinTransformationBlock: { type: 'project-action', refreshDataExplorer: true } },
      { name: 'retrain', builtinTransformationBlock: { type: 'project-action', retrainModel: true, trainCommand: 'echo trained > "$DATASET_DIR/../trained.txt"; echo MODEL > "$MODEL_DIR/model.tflite"' } },
      { name: 'version', builtinTransformationBlock: { type: 'project-action', createVersion: true } },
      { name: 'deploy', builtinTransformationBlock: { type: 'project-action', buildBinary: 'zip', buildBinaryModelType: 'float32' } },
      { name: 'custom', transformationBlock: { command: 'echo "$PARAM_SIZE" > custom.txt' }, parameters: { size: 96 } },
    ]);
    const r = await run(file);
    assert.equal(r.status, 'success', JSON.stringify(r.steps.map((s) => [s.name, s.status, s.errors])));
    const explorer = JSON.parse(fs.readFileSync(path.join(dir, 'dataset', '.dsp', 'explorer.json'), 'utf8'));
    assert.equal(explorer.total, 2);
    assert.equal(fs.readFileSync(path.join(dir, 'trained.txt'), 'utf8').trim(), 'trained');
    assert.deepEqual(Object.keys(snapshot(path.join(dir, 'dataset.versions', 'v1'))).filter((f) => f.endsWith('.png')).length, 2);
    const zips = fs.readdirSync(path.join(dir, 'dataset.deployments'));
    assert.equal(zips.length, 1);
    const zip = fs.readFileSync(path.join(dir, 'dataset.deployments', zips[0]));
    assert.equal(zip.readUInt32LE(0), 0x04034b50);
    assert.ok(zip.includes(Buffer.from('model.tflite')), 'without a model.json, what MODEL_DIR holds is the float32 model');
    assert.equal(fs.readFileSync(path.join(dir, 'custom.txt'), 'utf8').trim(), '96');
  });

  it('a failing train command fails its step with its output', async () => {
    const dir = tempDir();
    writeFiles(path.join(dir, 'src'), { 'cars/a.png': png(1) });
    const file = folderPipeline(dir, {}, [{ name: 'retrain', builtinTransformationBlock: { type: 'project-action', retrainModel: true, trainCommand: 'echo boom >&2; exit 3' } }]);
    const r = await run(file);
    assert.equal(r.status, 'failed');
    const s = r.steps.find((x) => x.name === 'retrain')!;
    assert.match(s.errors[0], /exited with code 3/);
    assert.match(s.errors[0], /boom/);
  });

  it('an invalid pipeline never starts a run', async () => {
    const dir = tempDir();
    const file = writePipeline(dir, { name: 'x', steps: [{ name: 's', builtinTransformationBlock: { type: 'folder-to-project', path: 'nope' } }] });
    await assert.rejects(run(file), /has errors/);
    assert.ok(!fs.existsSync(path.join(dir, 'dataset')));
  });
});

describe("engine: a source's own Edge Impulse files", () => {
  it("an info.labels in the source sets labels and categories; it and bounding_boxes.labels are never samples; a relabel moves without downloading", async () => {
    const dir = tempDir();
    const src = path.join(dir, 'src');
    const info = (carsLabel: string) => ({
      version: 1,
      files: [
        { path: 'training/a.0001.png', category: 'training', label: { type: 'label', label: carsLabel }, boundingBoxes: [] },
        { path: 'testing/b.0002.png', category: 'testing', label: { type: 'label', label: 'bird' }, boundingBoxes: [] },
        { path: 'validation/c.0003.png', category: 'validation', label: { type: 'label', label: 'bird' }, boundingBoxes: [] },
        { path: 'training/d.0004.png', category: 'training', label: { type: 'unlabeled' } },
        { path: 'training/e.0005.png', category: 'split', label: { type: 'label', label: 'cars' } },
        { path: 'training/gone.png', category: 'training', label: { type: 'label', label: 'x' } },
        { path: '../outside.png', category: 'training', label: { type: 'label', label: 'x' } },
      ],
    });
    writeFiles(src, {
      'info.labels': JSON.stringify(info('cars')),
      'bounding_boxes.labels': JSON.stringify({ version: 1, type: 'bounding-box-labels', boundingBoxes: {} }),
      'training/a.0001.png': png(1),
      'testing/b.0002.png': png(2),
      'validation/c.0003.png': png(3),
      'training/d.0004.png': png(4),
      'training/e.0005.png': png(5),
      'training/f.0006.png': png(6),
    });
    // Labels from the file name would say "a", "b", ...: info.labels must win.
    const file = folderPipeline(dir, { labelStrategy: 'infer-from-file-name' });
    const r1 = await run(file);
    assert.equal(r1.status, 'success', JSON.stringify(r1.steps[0].errors));
    const ds = path.join(dir, 'dataset');
    const snap = snapshot(ds);
    for (const p of ['training/cars/a.0001.png', 'testing/bird/b.0002.png', 'validation/bird/c.0003.png', '.unlabeled/training/d.0004.png', 'training/cars/e.0005.png', 'training/f/f.0006.png']) assert.ok(snap[p], `${p} in ${Object.keys(snap).join(', ')}`);
    assert.ok(!Object.keys(snap).some((k) => k.endsWith('bounding_boxes.labels')), 'bounding_boxes.labels is not a sample');
    const written = JSON.parse(fs.readFileSync(path.join(ds, 'info.labels'), 'utf8'));
    assert.equal(written.files.length, 6);
    const warnings = r1.steps[0].warnings.join('\n');
    assert.match(warnings, /1 file\(s\) listed in the source's info.labels are not in the source/);
    assert.match(warnings, /without a path or a label this tool reads/);

    // Relabel in the source's info.labels: the file moves, nothing is downloaded again.
    fs.writeFileSync(path.join(src, 'info.labels'), JSON.stringify(info('car')));
    const r2 = await run(file);
    assert.equal(r2.status, 'success');
    assert.equal(r2.counts.new, 0);
    assert.equal(r2.counts.bytes, 0);
    assert.ok(fs.existsSync(path.join(ds, 'training/car/a.0001.png')));
    assert.ok(!fs.existsSync(path.join(ds, 'training/cars/a.0001.png')));

    // A broken info.labels is a warning; labels then come from the names.
    fs.writeFileSync(path.join(src, 'info.labels'), '{"version": 1, "files": [');
    const p3 = await previewPipeline(loadPipelineFile(file));
    assert.match(p3[0].warnings.join('\n'), /info.labels is not valid JSON/);
  });
});

describe('engine: folder entries that are not plain files are reported, never dropped', () => {
  it('FIFOs, sockets, links outside or broken, unreadable folders and non-UTF-8 names: each reported with its reason; non-UTF-8 names imported under stable escaped names', async function () {
    const dir = tempDir();
    const src = path.join(dir, 'src');
    writeFiles(src, { 'cars/a.png': png(1), 'cars/b.png': png(2) });
    const outside = path.join(dir, 'outside.png');
    fs.writeFileSync(outside, png(9));
    fs.symlinkSync(outside, path.join(src, 'cars', 'out-link.png'));
    fs.symlinkSync(path.join(src, 'nowhere.png'), path.join(src, 'cars', 'dangling.png'));
    fs.symlinkSync('/dev/null', path.join(src, 'cars', 'devnull.png'));
    (await import('node:child_process')).execFileSync('mkfifo', [path.join(src, 'cars', 'pipe.png')]);
    const net = await import('node:net');
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(path.join(src, 'cars', 'sock.png'), () => r()));
    const locked = path.join(src, 'locked');
    fs.mkdirSync(locked);
    fs.writeFileSync(path.join(locked, 'x.png'), png(3));
    fs.chmodSync(locked, 0);
    // Two names that are not UTF-8 (they would both decode to "caf\ufffd.png") and a real "caf%E9.png".
    const carsBuf = Buffer.from(path.join(src, 'cars') + path.sep);
    fs.writeFileSync(Buffer.concat([carsBuf, Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from('.png')]), png(4));
    fs.writeFileSync(Buffer.concat([carsBuf, Buffer.from([0x63, 0x61, 0x66, 0xe8]), Buffer.from('.png')]), png(5));
    fs.writeFileSync(path.join(src, 'cars', 'caf%E9.png'), png(6));
    try {
      const file = folderPipeline(dir);
      const r = await run(file);
      const problems = new Map(r.steps[0].problems.map((p) => [p.key, p.reason]));
      const expect: Record<string, RegExp> = {
        'cars/out-link.png': /outside the source folder/,
        'cars/dangling.png': /broken symbolic link/,
        'cars/devnull.png': /outside the source folder/,
        'cars/pipe.png': /named pipe \(FIFO\)/,
        'cars/sock.png': /socket/,
      };
      if (process.getuid?.() !== 0) expect.locked = /folder cannot be read \(EACCES\)/;
      for (const [key, reason] of Object.entries(expect)) assert.match(problems.get(key) ?? "(not reported)", reason, `${key}: ${JSON.stringify([...problems])}`);
      const ds = path.join(dir, 'dataset');
      const names = fs.readdirSync(path.join(ds, 'training', 'cars')).concat(fs.existsSync(path.join(ds, 'testing', 'cars')) ? fs.readdirSync(path.join(ds, 'testing', 'cars')) : []);
      assert.ok(names.includes('caf%E8.png'), names.join(', '));
      assert.equal(names.filter((n) => n.startsWith('caf')).length, 3, `three distinct files: ${names.join(', ')}`);
      assert.ok(names.every((n) => !n.includes('\ufffd')));
      const warned = r.steps[0].warnings.join('\n') + JSON.stringify(r);
      assert.match(warned, /not valid UTF-8/);
      // Stable: the next run changes nothing.
      const before = snapshot(ds);
      const r2 = await run(file);
      assert.equal(r2.counts.new + r2.counts.changed, 0, JSON.stringify(r2.counts));
      assert.deepEqual(snapshot(ds), before);
    } finally {
      server.close();
      fs.chmodSync(locked, 0o755);
    }
  });
});
