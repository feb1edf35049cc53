// The no-op memo (src/core/run/noopMemo.ts): a re-sync that finds every input as the last no-op
// left it reuses that run's step result without planning or reading the state; any change to any
// input plans in full, and the result is always the one a full plan gives.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { loadPipelineFile, runPipeline, type RunRecord, type Source, type SourceObject, type StepResult } from '../../src/core';
import { relabelSamples } from '../../src/core/dataset/relabel';
import { SyncState } from '../../src/core/dataset/state';
import { NOOP_REUSED } from '../../src/core/run/engine';
import { ListingDigest, memoInputs } from '../../src/core/run/noopMemo';
import { makePng } from '../../src/demo/images';
import { snapshot, tempDir, writePipeline } from './helpers';

const png = (seed: number) => makePng(4, 4, (x, y) => [seed % 256, x * 40, y * 40]);

class MemorySource implements Source {
  readonly kind = 'memory';
  readonly defaultConcurrency = 4;
  lists = 0;
  constructor(
    readonly id: string,
    public objects: Map<string, Buffer>,
  ) {}
  async *list(): AsyncIterable<SourceObject> {
    this.lists++;
    for (const [key, data] of [...this.objects].sort(([a], [b]) => (a < b ? -1 : 1))) yield { key, rel: key, size: data.length, version: `${data.length}:${data.toString('base64').slice(-8)}` };
  }
  async open(obj: SourceObject): Promise<NodeJS.ReadableStream> {
    return Readable.from([this.objects.get(obj.key)!]);
  }
  async verify() {
    return { ok: true, detail: 'memory', sampleFiles: [] };
  }
  explain(err: unknown) {
    return { code: 'memory', detail: String(err), kind: 'other' as const };
  }
}

/** What a step's result says, without its timing. */
const outcome = (s: StepResult) => {
  const { durationMs: _d, message: _m, ...rest } = s;
  return rest;
};

interface Harness {
  dir: string;
  file: string;
  sources: Map<string, MemorySource>;
  run(extra?: object): Promise<{ record: RunRecord; reused: string[]; stateLoads: number }>;
}

/** A pipeline of one import step per source (the memory sources by path), each run with its log and the state loads counted. */
function harness(sources: Record<string, Record<string, Buffer>>, block: object = {}): Harness {
  const dir = tempDir('dsp-memo-');
  const names = Object.keys(sources);
  for (const n of names) fs.mkdirSync(path.join(dir, n)); // the folder the step names must exist; the memory source stands in for it
  const file = writePipeline(dir, { name: 'M', steps: names.map((n) => ({ name: n, builtinTransformationBlock: { type: 'folder-to-project', path: n, ...block } })) });
  const map = new Map(names.map((n) => [n, new MemorySource(`memory:${n}`, new Map(Object.entries(sources[n])))]));
  return {
    dir,
    file,
    sources: map,
    async run(extra = {}) {
      const log: string[] = [];
      const logger = { info: (m: string) => log.push(m), warn: (m: string) => log.push(m), error: (m: string) => log.push(m), debug: () => {} };
      const load = SyncState.load;
      let stateLoads = 0;
      SyncState.load = (d: string) => (stateLoads++, load.call(SyncState, d));
      try {
        const record = await runPipeline(loadPipelineFile(file), { trigger: 'cli', logger, sourceFactory: async (b) => map.get((b as { path: string }).path)!, ...extra });
        const reused = log.filter((m) => /its plan stands/.test(m)).map((m) => /^\[([^\]]+)\]/.exec(m)![1]);
        return { record, reused, stateLoads };
      } finally {
        SyncState.load = load;
      }
    },
  };
}

/** A source with a little of everything the contract reports on: labels, a file at the root, a hidden file, an unsafe key, a case collision. */
const mixed = () => ({ 'cats/1.png': png(1), 'cats/2.png': png(2), 'dogs/3.png': png(3), 'dogs/4.png': png(4), 'Dogs/4.png': png(5), 'top.png': png(6), '.hidden/x.png': png(7), 'bad/../escape.png': png(8), 'notes.xyz': png(9) });

