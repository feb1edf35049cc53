// Labeling through the core (relabelSamples) and the CLI's `label`: files move, the state,
// info.labels, labels.txt and labels-override.json follow, later syncs keep a person's label,
// undo restores the dataset exactly, and the dataset lock keeps labeling and syncing apart.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { loadPipelineFile, previewPipeline, relabelSamples, runPipeline, DatasetLockedError, type Source, type SourceObject, type RelabelResult } from '../../src/core';
import { acquireLock } from '../../src/core/dataset/lock';
import { loadOverrides, overrideId, overridesFile, saveOverrides } from '../../src/core/dataset/overrides';
import { SyncState } from '../../src/core/dataset/state';
import { UserError } from '../../src/core/util/errors';
import { makePng } from '../../src/demo/images';
import { snapshot, tempDir, waitFor, writeFiles, writePipeline } from './helpers';

const png = (seed: number) => makePng(4, 4, (x, y) => [seed % 256, x * 40, y * 40]);
const CLI = path.resolve(__dirname, '../../../dist/cli.js');

const SOURCE = {
  'training/cars/a.png': png(1),
  'testing/cars/b.png': png(2),
  'training/dogs/c.png': png(3),
  'testing/dogs/d.png': png(4),
  'training/unlabeled/u1.png': png(5),
  'testing/unlabeled/u2.png': png(6),
};

async function setup() {
  const dir = tempDir();
  writeFiles(path.join(dir, 'src'), SOURCE);
  const file = writePipeline(dir, { name: 'L', steps: [{ name: 'import', builtinTransformationBlock: { type: 'folder-to-project', path: 'src' } }] });
  const r = await runPipeline(loadPipelineFile(file), { trigger: 'cli' });
  assert.equal(r.counts.new, 6);
  return { dir, file, ds: path.join(dir, 'dataset'), loaded: () => loadPipelineFile(file) };
}

const info = (ds: string) => JSON.parse(fs.readFileSync(path.join(ds, 'info.labels'), 'utf8')) as { files: { path: string; category: string; label: { type: string; label?: string } }[] };
const labelsTxt = (ds: string) => fs.readFileSync(path.join(ds, 'labels.txt'), 'utf8').trim().split('\n');
const stateOf = (ds: string) => [...SyncState.load(ds).all()].map((e) => ({ key: e.key, path: e.path, label: e.label, category: e.category })).sort((a, b) => (a.key < b.key ? -1 : 1));

/** Undo, as the explorer does it: each change back to its `from`, grouped by what it was. */
async function undo(loaded: ReturnType<typeof loadPipelineFile>, r: RelabelResult) {
  for (const c of r.changed) await relabelSamples(loaded, { paths: [c.to.path], label: c.from.label, category: c.from.category });
}

