// The transfer loop's named parts: the planner decides what a missing local file means (the
// preview shows it before anything runs), one content index finds duplicates for planner and
// executor alike, and the queue retries, adapts to throttling and stops on cancellation.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadPipelineFile, previewPipeline, runPipeline } from '../../src/core';
import { ContentIndex, ownerId, PathClaims } from '../../src/core/dataset/identity';
import { AdaptiveLimit, runTransferQueue } from '../../src/core/run/transfer/queue';
import { RetryableError } from '../../src/core/util/retry';
import { SourceError } from '../../src/core/sources/errors';
import type { Source, SourceObject } from '../../src/core/types';
import { Readable } from 'node:stream';
import { makePng } from '../../src/demo/images';
import { snapshot, tempDir, writeFiles, writePipeline } from './helpers';

const png = (seed: number) => makePng(4, 4, (x, y) => [seed % 256, x * 40, y * 40]);

function folderPipeline(dir: string, block: object = {}) {
  return writePipeline(dir, { name: 'T', steps: [{ name: 'import', builtinTransformationBlock: { type: 'folder-to-project', path: 'src', ...block } }] });
}

describe('transfer: the planner makes every decision', () => {
  it('a sample whose file was deleted by hand is a download in the preview, with the reason', async () => {
    const dir = tempDir();
    writeFiles(path.join(dir, 'src'), { 'cars/a.png': png(1), 'dogs/b.png': png(2) });
    const file = folderPipeline(dir);
    await runPipeline(loadPipelineFile(file), { trigger: 'cli' });
    const before = snapshot(path.join(dir, 'dataset'));
    const victim = Object.keys(before).find((p) => p.endsWith('a.png'))!;
    fs.rmSync(path.join(dir, 'dataset', victim));
    const [preview] = await previewPipeline(loadPipelineFile(file));
    const item = preview.items.find((i) => i.key.endsWith('a.png'))!;
    assert.deepEqual([item.status, item.action, item.reason], ['changed', 'download', 'the local file was missing']);
    assert.equal(preview.counts.changed, 1);
    assert.equal(preview.counts.unchanged, 1);
    const run = await runPipeline(loadPipelineFile(file), { trigger: 'cli' });
    assert.equal(run.counts.changed, 1);
    assert.deepEqual(snapshot(path.join(dir, 'dataset')), before);
  });

  it('a no-op stats folders, not files: a file rewritten in place is seen only with --verify-local; a deleted one always', async () => {
    const dir = tempDir();
    writeFiles(path.join(dir, 'src'), { 'cars/a.png': png(1), 'cars/c.png': png(3), 'dogs/b.png': png(2) });
    const file = folderPipeline(dir);
    await runPipeline(loadPipelineFile(file), { trigger: 'cli' });
    assert.ok(fs.existsSync(path.join(dir, 'dataset', '.dsp', 'folders.json')), 'the folders are recorded after the sync');
    const stored = Object.keys(snapshot(path.join(dir, 'dataset'))).filter((p) => p.endsWith('.png'));
    const [rewritten, deleted] = [stored.find((p) => p.endsWith('a.png'))!, stored.find((p) => p.endsWith('b.png'))!];
    // Rewritten in place: the folder's entries (and so its time) do not change.
    fs.writeFileSync(path.join(dir, 'dataset', rewritten), 'not a png any more');
    const quick = (await previewPipeline(loadPipelineFile(file)))[0];
    assert.equal(quick.items.find((i) => i.key.endsWith('a.png'))!.status, 'unchanged', 'the state vouches for it, and its folder did not move');
    const checked = (await previewPipeline(loadPipelineFile(file), { verifyLocal: true }))[0];
    assert.deepEqual([checked.items.find((i) => i.key.endsWith('a.png'))!.action, checked.counts.changed], ['download', 1], 'a stat per file finds the size changed');
    // Deleted: its folder's time moves, so that one folder is read again without being asked.
    fs.rmSync(path.join(dir, 'dataset', deleted));
    const after = (await previewPipeline(loadPipelineFile(file)))[0];
    assert.equal(after.items.find((i) => i.key.endsWith('b.png'))!.reason, 'the local file was missing');
    assert.equal(after.items.find((i) => i.key.endsWith('c.png'))!.status, 'unchanged');
    const run = await runPipeline(loadPipelineFile(file), { trigger: 'cli', verifyLocal: true });
    assert.equal(run.counts.changed, 2, 'both fetched again');
    assert.ok(fs.readFileSync(path.join(dir, 'dataset', rewritten)).equals(png(1)));
  });

  it('a relabel whose stored file is gone is planned as a download, not a move', async () => {
    const dir = tempDir();
    writeFiles(path.join(dir, 'src'), { 'cars/a.png': png(1), 'dogs/b.png': png(2) });
    const file = folderPipeline(dir);
    await runPipeline(loadPipelineFile(file), { trigger: 'cli' });
    const stored = Object.keys(snapshot(path.join(dir, 'dataset'))).find((p) => p.endsWith('a.png'))!;
    fs.rmSync(path.join(dir, 'dataset', stored));
    const file2 = folderPipeline(dir, { label: 'vehicle', labelStrategy: 'keep-unlabeled' });
    const [preview] = await previewPipeline(loadPipelineFile(file2));
    const item = preview.items.find((i) => i.key.endsWith('a.png'))!;
    assert.equal(item.action, 'download');
    assert.match(item.reason ?? '', /was missing/);
    const moved = preview.items.find((i) => i.key.endsWith('b.png'))!;
    assert.equal(moved.action, 'move', 'the sample whose file is there is only renamed');
  });
});

