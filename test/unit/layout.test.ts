// The layout that loads right everywhere: free collision suffixes, names safe on Windows, label
// folders shared by every category, balanced rare labels, validation, moves instead of downloads,
// and no empty label folder left behind.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { loadPipelineFile, runPipeline, type Source, type SourceObject } from '../../src/core';
import { shortHash, windowsSafeName } from '../../src/core/dataset/layout';
import { SyncState } from '../../src/core/dataset/state';
import { planStep } from '../../src/core/run/plan';
import type { FolderBlock } from '../../src/core/pipeline/model';
import type { PlanItem, SourceObject as Obj } from '../../src/core/types';
import { makePng } from '../../src/demo/images';
import { snapshot, tempDir, writeFiles, writePipeline } from './helpers';

const obj = (rel: string, size = 10, version = 'v1'): Obj => ({ key: rel, rel, size, version });
const block = (extra: Partial<FolderBlock> = {}): FolderBlock => ({ type: 'folder-to-project', path: '.', ...extra });
const plan = (keys: string[], extra: Partial<FolderBlock> = {}, state?: SyncState) =>
  planStep(keys.map((k) => obj(k)), { sourceId: 'test:src', step: 's', type: 'folder-to-project', block: block(extra), state });
const byKey = (items: PlanItem[], key: string) => {
  const it = items.find((i) => i.key === key);
  assert.ok(it, `no item for ${key}`);
  return it;
};
const png = (seed: number) => makePng(4, 4, (x, y) => [seed % 256, (x * 40 + seed) % 256, y * 40]);
// eslint-disable-next-line no-control-regex
const WINDOWS_UNSAFE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$|[<>:"|?*\u0000-\u001f]|[. ]$/i;

/** A source whose keys are whatever the test says. */
class MemorySource implements Source {
  readonly kind = 'memory';
  readonly id = 'memory:layout';
  readonly defaultConcurrency = 4;
  opens = 0;
  constructor(public objects: Map<string, Buffer>) {}
  async *list(): AsyncIterable<SourceObject> {
    for (const [key, data] of this.objects) yield { key, rel: key, size: data.length, version: `${data.length}:${data[data.length - 1]}:${data[20]}` };
  }
  async open(o: SourceObject): Promise<NodeJS.ReadableStream> {
    this.opens++;
    return Readable.from([this.objects.get(o.key)!]);
  }
  async verify() {
    return { ok: true, detail: 'memory', sampleFiles: [] };
  }
  explain(err: unknown) {
    return { code: 'memory', detail: String(err), kind: 'other' as const };
  }
}

function memoryRun(dir: string, source: MemorySource, extra: object = {}) {
  const file = writePipeline(dir, { name: 'M', steps: [{ name: 'import', builtinTransformationBlock: { type: 's3-to-project', path: 's3://b/', ...extra } }] });
  return runPipeline(loadPipelineFile(file), { trigger: 'cli', sourceFactory: async () => source });
}

describe('layout: collision suffixes are claimed only when free', () => {
  it('a crafted key holding another key\'s suffix name does not lose a sample', async () => {
    const dir = tempDir();
    const crafted = `cars/b~${shortHash('cars/b.jpg'.replace('b.jpg', 'b.jpg'))}.png`;
    const src = new MemorySource(new Map([[`training/${crafted}`, png(1)]]));
    await memoryRun(dir, src);
    // Now two keys that collide with each other; the later one's natural suffix is the crafted name.
    src.objects.set('training/cars/B.png', png(2));
    src.objects.set('training/cars/b.png', png(3));
    const crafted2 = `training/cars/b~${shortHash('training/cars/b.png')}.png`;
    src.objects.set(crafted2, png(4));
    const r = await memoryRun(dir, src);
    assert.equal(r.status, 'success');
    const state = SyncState.load(path.join(dir, 'dataset'));
    const synced = [...state.all()].filter((e) => e.status === 'synced');
    assert.equal(synced.length, 4);
    const paths = synced.map((e) => e.path!.toLowerCase());
    assert.equal(new Set(paths).size, 4, `two objects share a path: ${paths.join(', ')}`);
    const files = Object.keys(snapshot(path.join(dir, 'dataset'))).filter((f) => f.endsWith('.png'));
    assert.equal(files.length, 4);
    // And the next run reports nothing as a duplicate.
    const again = await memoryRun(dir, src);
    assert.equal(again.counts.duplicate, 0);
    assert.equal(again.counts.unchanged, 4);
  });
});

describe('layout: names that are not valid on Windows', () => {
  it('map stably to safe names', () => {
    assert.equal(windowsSafeName('CON.jpg'), 'CON_.jpg');
    assert.equal(windowsSafeName('nul.jpg'), 'nul_.jpg');
    assert.equal(windowsSafeName('aux'), 'aux_');
    assert.equal(windowsSafeName('com1.png'), 'com1_.png');
    assert.equal(windowsSafeName('x:stream.jpg'), 'x_stream.jpg');
    assert.equal(windowsSafeName('a<b>c|d"e?f*.jpg'), 'a_b_c_d_e_f_.jpg');
    assert.equal(windowsSafeName('cars.'), 'cars_');
    assert.equal(windowsSafeName('cars '), 'cars_');
    assert.equal(windowsSafeName('console.jpg'), 'console.jpg');
    assert.equal(windowsSafeName('cars.01.jpg'), 'cars.01.jpg');
  });

  it('no stored file or folder is unsafe, labels that Windows would merge get their own folders, and each rename is reported', () => {
    const keys = ['CON/a.jpg', 'cars/NUL.jpg', 'cars/aux.jpg', 'cars/com1.png', 'cars/x:stream.jpg', 'cars/<>|"?*.jpg', 'cars./b.jpg', 'cars /c.jpg', 'cars/d.jpg', 'Cars/e.jpg', 'dogs/f.jpg'];
    const p = plan(keys, { category: 'training' });
    const paths = p.items.map((i) => i.path!);
    for (const x of paths) for (const seg of x.split('/')) assert.doesNotMatch(seg, WINDOWS_UNSAFE, `unsafe segment in ${x}`);
    const folderOf = (k: string) => byKey(p.items, k).path!.split('/')[1];
    const folders = ['cars./b.jpg', 'cars /c.jpg', 'cars/d.jpg', 'Cars/e.jpg'].map(folderOf);
    assert.equal(new Set(folders.map((f) => f.toLowerCase())).size, 4, `labels share a folder: ${folders.join(', ')}`);
    assert.equal(byKey(p.items, 'cars./b.jpg').label, 'cars.', 'the label itself is kept');
    assert.ok(byKey(p.items, 'cars/NUL.jpg').warnings?.some((w) => /not valid on every platform/.test(w)));
    assert.ok(byKey(p.items, 'CON/a.jpg').warnings?.some((w) => /folder CON_/.test(w)));
  });
});

describe('layout: every category has every label', () => {
  it('a label with two samples gets one in training and one in testing, whatever the hash says', () => {
    // Find two keys that both hash to training.
    const keys: string[] = [];
    for (let i = 0; keys.length < 2; i++) if (plan([`bird/${i}.jpg`]).items[0].category === 'training') keys.push(`bird/${i}.jpg`);
    const many = Array.from({ length: 20 }, (_, i) => `cars/${i}.jpg`);
    const p = plan([...keys, ...many]);
    const cats = keys.map((k) => byKey(p.items, k).category).sort();
    assert.deepEqual(cats, ['testing', 'training']);
    const carCats = new Set(many.map((k) => byKey(p.items, k).category));
    assert.deepEqual([...carCats].sort(), ['testing', 'training']);
  });

  it('with a validation share, a label with three samples gets one in each', () => {
    const shares = { training: 0.8, validation: 0.1, testing: 0.1 };
    const p = plan(['bird/1.jpg', 'bird/2.jpg', 'bird/3.jpg'], { splitRatio: shares });
    assert.deepEqual(p.items.map((i) => i.category).sort(), ['testing', 'training', 'validation']);
    assert.ok(p.items.every((i) => i.path!.startsWith(`${i.category}/bird/`)));
  });

  it('a validation/ folder in the source and category "validation" land in <dataset>/validation/<label>/', () => {
    assert.equal(plan(['validation/cars/a.jpg']).items[0].path, 'validation/cars/a.jpg');
    assert.equal(plan(['cars/a.jpg'], { category: 'validation' }).items[0].path, 'validation/cars/a.jpg');
  });

  it('is stable: a synced sample never changes category when others arrive', async () => {
    const dir = tempDir();
    const src = new MemorySource(new Map([['bird/1.png', png(1)]]));
    await memoryRun(dir, src);
    const first = SyncState.load(path.join(dir, 'dataset')).get('memory:layout', 'bird/1.png')!.category;
    src.objects.set('bird/2.png', png(2));
    for (let i = 0; i < 10; i++) src.objects.set(`cars/${i}.png`, png(10 + i));
    await memoryRun(dir, src);
    const state = SyncState.load(path.join(dir, 'dataset'));
    assert.equal(state.get('memory:layout', 'bird/1.png')!.category, first);
    assert.notEqual(state.get('memory:layout', 'bird/2.png')!.category, first, 'the second bird went to the other category');
  });
});

describe('layout: an existing dataset moves, nothing is downloaded again', () => {
  it('unlabeled samples in the old unlabeled/<category>/ move to .unlabeled/<category>/ by rename', async () => {
    const dir = tempDir();
    const src = new MemorySource(new Map([['unlabeled/u1.png', png(1)], ['cars/a.png', png(2)], ['dogs/b.png', png(3)]]));
    await memoryRun(dir, src);
    const ds = path.join(dir, 'dataset');
    // Rewrite the dataset into the old layout, as an older version left it.
    const state = SyncState.load(ds);
    const e = state.get('memory:layout', 'unlabeled/u1.png')!;
    const old = `unlabeled/${e.category}/u1.png`;
    fs.mkdirSync(path.join(ds, 'unlabeled', e.category!), { recursive: true });
    fs.renameSync(path.join(ds, e.path!), path.join(ds, old));
    fs.rmSync(path.join(ds, '.unlabeled'), { recursive: true });
    state.set({ ...e, path: old });
    state.compact();
    const opensBefore = src.opens;
    const r = await memoryRun(dir, src);
    assert.equal(src.opens, opensBefore, 'nothing was fetched again');
    assert.equal(r.counts.changed, 1);
    assert.ok(fs.existsSync(path.join(ds, '.unlabeled', e.category!, 'u1.png')));
    assert.ok(!fs.existsSync(path.join(ds, 'unlabeled')), 'the old folder is gone');
    assert.equal(SyncState.load(ds).get('memory:layout', 'unlabeled/u1.png')!.path, `.unlabeled/${e.category}/u1.png`);
  });
});

describe('layout: no empty label folder is left behind', () => {
  it('deleteRemoved removes the folder of a label that lost its last sample', async () => {
    const dir = tempDir();
    writeFiles(path.join(dir, 'src'), { 'training/cars/a.png': png(1), 'training/bird/b.png': png(2), 'testing/cars/c.png': png(3) });
    const file = writePipeline(dir, { name: 'T', steps: [{ name: 'import', builtinTransformationBlock: { type: 'folder-to-project', path: 'src', deleteRemoved: true } }] });
    await runPipeline(loadPipelineFile(file), { trigger: 'cli' });
    assert.ok(fs.existsSync(path.join(dir, 'dataset', 'training', 'bird')));
    fs.rmSync(path.join(dir, 'src', 'training', 'bird'), { recursive: true });
    await runPipeline(loadPipelineFile(file), { trigger: 'cli' });
    assert.ok(!fs.existsSync(path.join(dir, 'dataset', 'training', 'bird')), 'the empty label folder is removed');
    assert.ok(fs.existsSync(path.join(dir, 'dataset', 'training', 'cars', 'a.png')));
  });
});

describe('layout: what a source holds but is not a sample', () => {
  it('Edge Impulse\'s info.labels and bounding_boxes.labels are never imported as samples', () => {
    const p = plan(['info.labels', 'training/bounding_boxes.labels', 'cars/a.jpg', 'dogs/b.jpg']);
    for (const k of ['info.labels', 'training/bounding_boxes.labels']) {
      const it = byKey(p.items, k);
      assert.equal(it.action, 'skip');
      assert.match(it.reason!, /Edge Impulse labels file/);
    }
  });

  it('an entry the source could not read is reported with its reason', () => {
    const p = planStep([{ ...obj('cars/pipe'), unreadable: 'a FIFO (named pipe), not a file' }, obj('cars/a.jpg')], { sourceId: 's', step: 's', type: 'folder-to-project', block: block() });
    const it = byKey(p.items, 'cars/pipe');
    assert.equal(it.status, 'rejected');
    assert.match(it.reason!, /FIFO/);
  });
});