describe('labeling through the core', () => {
  it('labels an unlabeled sample: the file moves, info.labels, labels.txt and the state follow, and syncs keep it', async () => {
    const { ds, file, loaded, dir } = await setup();
    const r = await relabelSamples(loaded(), { paths: ['.unlabeled/training/u1.png'], label: 'birds' });
    assert.deepEqual(r, { changed: [{ path: '.unlabeled/training/u1.png', from: { label: null, category: 'training' }, to: { label: 'birds', category: 'training', path: 'training/birds/u1.png' } }], unchanged: [] });
    assert.ok(fs.existsSync(path.join(ds, 'training/birds/u1.png')));
    assert.ok(!fs.existsSync(path.join(ds, '.unlabeled/training/u1.png')));
    const entry = info(ds).files.find((f) => f.path === 'training/birds/u1.png');
    assert.deepEqual(entry?.label, { type: 'label', label: 'birds' });
    assert.equal(info(ds).files.length, 6);
    assert.deepEqual(labelsTxt(ds), ['birds', 'cars', 'dogs']);
    assert.deepEqual(stateOf(ds).find((e) => e.key.endsWith('u1.png')), { key: 'training/unlabeled/u1.png', path: 'training/birds/u1.png', label: 'birds', category: 'training' });
    assert.equal(loadOverrides(ds).size, 1);
    const override = JSON.parse(fs.readFileSync(overridesFile(ds), 'utf8'));
    assert.equal(override.overrides[0].key, 'training/unlabeled/u1.png');
    assert.equal(override.overrides[0].label, 'birds');
    assert.match(override.overrides[0].at, /^\d{4}-\d\d-\d\dT/);

    const snap = snapshot(ds);
    const r2 = await runPipeline(loadPipelineFile(file), { trigger: 'cli' });
    assert.equal(r2.counts.new + r2.counts.changed, 0);
    assert.equal(r2.counts.unchanged, 6);
    assert.deepEqual(snapshot(ds), snap);
    const [p] = await previewPipeline(loaded());
    const item = p.items.find((i) => i.key === 'training/unlabeled/u1.png')!;
    assert.equal(item.labelSource, 'manual');
    assert.equal(item.label, 'birds');
    assert.equal(item.status, 'unchanged');
    assert.equal(p.items.find((i) => i.key === 'training/cars/a.png')!.labelSource, 'inferred');

    // New content at the source: fetched again, and still the person's label.
    fs.writeFileSync(path.join(dir, 'src/training/unlabeled/u1.png'), png(77));
    const r3 = await runPipeline(loadPipelineFile(file), { trigger: 'cli' });
    assert.equal(r3.counts.changed, 1);
    assert.deepEqual(fs.readFileSync(path.join(ds, 'training/birds/u1.png')), png(77));
    assert.equal(info(ds).files.find((f) => f.path === 'training/birds/u1.png')?.label.label, 'birds');
  });

  it('unlabels and moves category; undo restores exactly the previous dataset', async () => {
    const { ds, file, loaded } = await setup();
    const before = snapshot(ds);
    const stateBefore = stateOf(ds);
    const r1 = await relabelSamples(loaded(), { paths: ['training/cars/a.png'], label: null });
    assert.equal(r1.changed[0].to.path, '.unlabeled/training/a.png');
    const r2 = await relabelSamples(loaded(), { paths: ['testing/dogs/d.png'], category: 'training' });
    assert.equal(r2.changed[0].to.path, 'training/dogs/d.png');
    const r3 = await relabelSamples(loaded(), { paths: ['testing/unlabeled/u2.png'.replace('testing/unlabeled', '.unlabeled/testing'), 'testing/cars/b.png'], label: 'cats', category: 'validation' });
    assert.deepEqual(r3.changed.map((c) => c.to.path).sort(), ['validation/cats/b.png', 'validation/cats/u2.png']);
    assert.ok(!fs.existsSync(path.join(ds, 'testing/cars')), 'an emptied class folder is removed');
    assert.deepEqual(labelsTxt(ds), ['cats', 'dogs']);
    const again = await relabelSamples(loaded(), { paths: ['validation/cats/b.png'], label: 'cats' });
    assert.deepEqual(again, { changed: [], unchanged: ['validation/cats/b.png'] });

    // Syncs keep all of it.
    const mid = snapshot(ds);
    const sync = await runPipeline(loadPipelineFile(file), { trigger: 'cli' });
    assert.equal(sync.counts.unchanged, 6);
    assert.deepEqual(snapshot(ds), mid);

    for (const r of [r3, r2, r1]) await undo(loaded(), r);
    assert.deepEqual(snapshot(ds), before);
    assert.deepEqual(stateOf(ds), stateBefore);
    const after = await runPipeline(loadPipelineFile(file), { trigger: 'cli' });
    assert.equal(after.counts.unchanged, 6);
    assert.deepEqual(snapshot(ds), before);
  });

  it('an unknown path or a hostile label is a clear error, and nothing changes', async () => {
    const { ds, loaded } = await setup();
    const before = snapshot(ds);
    await assert.rejects(relabelSamples(loaded(), { paths: ['training/cars/a.png', 'training/cars/nope.png'], label: 'x' }), (e: Error) => e instanceof UserError && /Not a sample of this dataset: "training\/cars\/nope\.png".*Nothing was changed/.test(e.message));
    for (const bad of ['../x', 'a/b', 'a\\b', '..', '', ' ', 'a\u0007b', '.hidden']) {
      await assert.rejects(relabelSamples(loaded(), { paths: ['training/cars/a.png'], label: bad }), (e: Error) => e instanceof UserError && /label/i.test(e.message), JSON.stringify(bad));
    }
    await assert.rejects(relabelSamples(loaded(), { paths: ['training/cars/a.png'], category: 'elsewhere' as never }), /not a category/);
    await assert.rejects(relabelSamples(loaded(), { paths: ['training/cars/a.png'] }), /Say what to change/);
    assert.deepEqual(snapshot(ds), before);
    assert.ok(!fs.existsSync(overridesFile(ds)));
  });

  it('a sample whose file is gone stops the labeling there: those before it changed, the rest untouched and not recorded', async () => {
    const { ds, loaded } = await setup();
    fs.rmSync(path.join(ds, 'training/dogs/c.png'));
    await assert.rejects(relabelSamples(loaded(), { paths: ['training/cars/a.png', 'training/dogs/c.png', 'testing/dogs/d.png'], label: 'x' }), /training\/dogs\/c\.png is missing.*1 sample\(s\) before it were changed/);
    assert.deepEqual([...loadOverrides(ds).values()].map((v) => v.label), ['x']);
    assert.ok(fs.existsSync(path.join(ds, 'training/x/a.png')));
    assert.ok(fs.existsSync(path.join(ds, 'testing/dogs/d.png')));
    assert.equal(info(ds).files.find((f) => f.path === 'training/x/a.png')?.label.label, 'x');
  });

  it('a name already taken in the target folder gets a suffix, never overwrites', async () => {
    const { ds, file, loaded, dir } = await setup();
    writeFiles(path.join(dir, 'src'), { 'training/cars/c.png': png(9) });
    await runPipeline(loadPipelineFile(file), { trigger: 'cli' });
    const r = await relabelSamples(loaded(), { paths: ['training/dogs/c.png'], label: 'cars' });
    const to = r.changed[0].to.path;
    assert.match(to, /^training\/cars\/c~[0-9a-f]{8}\.png$/);
    assert.deepEqual(fs.readFileSync(path.join(ds, 'training/cars/c.png')), png(9));
    assert.deepEqual(fs.readFileSync(path.join(ds, to)), png(3));
    const snap = snapshot(ds);
    assert.equal((await runPipeline(loadPipelineFile(file), { trigger: 'cli' })).counts.unchanged, 7);
    assert.deepEqual(snapshot(ds), snap);
  });

  it('a crash after the move and before the state record is repaired by a sync, or by labeling again', async () => {
    for (const repair of ['sync', 'relabel'] as const) {
      const { ds, file, loaded } = await setup();
      const stateFile = path.join(ds, '.dsp', 'state.json');
      const old = fs.readFileSync(stateFile);
      await relabelSamples(loaded(), { paths: ['.unlabeled/training/u1.png'], label: 'birds' });
      const expected = snapshot(ds);
      fs.writeFileSync(stateFile, old); // the state as it was: the overrides saved, the file moved, no record
      if (repair === 'sync') await runPipeline(loadPipelineFile(file), { trigger: 'cli' });
      else assert.equal((await relabelSamples(loaded(), { paths: ['.unlabeled/training/u1.png'], label: 'birds' })).changed[0].to.path, 'training/birds/u1.png');
      assert.deepEqual(snapshot(ds), expected, repair);
      assert.equal(stateOf(ds).find((e) => e.key.endsWith('u1.png'))?.path, 'training/birds/u1.png');
    }
  });

  it('a crash after the overrides are saved and before the move: the next sync moves the file (never fetches it again)', async () => {
    const { ds, file, loaded } = await setup();
    const data = fs.readFileSync(path.join(ds, '.unlabeled/training/u1.png'));
    const id = [...SyncState.load(ds).all()].find((e) => e.key === 'training/unlabeled/u1.png')!.source;
    saveOverrides(ds, new Map([[overrideId(id, 'training/unlabeled/u1.png'), { label: 'birds', at: new Date().toISOString() }]]));
    const [p] = await previewPipeline(loaded());
    const item = p.items.find((i) => i.key === 'training/unlabeled/u1.png')!;
    assert.deepEqual([item.action, item.path, item.labelSource], ['move', 'training/birds/u1.png', 'manual']);
    const r = await runPipeline(loadPipelineFile(file), { trigger: 'cli' });
    assert.equal(r.counts.new, 0);
    assert.deepEqual(fs.readFileSync(path.join(ds, 'training/birds/u1.png')), data);
    assert.ok(!fs.existsSync(path.join(ds, '.unlabeled/training/u1.png')));
    assert.deepEqual(stateOf(ds).find((e) => e.key.endsWith('u1.png')), { key: 'training/unlabeled/u1.png', path: 'training/birds/u1.png', label: 'birds', category: 'training' });
    assert.equal(info(ds).files.find((f) => f.path === 'training/birds/u1.png')?.label.label, 'birds');
  });
});