describe('transfer: one content index for duplicates', () => {
  const entry = (key: string, hash: string, p: string) => ({ source: 's', key, version: '1', size: 1, hash, path: p, label: 'x', category: 'training' as const, status: 'synced' as const, syncedAt: '' });

  it('a sample is never a duplicate of its own content, even at a new path', () => {
    const index = ContentIndex.fromState({ all: () => [entry('a', 'h1', 'training/x/a.png')] });
    assert.equal(index.duplicateOf('h1', ownerId('s', 'a')), undefined);
    assert.deepEqual(index.duplicateOf('h1', ownerId('s', 'b')), { owner: ownerId('s', 'a'), path: 'training/x/a.png' });
    assert.equal(index.duplicateOf(undefined, ownerId('s', 'b')), undefined, 'no declared hash: nothing to compare before the fetch');
  });

  it('a claim that does not land gives the content back to its earlier holder', () => {
    const index = ContentIndex.fromState({ all: () => [entry('a', 'h1', 'training/x/a.png')] });
    const undo = index.claim('h1', ownerId('s', 'b'), 'training/x/b.png');
    assert.equal(index.duplicateOf('h1', ownerId('s', 'c'))?.owner, ownerId('s', 'b'));
    undo();
    assert.equal(index.duplicateOf('h1', ownerId('s', 'c'))?.owner, ownerId('s', 'a'));
    index.release('h1', ownerId('s', 'a'));
    assert.equal(index.duplicateOf('h1', ownerId('s', 'c')), undefined);
  });

  it('path claims fold case, so two keys never share a path on a case-insensitive disk', () => {
    const claims = PathClaims.fromState({ all: () => [entry('a', 'h1', 'training/x/A.png')] });
    assert.equal(claims.claimIfFree('training/x/a.png', ownerId('s', 'b')), ownerId('s', 'a'));
    assert.equal(claims.claimIfFree('training/x/a.png', ownerId('s', 'a')), undefined);
  });
});