describe('no-op memo: a re-sync with nothing changed reuses the last no-op', () => {
  it('the second no-op reuses the first one\'s result, reads no state, and says so; the result is the full plan\'s', async () => {
    const h = harness({ src: mixed() });
    const first = await h.run();
    assert.equal(first.record.status, 'partial', 'the unsafe key, the hidden file and the unknown type are reported');
    assert.ok(first.record.counts.new >= 6, JSON.stringify(first.record.counts));
    const full = await h.run();
    assert.deepEqual(full.reused, [], 'the first no-op plans in full');
    assert.equal(full.stateLoads, 1);
    assert.ok(fs.existsSync(path.join(h.dir, 'dataset', '.dsp', 'noop.json')), 'and records the memo');
    const again = await h.run();
    assert.deepEqual(again.reused, ['src']);
    assert.equal(again.stateLoads, 0, 'nothing read the state');
    assert.equal(again.record.steps[0].message, NOOP_REUSED, 'the run record says why');
    assert.equal(full.record.steps[0].message, undefined);
    assert.equal(again.record.status, 'partial');
    assert.deepEqual(outcome(again.record.steps[0]), outcome(full.record.steps[0]), 'the same counts, labels, warnings and problems as the full plan');
    assert.ok(full.record.steps[0].warnings.length >= 3, `the fixture gives warnings to compare: ${full.record.steps[0].warnings.join(' | ')}`);
    assert.deepEqual(again.record.counts, full.record.counts);
    const third = await h.run();
    assert.deepEqual(third.reused, ['src'], 'and keeps reusing it');
    const memo = JSON.parse(fs.readFileSync(path.join(h.dir, 'dataset', '.dsp', 'noop.json'), 'utf8'));
    assert.ok(!JSON.stringify(memo).includes('cats/1.png'), 'digests and the result (its problems), not the listing');
  });

  it('credentials are no part of the settings digest, and reach no memo', () => {
    const dir = tempDir('dsp-memo-');
    fs.mkdirSync(path.join(dir, '.dsp'));
    fs.writeFileSync(path.join(dir, '.dsp', 'folders.json'), '{}');
    const s3 = { type: 's3-to-project' as const, path: 's3://b/p/', accessKey: 'AKIAEXAMPLE', secretKey: 'wJalrXUtnFEMI/K7MDENG' };
    const a = memoInputs(dir, 'import', 's3:b', s3, 'L')!;
    assert.equal(memoInputs(dir, 'import', 's3:b', { ...s3, secretKey: 'another', sessionToken: 'tok', profile: 'p' }, 'L')!.settings, a.settings);
    assert.notEqual(memoInputs(dir, 'import', 's3:b', { ...s3, labelStrategy: 'keep-unlabeled' }, 'L')!.settings, a.settings);
    assert.notEqual(memoInputs(dir, 'import', 's3:b', { ...s3, path: 's3://b/q/' }, 'L')!.settings, a.settings);
    assert.equal(memoInputs(path.join(dir, 'nowhere'), 'import', 's3:b', s3, 'L'), undefined, 'no folder record: plan in full');
    assert.ok(!JSON.stringify(a).includes('wJalrXUtnFEMI') && !JSON.stringify(a).includes('AKIAEXAMPLE'));
  });

  it('the listing digest tells apart listings no simple join would', () => {
    const d = (objs: Partial<SourceObject>[]) => {
      const g = new ListingDigest();
      for (const o of objs) g.add({ key: '', rel: '', size: 0, version: '', ...o });
      return g.digest();
    };
    assert.equal(d([{ key: 'a', version: 'v' }]), d([{ key: 'a', version: 'v' }]));
    assert.notEqual(d([{ key: 'ab', version: 'c' }]), d([{ key: 'a', version: 'bc' }]));
    assert.notEqual(d([{ key: 'a' }, { key: 'b' }]), d([{ key: 'b' }, { key: 'a' }]), 'order counts (it decides collisions)');
    assert.notEqual(d([{ key: 'a', size: 1 }]), d([{ key: 'a', size: 2 }]));
    assert.notEqual(d([{ key: 'a' }]), d([{ key: 'a', note: 'escaped' }]));
    assert.notEqual(d([{ key: 'a' }]), d([{ key: 'a', unreadable: 'a FIFO' }]));
    assert.notEqual(d([{ key: 'a', md5: 'x' }]), d([{ key: 'a' }]));
  });

  const changes: [string, (h: Harness) => void | Promise<void>, (r: RunRecord, h: Harness) => void][] = [
    ['an object added to the source', (h) => void h.sources.get('src')!.objects.set('cats/9.png', png(90)), (r) => assert.equal(r.counts.new, 1)],
    ['an object changed in the source', (h) => void h.sources.get('src')!.objects.set('cats/1.png', png(91)), (r) => assert.equal(r.counts.changed, 1)],
    ['an object removed from the source', (h) => void h.sources.get('src')!.objects.delete('cats/2.png'), (r) => assert.equal(r.counts.removed, 1)],
    [
      'a sample deleted from the dataset folder',
      (h) => fs.rmSync(path.join(h.dir, 'dataset', samplePathOf(h, 'cats/1.png'))),
      (r, h) => {
        assert.equal(r.counts.changed, 1, 'fetched again');
        assert.ok(fs.existsSync(path.join(h.dir, 'dataset', samplePathOf(h, 'cats/1.png'))));
      },
    ],
    [
      'a label a person gave',
      async (h) => void (await relabelSamples(loadPipelineFile(h.file), { paths: [samplePathOf(h, 'dogs/3.png')], label: 'cats' })),
      (r, h) => assert.match(samplePathOf(h, 'dogs/3.png'), /\/cats\//),
    ],
    [
      "the step's settings",
      (h) => {
        const doc = JSON.parse(fs.readFileSync(h.file, 'utf8'));
        doc.steps[0].builtinTransformationBlock.labelStrategy = 'keep-unlabeled';
        fs.writeFileSync(h.file, JSON.stringify(doc));
      },
      (r) => assert.ok(r.counts.changed >= 5, JSON.stringify(r.counts)),
    ],
    [
      'the sync state, written by something else',
      (h) => {
        const s = SyncState.load(path.join(h.dir, 'dataset'));
        const e = s.get('memory:src', 'cats/1.png')!;
        s.set({ ...e, size: e.size + 1 });
        s.compact();
      },
      (r) => assert.equal(r.counts.changed, 1, 'the entry no longer matches the listing: fetched again'),
    ],
  ];
  for (const [what, change, check] of changes) {
    it(`plans in full after a change: ${what}`, async () => {
      const h = harness({ src: mixed() });
      await h.run();
      await h.run();
      assert.deepEqual((await h.run()).reused, ['src'], 'the memo is in use before the change');
      await change(h);
      const r = await h.run();
      assert.deepEqual(r.reused, [], 'planned in full');
      assert.equal(r.stateLoads, 1);
      check(r.record, h);
      // The dataset is the one a fresh sync of the same source gives.
      const { type: _t, path: _p, ...settings } = JSON.parse(fs.readFileSync(h.file, 'utf8')).steps[0].builtinTransformationBlock;
      const fresh = harness({ src: Object.fromEntries(h.sources.get('src')!.objects) }, settings);
      await fresh.run();
      // (Not after a relabel, a removal or new settings: a synced sample keeps its category, and the person's label stands.)
      if (!/label a person gave|removed|settings/.test(what)) assert.deepEqual(snapshot(path.join(h.dir, 'dataset')), snapshot(path.join(fresh.dir, 'dataset')));
    });
  }

  it('--verify-local always plans in full, and finds a file rewritten in place', async () => {
    const h = harness({ src: mixed() });
    await h.run();
    await h.run();
    const p = path.join(h.dir, 'dataset', samplePathOf(h, 'cats/1.png'));
    fs.writeFileSync(p, Buffer.concat([fs.readFileSync(p), Buffer.from('x')])); // same folder, so its time does not move
    assert.deepEqual((await h.run()).reused, ['src'], 'a rewrite in place is what only --verify-local sees');
    const r = await h.run({ verifyLocal: true });
    assert.deepEqual(r.reused, []);
    assert.equal(r.record.counts.changed, 1);
    assert.deepEqual(fs.readFileSync(p), png(1));
  });

  it('a damaged or foreign memo file plans in full and is replaced', async () => {
    const h = harness({ src: mixed() });
    await h.run();
    await h.run();
    const memo = path.join(h.dir, 'dataset', '.dsp', 'noop.json');
    for (const junk of ['{not json', JSON.stringify({ format: 99, steps: {} }), JSON.stringify({ format: 1, steps: { src: { inputs: null, result: {} } } })]) {
      fs.writeFileSync(memo, junk);
      const r = await h.run();
      assert.deepEqual(r.reused, [], junk);
      assert.equal(r.record.status, 'partial');
      assert.equal(r.record.counts.unchanged, (await h.run()).record.counts.unchanged);
    }
  });

  it('a run of one step (--step) keeps the other steps\' memo', async () => {
    const h = harness({ a: { 'x/1.png': png(1), 'y/2.png': png(2) }, b: { 'x/3.png': png(3), 'y/4.png': png(4) } });
    await h.run();
    await h.run();
    assert.deepEqual((await h.run({ steps: ['b'] })).reused, ['b']);
    assert.deepEqual((await h.run()).reused, ['a', 'b']);
  });

  it('two import steps: a change in the first source plans both in full; one in the second reuses the first', async () => {
    const h = harness({ a: { 'x/1.png': png(1), 'y/2.png': png(2) }, b: { 'x/3.png': png(3), 'y/4.png': png(4) } });
    await h.run();
    await h.run();
    assert.deepEqual((await h.run()).reused, ['a', 'b']);
    h.sources.get('b')!.objects.set('x/5.png', png(5));
    const r1 = await h.run();
    assert.deepEqual(r1.reused, ['a'], 'the first step is as it was');
    assert.equal(r1.record.counts.new, 1);
    await h.run(); // the no-op that records both again
    h.sources.get('a')!.objects.set('y/6.png', png(6));
    const r2 = await h.run();
    assert.deepEqual(r2.reused, [], 'the first step changed the state, so the second plans in full against it');
    assert.equal(r2.record.counts.new, 1);
    assert.equal(r2.record.counts.unchanged, 5);
  });
});

/** Where the dataset holds a key's sample, from the state. */
function samplePathOf(h: Harness, key: string): string {
  return SyncState.load(path.join(h.dir, 'dataset')).get('memory:src', key)!.path!;
}