/** A source whose downloads wait until the test lets them go: a run that is surely in progress. */
class GatedSource implements Source {
  readonly kind = 'memory';
  readonly id = 'memory:gated';
  readonly defaultConcurrency = 2;
  opened = 0;
  private open_!: () => void;
  readonly gate = new Promise<void>((resolve) => (this.open_ = resolve));
  constructor(private readonly objects: Map<string, Buffer>) {}
  release(): void {
    this.open_();
  }
  async *list(): AsyncIterable<SourceObject> {
    for (const [key, data] of this.objects) yield { key, rel: key, size: data.length, version: `${data.length}:${data[data.length - 1]}` };
  }
  async open(obj: SourceObject): Promise<NodeJS.ReadableStream> {
    this.opened++;
    await this.gate;
    return Readable.from([this.objects.get(obj.key)!]);
  }
  async verify() {
    return { ok: true, detail: 'memory', sampleFiles: [] };
  }
  explain(err: unknown) {
    return { code: 'memory', detail: String(err), kind: 'other' as const };
  }
}

describe('labeling and syncing: the dataset lock', () => {
  it('labeling during a run fails with DatasetLockedError and changes nothing; after the run it succeeds', async () => {
    const dir = tempDir();
    const objects = new Map<string, Buffer>([['cars/a.png', png(1)], ['unlabeled/u.png', png(2)]]);
    const file = writePipeline(dir, { name: 'G', steps: [{ name: 'i', builtinTransformationBlock: { type: 'folder-to-project', path: '.', category: 'training' } }] });
    const src = new GatedSource(objects);
    await (src.release(), runPipeline(loadPipelineFile(file), { trigger: 'cli', sourceFactory: async () => src }));
    const ds = path.join(dir, 'dataset');
    objects.set('dogs/new.png', png(3));
    const gated = new GatedSource(objects);
    const running = runPipeline(loadPipelineFile(file), { trigger: 'cli', sourceFactory: async () => gated });
    await waitFor(() => gated.opened > 0, 'the run to start downloading');
    const before = snapshot(ds);
    await assert.rejects(relabelSamples(loadPipelineFile(file), { paths: ['.unlabeled/training/u.png'], label: 'cars' }), (e: Error) => e instanceof DatasetLockedError && /Cannot change labels now.*Nothing was changed/.test(e.message));
    assert.deepEqual(snapshot(ds), before);
    assert.ok(!fs.existsSync(overridesFile(ds)));
    gated.release();
    assert.equal((await running).counts.new, 1);
    const r = await relabelSamples(loadPipelineFile(file), { paths: ['.unlabeled/training/u.png'], label: 'cars' });
    assert.equal(r.changed[0].to.path, 'training/cars/u.png');
    assert.deepEqual(Object.keys(snapshot(ds)).sort(), ['info.labels', 'labels.txt', 'training/cars/a.png', 'training/cars/u.png', 'training/dogs/new.png']);
  });

  it('a run started while labeling holds the lock fails with DatasetLockedError; the dataset stays consistent', async () => {
    const { ds, file, loaded } = await setup();
    let blocked: Promise<unknown> | undefined;
    const start = () => runPipeline(loadPipelineFile(file), { trigger: 'cli' }).then(() => undefined, (e: unknown) => e);
    const logger = { info: () => (blocked ??= start()), warn: () => undefined, error: () => undefined, debug: () => undefined };
    const r = await relabelSamples(loaded(), { paths: ['training/cars/a.png', 'testing/cars/b.png'], label: 'trucks', logger });
    assert.equal(r.changed.length, 2);
    assert.ok((await blocked) instanceof DatasetLockedError, 'the run is refused');
    const files = info(ds).files.map((f) => `${f.path}=${f.label.label ?? '-'}`).sort();
    assert.deepEqual(files, ['.unlabeled/testing/u2.png=-', '.unlabeled/training/u1.png=-', 'testing/dogs/d.png=dogs', 'testing/trucks/b.png=trucks', 'training/dogs/c.png=dogs', 'training/trucks/a.png=trucks']);
    for (const f of info(ds).files) assert.ok(fs.existsSync(path.join(ds, f.path)), f.path);
    assert.equal(Object.keys(snapshot(ds)).length, 8);
    const after = await runPipeline(loadPipelineFile(file), { trigger: 'cli' });
    assert.equal(after.counts.unchanged, 6);
  });

  it('labeling while another process holds the lock fails, and works once it is released', async () => {
    const { ds, loaded } = await setup();
    const release = acquireLock(ds, 'other');
    try {
      await assert.rejects(relabelSamples(loaded(), { paths: ['training/cars/a.png'], label: 'x' }), DatasetLockedError);
    } finally {
      release();
    }
    assert.equal((await relabelSamples(loaded(), { paths: ['training/cars/a.png'], label: 'x' })).changed.length, 1);
  });
});