describe('transfer: the queue', () => {
  const signal = () => new AbortController().signal;

  /** Drives a limit with a clock: each round of `current` completions takes `roundMs(current)`. */
  const drive = (l: AdaptiveLimit, clock: { t: number }, rounds: number, roundMs: (inFlight: number) => number) => {
    const seen: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const n = l.current;
      const ms = roundMs(n);
      clock.t += ms;
      for (let i = 0; i < n; i++) l.succeeded(ms); // all in flight together: each took the round
      seen.push(l.current);
    }
    return seen;
  };

  it('a store far away: the limit doubles while throughput grows, up to the cap (slow start)', () => {
    const clock = { t: 0 };
    const l = new AdaptiveLimit(512, 32, () => clock.t);
    // 20 ms a request whatever the number in flight: throughput grows with the limit.
    assert.deepEqual(drive(l, clock, 6, () => 20), [64, 128, 256, 512, 512, 512]);
  });

  it('a store where the CPU is the limit: the limit stops growing once more requests buy nothing', () => {
    const clock = { t: 0 };
    const l = new AdaptiveLimit(512, 32, () => clock.t);
    // Throughput saturates at 40 in flight: a round of n takes n / 40 ms above that, each request waiting on the others.
    const seen = drive(l, clock, 10, (n) => Math.max(1, n / 40));
    assert.ok(seen[seen.length - 1] <= 128, `held at ${seen.join(', ')}`);
    assert.equal(new Set(seen.slice(-5)).size, 1, `it holds: ${seen.join(', ')}`);
  });

  it('halves the limit on throttling, and climbs back while throughput grows (AIMD)', () => {
    const clock = { t: 0 };
    const l = new AdaptiveLimit(8, 8, () => clock.t);
    l.throttled();
    assert.equal(l.current, 4);
    l.throttled();
    l.throttled();
    l.throttled();
    assert.equal(l.current, 1, 'never below one');
    const seen = drive(l, clock, 20, () => 10);
    assert.deepEqual(seen.slice(0, 3), [2, 3, 4], 'additive after a throttle');
    assert.equal(l.current, 8, 'never above the cap');
  });

  it('a pinned limit (--concurrency) never grows past its number', async () => {
    let inFlight = 0;
    let most = 0;
    await runTransferQueue(Array.from({ length: 200 }, (_, i) => i), {
      concurrency: 3,
      maxAttempts: 1,
      signal: signal(),
      fetch: async (n) => {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        return n;
      },
      store: async () => {},
      giveUp: () => assert.fail('nothing fails'),
    });
    assert.equal(most, 3);
  });

  it('retries a retryable failure, gives up after the last attempt, and stores every other item once', async () => {
    const tries = new Map<number, number>();
    const stored: number[] = [];
    const gaveUp: string[] = [];
    await runTransferQueue([1, 2, 3, 4, 5], {
      concurrency: 2,
      maxAttempts: 3,
      signal: signal(),
      fetch: async (n) => {
        tries.set(n, (tries.get(n) ?? 0) + 1);
        if (n === 2 && tries.get(n)! < 2) throw new RetryableError('reset');
        if (n === 4) throw new RetryableError('always');
        if (n === 5) throw new Error('not found');
        return n * 10;
      },
      store: async (n, f) => void stored.push(f + n),
      giveUp: (n, err, stage) => void gaveUp.push(`${n}:${stage}:${(err as Error).message}`),
    });
    assert.deepEqual(stored.sort((a, b) => a - b), [11, 22, 33]);
    assert.deepEqual([tries.get(2), tries.get(4), tries.get(5)], [2, 3, 1], 'a final error is not retried');
    assert.deepEqual(gaveUp.sort(), ['4:fetch:always', '5:fetch:not found']);
  });

  it('a store that throws fails that item only', async () => {
    const gaveUp: string[] = [];
    const stored: number[] = [];
    await runTransferQueue([1, 2], {
      concurrency: 4,
      maxAttempts: 1,
      signal: signal(),
      fetch: async (n) => n,
      store: async (n) => {
        if (n === 1) throw new Error('disk full');
        stored.push(n);
      },
      giveUp: (n, err, stage) => void gaveUp.push(`${n}:${stage}:${(err as Error).message}`),
    });
    assert.deepEqual(stored, [2]);
    assert.deepEqual(gaveUp, ['1:store:disk full']);
  });

  it('stops taking items on cancellation and resolves once the transfers in flight end', async () => {
    const ac = new AbortController();
    const started: number[] = [];
    await runTransferQueue([1, 2, 3, 4, 5, 6], {
      concurrency: 2,
      maxAttempts: 5,
      signal: ac.signal,
      fetch: async (n) => {
        started.push(n);
        if (n === 2) ac.abort();
        return n;
      },
      store: async () => {},
      giveUp: () => assert.fail('nothing fails'),
    });
    assert.ok(started.length <= 3, `started ${started.join(', ')} after the abort`);
  });
});

/** A store whose objects fail as the test says, by key. */
function failingSource(objects: Record<string, Buffer>, fail: Record<string, () => Error>): Source & { opened: string[] } {
  const opened: string[] = [];
  return {
    kind: 'memory',
    id: 'memory:failing',
    defaultConcurrency: 1,
    opened,
    async *list(): AsyncIterable<SourceObject> {
      for (const [key, data] of Object.entries(objects)) yield { key, rel: key, size: data.length, version: String(data[0]) };
    },
    async open(obj: SourceObject) {
      opened.push(obj.key);
      const f = fail[obj.key];
      if (f) throw f();
      return Readable.from([objects[obj.key]]);
    },
    async verify() {
      return { ok: true, detail: 'memory', sampleFiles: [] };
    },
    explain: (err: unknown) => ({ code: 'x', detail: String(err), kind: 'other' as const }),
  } as Source & { opened: string[] };
}

describe('transfer: the executor reads the SourceError kind', () => {
  it('an object deleted since the listing is reported, not an error; the rest land', async () => {
    const dir = tempDir();
    const file = folderPipeline(dir);
    fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
    const source = failingSource({ 'cars/a.png': png(1), 'cars/b.png': png(2), 'dogs/c.png': png(3) }, { 'cars/b.png': () => new SourceError('The object is gone.', 'NoSuchKey', 404) });
    const run = await runPipeline(loadPipelineFile(file), { trigger: 'cli', sourceFactory: async () => source });
    assert.equal(run.status, 'success');
    assert.equal(run.counts.new, 2);
    assert.equal(run.counts.skipped, 1);
    assert.match(run.steps[0].problems.find((p) => p.key === 'cars/b.png')!.reason, /gone from the source since it was listed/);
  });

  it('credentials refused mid-run stop the remaining transfers with one clear error', async () => {
    const dir = tempDir();
    const file = folderPipeline(dir);
    fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
    const objects: Record<string, Buffer> = {};
    for (let i = 0; i < 20; i++) objects[`cars/${String(i).padStart(2, '0')}.png`] = png(i);
    const source = failingSource(objects, { 'cars/03.png': () => new SourceError('The token expired.', 'ExpiredToken', 400) });
    const run = await runPipeline(loadPipelineFile(file), { trigger: 'cli', sourceFactory: async () => source });
    assert.equal(run.status, 'partial');
    assert.ok(source.opened.length < 20, `opened ${source.opened.length} of 20 after the credentials were refused`);
    assert.ok(run.steps[0].errors.some((e) => /refused the credentials/.test(e)), run.steps[0].errors.join('\n'));
    const again = failingSource(objects, {});
    const rerun = await runPipeline(loadPipelineFile(file), { trigger: 'cli', sourceFactory: async () => again });
    assert.equal(rerun.status, 'success');
    assert.equal(Object.keys(snapshot(path.join(dir, 'dataset'))).filter((p) => p.endsWith('.png')).length, 20);
    assert.ok(!again.opened.includes('cars/00.png'), 'what landed before is not fetched again');
  });
});