describe('CLI: label', function () {
  before(function () {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run "node esbuild.mjs" first`);
  });
  const cli = (args: string[], cwd?: string) => {
    const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('labels, unlabels and moves samples; --json; exit codes 0, 1, 2 and 4', async () => {
    const { ds, file, dir } = await setup();
    const j = cli(['label', file, '--label', 'birds', '.unlabeled/training/u1.png', '--json']);
    assert.equal(j.code, 0, j.stderr);
    const doc = JSON.parse(j.stdout);
    assert.equal(doc.changed[0].to.path, 'training/birds/u1.png');
    assert.deepEqual(doc.unchanged, []);
    // A path from the current directory into the dataset, and an absolute one.
    const h = cli(['label', file, '--unlabel', 'dataset/training/cars/a.png', path.join(ds, 'testing/cars/b.png')], dir);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /2 sample\(s\) changed/);
    assert.ok(fs.existsSync(path.join(ds, '.unlabeled/testing/b.png')));
    const m = cli(['label', file, '--category', 'validation', '--label', 'dogs', 'training/birds/u1.png', '--json']);
    assert.equal(m.code, 0, m.stderr);
    assert.deepEqual(JSON.parse(m.stdout).changed[0].to, { label: 'dogs', category: 'validation', path: 'validation/dogs/u1.png' });
    const p = cli(['preview', file]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /manual/);
    assert.match(p.stdout, /validation\s+dogs\s+1\s+1/);

    const before = snapshot(ds);
    assert.equal(cli(['label', file, '--label', 'x']).code, 2); // no PATH
    assert.equal(cli(['label', file, 'training/dogs/c.png']).code, 2); // nothing to change
    assert.equal(cli(['label', file, '--label', 'x', '--unlabel', 'training/dogs/c.png']).code, 2);
    assert.equal(cli(['label', file, '--category', 'elsewhere', 'training/dogs/c.png']).code, 2);
    const unknown = cli(['label', file, '--label', 'x', 'training/dogs/zzz.png']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Not a sample of this dataset: "training\/dogs\/zzz\.png"/);
    const hostile = cli(['label', file, '--label', '../x', 'training/dogs/c.png']);
    assert.equal(hostile.code, 1);
    assert.match(hostile.stderr, /cannot be a label/);
    const release = acquireLock(ds, 'other');
    try {
      const locked = cli(['label', file, '--label', 'x', 'training/dogs/c.png']);
      assert.equal(locked.code, 4);
      assert.match(locked.stderr, /Cannot change labels now/);
    } finally {
      release();
    }
    assert.deepEqual(snapshot(ds), before);
  });
});
