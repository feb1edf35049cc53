// The S3 source end to end against a real S3 server (Ceph RGW): listing, tricky and hostile keys,
// incremental sync counted at the wire, multipart ETags, verify's diagnoses, and a fault-injecting
// proxy. Started by scripts/test-integration.sh (make integration).
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { S3Client as SdkClient } from '@aws-sdk/client-s3';
import { envResolver, loadPipelineFile, previewPipeline, runPipeline, verifyPipeline, type RunRecord, type Source } from '../../src/core';
import { createSource } from '../../src/core/sources';
import { S3Source } from '../../src/core/sources/s3';
import { startFaultProxy, type FaultProxy } from './faultProxy';
import { adminClient, createBucket, del, filesUnder, md5, put, putMany, putMultipart, s3Env, tempDir, writePipeline, type S3Env, type StepSpec } from './s3env';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');

describe('S3 source against Ceph RGW', function () {
  this.timeout(120_000);
  let e: S3Env;
  let admin: SdkClient;
  const cleanups: (() => void | Promise<void>)[] = [];

  before(async () => {
    e = s3Env();
    admin = await adminClient(e);
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c();
    admin?.destroy();
  });

  function workdir(hint: string): string {
    const t = tempDir(hint);
    cleanups.push(t.remove);
    return t.dir;
  }

  function resolverEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return { S3_ENDPOINT: e.endpoint, S3_ACCESS_KEY: e.accessKey, S3_SECRET_KEY: e.secretKey, ...extra };
  }

  async function sync(file: string, env: NodeJS.ProcessEnv, extra: { concurrency?: number } = {}): Promise<RunRecord> {
    return runPipeline(loadPipelineFile(file), { trigger: 'cli', resolver: envResolver(env), ...extra });
  }

  async function proxied(plan = {}): Promise<FaultProxy> {
    const p = await startFaultProxy(e.endpoint, plan);
    cleanups.push(() => p.close());
    return p;
  }

  /** key -> local path of every synced sample, from a preview after the run. */
  async function localPaths(file: string, env: NodeJS.ProcessEnv): Promise<Map<string, string>> {
    const [p] = await previewPipeline(loadPipelineFile(file), { resolver: envResolver(env) });
    const m = new Map<string, string>();
    for (const it of p.items) if (it.status === 'unchanged' && it.path) m.set(it.key, it.path);
    return m;
  }

  function body(key: string, n = 0): string {
    return `content of ${key} #${n}\n`;
  }

  it('the parallel listing (folders listed apart) gives exactly the flat listing, in byte order, for any layout', async () => {
    const bucket = await createBucket(admin, 'layout');
    const keys = [
      // objects beside folders, sorting before and after them ('.' < '/' < '0'), nested folders, non-ASCII
      'p/a.txt', 'p/a/1.txt', 'p/a/b/2.txt', 'p/a0.txt', 'p/b/x/1.txt', 'p/b/y/2.txt', 'p/b/y/3.txt', 'p/z.txt', 'p/\u00e9/1.txt', 'p/\u00e9t\u00e9.txt', 'p//double.txt', 'p/c/',
      // more folders than are listed apart (FANOUT_MAX = 64): listed flat as one part
      ...Array.from({ length: 70 }, (_, i) => `q/f${String(i).padStart(3, '0')}/k.txt`),
      'q/root.txt',
    ];
    await putMany(admin, bucket, keys.map((k) => ({ key: k, body: k })));
    const byteOrder = (xs: string[]) => [...xs].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const [prefix, pageSize] of [['p/', '2'], ['p/', '1000'], ['q/', '5']] as const) {
      const source = (await createSource({ type: 's3-to-project', path: `s3://${bucket}/${prefix}`, endpoint: '${env:S3_ENDPOINT}', accessKey: e.accessKey, secretKey: '${secret:S3_SECRET_KEY}' }, { baseDir: '/', datasetDir: '/nonexistent', resolver: envResolver(resolverEnv({ DSP_S3_PAGE_SIZE: pageSize })), logger: console as never, step: 'Fetch' })) as S3Source;
      try {
        const listed: string[] = [];
        for await (const o of source.list()) listed.push(o.key);
        assert.deepEqual(listed, byteOrder(keys.filter((k) => k.startsWith(prefix))), `${prefix} in pages of ${pageSize}`);
      } finally {
        await source.close?.();
      }
    }
  });

  it("the next listing asks for the last one's parts at once; a changed layout still lists exactly the bucket", async () => {
    const bucket = await createBucket(admin, 'hint');
    const keys = ['h/a/1.txt', 'h/a/2.txt', 'h/b/1.txt', 'h/c/x/1.txt', 'h/top.txt', ...Array.from({ length: 9 }, (_, i) => `h/f${i}/k.txt`)];
    await putMany(admin, bucket, keys.map((k) => ({ key: k, body: k })));
    const byteOrder = (xs: string[]) => [...xs].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const listWith = async (hint: string[] | undefined) => {
      const source = (await createSource({ type: 's3-to-project', path: `s3://${bucket}/h/`, endpoint: '${env:S3_ENDPOINT}', accessKey: e.accessKey, secretKey: '${secret:S3_SECRET_KEY}' }, { baseDir: '/', datasetDir: '/nonexistent', resolver: envResolver(resolverEnv()), logger: console as never, step: 'Fetch', listingHint: (id) => (id.endsWith(`/${bucket}/h/`) ? hint : undefined) })) as S3Source;
      // Which listings were asked for before the first level (the delimiter listing) answered.
      const calls: { prefix: string; delimiter?: string; beforeLevel: boolean }[] = [];
      let levelDone = false;
      const listPage = source.client.listPage.bind(source.client);
      source.client.listPage = async (prefix, opts, signal) => {
        calls.push({ prefix, delimiter: opts.delimiter, beforeLevel: !levelDone });
        const page = await listPage(prefix, opts, signal);
        if (opts.delimiter && prefix === 'h/') levelDone = true;
        return page;
      };
      try {
        const listed: string[] = [];
        for await (const o of source.list()) listed.push(o.key);
        return { listed, calls, plan: source.listingPlan() };
      } finally {
        await source.close?.();
      }
    };
    const cold = await listWith(undefined);
    assert.deepEqual(cold.listed, byteOrder(keys));
    assert.ok(cold.plan && cold.plan.length >= 9, JSON.stringify(cold.plan));
    assert.deepEqual(cold.calls.filter((c) => c.beforeLevel).map((c) => c.prefix), ['h/'], 'without a hint, the parts wait for the first level');
    const warm = await listWith(cold.plan);
    assert.deepEqual(warm.listed, cold.listed);
    assert.equal(warm.calls.length, cold.calls.length, 'the same requests, no more');
    assert.ok(warm.calls.filter((c) => c.beforeLevel).length >= 9, `the parts are asked for with the first level: ${JSON.stringify(warm.calls)}`);
    assert.deepEqual(warm.plan, cold.plan);
    // The bucket changes: a folder goes, one comes, an object lands beside the folders.
    await del(admin, bucket, 'h/f3/k.txt');
    await putMany(admin, bucket, [{ key: 'h/new/1.txt', body: 'n' }, { key: 'h/f30.txt', body: 'f' }]);
    const now = byteOrder([...keys.filter((k) => k !== 'h/f3/k.txt'), 'h/new/1.txt', 'h/f30.txt']);
    const changed = await listWith(cold.plan);
    assert.deepEqual(changed.listed, now, 'the hint is only a head start: the listing is the bucket as it is');
    assert.deepEqual((await listWith(undefined)).listed, now);
    assert.ok(!changed.plan!.some((p) => p.includes('h/f3/')) && changed.plan!.some((p) => p.includes('h/new/')), 'and the next hint is the new layout');
  });

  describe('a bucket of 1,203 objects', () => {
    let bucket: string;
    const keys: string[] = [];
    before(async () => {
      bucket = await createBucket(admin, 'many');
      for (let i = 0; i < 1203; i++) keys.push(`data/${['cats', 'dogs', 'birds'][i % 3]}/img-${String(i).padStart(5, '0')}.txt`);
      await putMany(admin, bucket, [...keys.map((k) => ({ key: k, body: body(k) })), { key: 'data-other/x.txt', body: 'outside' }, { key: 'other/y.txt', body: 'outside' }]);
    });

    it('lists every key under the prefix exactly once, in byte order, over pages of 7', async () => {
      const source = (await createSource({ type: 's3-to-project', path: `s3://${bucket}/data`, endpoint: '${env:S3_ENDPOINT}', accessKey: e.accessKey, secretKey: '${secret:S3_SECRET_KEY}' }, { baseDir: '/', datasetDir: '/nonexistent', resolver: envResolver(resolverEnv({ DSP_S3_PAGE_SIZE: '7' })), logger: console as never, step: 'Fetch' })) as S3Source;
      try {
        assert.equal(source.id, `s3:${e.endpoint}/${bucket}/data/`);
        const listed: string[] = [];
        for await (const o of source.list()) {
          listed.push(o.key);
          assert.equal(o.rel, o.key.slice('data/'.length));
          assert.equal(o.size, Buffer.byteLength(body(o.key)));
          assert.equal(o.version, md5(body(o.key)));
        }
        assert.deepEqual(listed, [...keys].sort());
        // Listed in parallel: one level with a delimiter shows cats/, dogs/ and birds/ (one page), each then listed on its own.
        assert.equal(source.counts.list, 1 + 3 * Math.ceil(401 / 7));
        assert.equal(source.counts.get + source.counts.head, 0);
      } finally {
        await source.close?.();
      }
    });

    it('syncs them all, and a re-sync costs listing requests only (no GET, no HEAD)', async () => {
      const proxy = await proxied();
      const dir = workdir('many');
      const file = writePipeline(dir, { path: `s3://${bucket}/data/` });
      const env = resolverEnv({ S3_ENDPOINT: proxy.url, DSP_S3_PAGE_SIZE: '100' });
      const first = await sync(file, env);
      assert.equal(first.status, 'success', JSON.stringify(first.steps[0].errors));
      assert.equal(first.counts.new, 1203);
      assert.equal(proxy.counts.get, 1203);
      assert.equal(proxy.counts.list, 1 + 3 * Math.ceil(401 / 100));
      const paths = await localPaths(file, env);
      assert.equal(paths.size, 1203);
      for (const k of keys) assert.equal(md5(fs.readFileSync(path.join(dir, 'dataset', paths.get(k)!))), md5(body(k)), k);
      const label = (k: string) => paths.get(k)!.split('/')[1];
      assert.deepEqual(new Set(keys.map(label)), new Set(['cats', 'dogs', 'birds']));

      proxy.reset();
      const second = await sync(file, env);
      assert.equal(second.status, 'success');
      assert.equal(second.counts.unchanged, 1203);
      assert.equal(second.counts.new + second.counts.changed, 0);
      assert.equal(proxy.counts.get, 0, 'an unchanged object costs no GET');
      assert.equal(proxy.counts.head, 0, 'an unchanged object costs no HEAD');
      assert.equal(proxy.counts.list, 1 + 3 * Math.ceil(401 / 100));
      const hints = JSON.parse(fs.readFileSync(path.join(dir, 'dataset', '.dsp', 'listing.json'), 'utf8'));
      assert.deepEqual(Object.values(hints), [['level:data/birds/', 'level:data/cats/', 'level:data/dogs/']], 'the run kept the listing\'s parts for the next one');
    });
  });

  it('changed and deleted objects: re-downloaded, reported as removed, deleted only with deleteRemoved', async () => {
    const bucket = await createBucket(admin, 'changes');
    const keys = Array.from({ length: 20 }, (_, i) => `p/${i % 2 ? 'a' : 'b'}/f${i}.txt`);
    await putMany(admin, bucket, keys.map((k) => ({ key: k, body: body(k) })));
    const proxy = await proxied();
    const dir = workdir('changes');
    const env = resolverEnv({ S3_ENDPOINT: proxy.url });
    const file = writePipeline(dir, { path: `s3://${bucket}/p/` });
    assert.equal((await sync(file, env)).counts.new, 20);
    const before = await localPaths(file, env);

    // Same size, other bytes (only the ETag tells); another size; one deleted; one new.
    await put(admin, bucket, keys[0], body(keys[0]).replace('content', 'CONTENT'));
    await put(admin, bucket, keys[1], body(keys[1], 12345));
    await del(admin, bucket, keys[2]);
    await del(admin, bucket, keys[3]);
    await put(admin, bucket, 'p/a/new.txt', 'a new object');
    proxy.reset();
    const r = await sync(file, env);
    assert.equal(r.status, 'success');
    assert.deepEqual([r.counts.new, r.counts.changed, r.counts.removed, r.counts.unchanged], [1, 2, 2, 16]);
    assert.equal(proxy.counts.get, 3, 'only the changed and new objects are fetched');
    assert.deepEqual([...proxy.counts.getsByKey.keys()].sort(), [keys[0], keys[1], 'p/a/new.txt'].sort());
    const ds = path.join(dir, 'dataset');
    assert.equal(fs.readFileSync(path.join(ds, before.get(keys[0])!), 'utf8'), body(keys[0]).replace('content', 'CONTENT'));
    assert.equal(fs.readFileSync(path.join(ds, before.get(keys[1])!), 'utf8'), body(keys[1], 12345));
    assert.ok(fs.existsSync(path.join(ds, before.get(keys[2])!)), 'kept without deleteRemoved');

    const file2 = writePipeline(dir, { path: `s3://${bucket}/p/`, extra: { deleteRemoved: true } });
    proxy.reset();
    const r2 = await sync(file2, env);
    assert.equal(r2.counts.removed, 2);
    assert.equal(proxy.counts.get, 0);
    assert.ok(!fs.existsSync(path.join(ds, before.get(keys[2])!)));
    assert.ok(!fs.existsSync(path.join(ds, before.get(keys[3])!)));
    assert.equal(filesUnder(ds).filter((f) => f !== 'info.labels' && f !== 'labels.txt').length, 19);
  });

  it('tricky keys arrive intact; hostile keys and control characters are rejected; folder markers skipped; nothing lands outside the dataset', async () => {
    const bucket = await createBucket(admin, 'tricky');
    const long = 'n'.repeat(320) + '.txt'; // one segment over the 255-byte file name limit
    const good = [
      'cats/a b.txt',
      'cats/plus+sign.txt',
      'cats/100%.txt',
      'cats/x%20y.txt',
      'cats/caf\u00e9.txt', // NFC
      'cats/cafe\u0301.txt', // NFD: same name after normalisation, kept apart by a suffix
      'cats/amp&<>"\'.txt',
      'dogs/猫 😀.txt',
      `dogs/${long}`,
      `deep/${'d'.repeat(100)}/${'e'.repeat(100)}/${'f'.repeat(120)}.txt`,
      'sp ace/tab.txt',
    ];
    const rejected = ['../up.txt', 'cats/../../escape.txt', 'a//b.txt', 'back\\slash.txt', '/lead.txt', 'ctl/\u0001bell.txt', 'ctl/new\nline.txt'];
    const markers = ['cats/', 'empty-folder/'];
    await putMany(admin, bucket, [...good, ...rejected].map((k) => ({ key: k, body: body(k) })));
    await putMany(admin, bucket, markers.map((k) => ({ key: k, body: '' })));
    const dir = workdir('tricky');
    const env = resolverEnv({ DSP_S3_PAGE_SIZE: '3' });
    const file = writePipeline(dir, { path: `s3://${bucket}/` });
    const r = await sync(file, env);
    assert.equal(r.status, 'partial', 'rejected keys make the run partial');
    assert.equal(r.counts.new, good.length);
    assert.equal(r.counts.rejected, rejected.length);
    // Every key not imported is named: the rejected ones with why, and the folder markers as such.
    const named = r.steps[0].problems.filter((p) => p.reason !== 'folder marker');
    assert.deepEqual(new Set(named.map((p) => p.key)), new Set(rejected));
    for (const p of named) assert.match(p.reason, /"\.\."|empty path segment|backslash|starts with "\/"|control character/);
    assert.deepEqual(r.steps[0].problems.filter((p) => p.reason === 'folder marker').map((p) => p.key).sort(), ['cats/', 'empty-folder/']);

    const paths = await localPaths(file, env);
    assert.deepEqual(new Set(paths.keys()), new Set(good));
    for (const k of good) assert.equal(fs.readFileSync(path.join(dir, 'dataset', paths.get(k)!), 'utf8'), body(k), k);
    assert.notEqual(paths.get('cats/caf\u00e9.txt')!.normalize('NFC'), paths.get('cats/cafe\u0301.txt')!.normalize('NFC'));
    for (const p of paths.values()) for (const seg of p.split('/')) assert.ok(Buffer.byteLength(seg) <= 255, seg);
    // Nothing outside the dataset: the work folder holds the pipeline file and the dataset only.
    assert.deepEqual(fs.readdirSync(dir).sort(), ['dataset', 's3.pipeline.json']);
    assert.equal(filesUnder(path.join(dir, 'dataset')).filter((f) => f !== 'info.labels' && f !== 'labels.txt').length, good.length);
  });

  it('a multipart object (ETag …-N) syncs, and is unchanged on the next run', async () => {
    const bucket = await createBucket(admin, 'multipart');
    const big = randomBytes(6 * 1024 * 1024 + 123);
    await putMultipart(admin, bucket, 'm/big/file.csv', big);
    const proxy = await proxied();
    const dir = workdir('multipart');
    const env = resolverEnv({ S3_ENDPOINT: proxy.url });
    const file = writePipeline(dir, { path: `s3://${bucket}/m/` });
    const r = await sync(file, env);
    assert.equal(r.status, 'success', JSON.stringify(r.steps[0].errors));
    assert.equal(r.counts.new, 1);
    const [listed] = (await previewPipeline(loadPipelineFile(file), { resolver: envResolver(env) }))[0].items;
    assert.match(listed.version, /^[0-9a-f]{32}-2$/, 'a multipart ETag');
    const local = fs.readFileSync(path.join(dir, 'dataset', (await localPaths(file, env)).get('m/big/file.csv')!));
    assert.equal(md5(local), md5(big));
    proxy.reset();
    const again = await sync(file, env);
    assert.equal(again.counts.unchanged, 1);
    assert.equal(proxy.counts.get, 0);
  });

  describe('through a fault-injecting proxy', () => {
    // The same faults with the fetches in the main thread and on a worker thread (fetchPool.ts): the
    // errors that cross from the worker must be retried, slowed down and reported the same way.
    for (const [workers, where] of [['0', 'in the main thread'], ['1', 'on a worker thread']] as const) {
      describe(`fetches ${where}`, () => {
        const before = process.env.DSP_FETCH_WORKERS;
        beforeEach(() => void (process.env.DSP_FETCH_WORKERS = workers));
        afterEach(() => void (before === undefined ? delete process.env.DSP_FETCH_WORKERS : (process.env.DSP_FETCH_WORKERS = before)));

        it('resets, 503 SlowDown, 429, 500 and truncated bodies: the sync finishes and every hash matches', async () => {
          const bucket = await createBucket(admin, 'faults');
          const keys = Array.from({ length: 240 }, (_, i) => `f/${['x', 'y'][i % 2]}/obj-${i}.csv`);
          // Sizes from tiny to 300 KiB, so truncation hits bodies that arrive in one and in many chunks.
          const bodies = new Map(keys.map((k, i) => [k, Buffer.from(body(k).repeat(1 + ((i * 37) % 9000)))]));
          await putMany(admin, bucket, keys.map((k) => ({ key: k, body: bodies.get(k)! })));
          const kinds = ['reset', 'slowdown', 'truncate', 'internal-error', 'too-many', 'truncate', 'reset'] as const;
          const proxy = await proxied({
            // Most keys fail once, some twice, each with a different fault; all within the engine's retries.
            get: (key: string, attempt: number) => {
              const i = keys.indexOf(key);
              if (i % 8 === 7) return undefined;
              if (attempt === 1) return kinds[i % kinds.length];
              if (attempt === 2 && i % 3 === 0) return kinds[(i + 3) % kinds.length];
              return undefined;
            },
            list: (n: number) => (n === 1 ? 'slowdown' : n === 2 ? 'reset' : n === 4 ? 'truncate' : undefined),
          });
          const dir = workdir('faults');
          const env = resolverEnv({ S3_ENDPOINT: proxy.url, DSP_S3_PAGE_SIZE: '50' });
          const file = writePipeline(dir, { path: `s3://${bucket}/f/` });
          const r = await sync(file, env, { concurrency: 16 });
          assert.equal(r.status, 'success', JSON.stringify(r.steps[0].errors.slice(0, 3)));
          assert.equal(r.counts.new, keys.length, JSON.stringify(r.counts));
          for (const kind of ['reset', 'slowdown', 'truncate', 'internal-error', 'too-many'] as const) assert.ok(proxy.counts.faults[kind] > 5, `${kind} injected: ${proxy.counts.faults[kind]}`);
          assert.ok(proxy.counts.get > keys.length * 1.5);
          proxy.plan.get = undefined;
          const paths = await localPaths(file, env);
          assert.equal(paths.size, keys.length);
          for (const k of keys) assert.equal(md5(fs.readFileSync(path.join(dir, 'dataset', paths.get(k)!))), md5(bodies.get(k)!), k);
          assert.deepEqual(fs.readdirSync(path.join(dir, 'dataset', '.dsp', 'tmp')), [], 'no temporary files left');
        });

        it('10% resets, 5% SlowDown, 1% truncated bodies and stalled connections: every hash right, the retries in the log', async function () {
          this.timeout(180_000);
          const bucket = await createBucket(admin, 'rates');
          const keys = Array.from({ length: 400 }, (_, i) => `r/${['x', 'y', 'z'][i % 3]}/obj-${i}.csv`);
          const bodies = new Map(keys.map((k, i) => [k, Buffer.from(body(k).repeat(1 + ((i * 53) % 3000)))]));
          await putMany(admin, bucket, keys.map((k) => ({ key: k, body: bodies.get(k)! })));
          // A seeded generator: the same faults every run.
          let seed = 0x2f6b1d;
          const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
          const stall = new Set([keys[5], keys[77], keys[301]]);
          const proxy = await proxied({
            // At the rates, but never on a key's last two tries: unbounded, one of 400 keys failed all five
            // of the engine's tries in about one run in twenty-five (0.16^5 per key), and the test flaked.
            get: (key: string, attempt: number) => {
              if (attempt === 1 && stall.has(key)) return 'stall';
              if (attempt > 3) return undefined;
              const r = rand();
              return r < 0.1 ? 'reset' : r < 0.15 ? 'slowdown' : r < 0.16 ? 'truncate' : undefined;
            },
          });
          const dir = workdir('rates');
          const env = resolverEnv({ S3_ENDPOINT: proxy.url, DSP_S3_PAGE_SIZE: '100' });
          const file = writePipeline(dir, { path: `s3://${bucket}/r/` });
          const debug: string[] = [];
          const logger = { info: (m: string) => debug.push(m), warn: (m: string) => debug.push(m), error: (m: string) => debug.push(m), debug: (m: string) => debug.push(m) };
          const before = process.env.DSP_S3_IDLE_TIMEOUT_MS;
          process.env.DSP_S3_IDLE_TIMEOUT_MS = '1500';
          let r: RunRecord;
          try {
            r = await runPipeline(loadPipelineFile(file), { trigger: 'cli', resolver: envResolver(env), logger, concurrency: 16 });
          } finally {
            if (before === undefined) delete process.env.DSP_S3_IDLE_TIMEOUT_MS;
            else process.env.DSP_S3_IDLE_TIMEOUT_MS = before;
          }
          assert.equal(r.status, 'success', JSON.stringify(r.steps[0].errors.slice(0, 3)));
          assert.equal(r.counts.new, keys.length);
          const f = proxy.counts.faults;
          console.log(`      faults: ${f.reset} resets, ${f.slowdown} SlowDown, ${f.truncate} truncated, ${f.stall} stalled over ${proxy.counts.get} GETs; ${debug.filter((m) => /^retry /.test(m)).length} retries logged`);
          assert.ok(f.reset > 0 && f.slowdown > 0 && f.truncate > 0 && f.stall === 3, JSON.stringify(f));
          assert.ok(debug.some((m) => /^retry \d+ for .*stalled/.test(m)), 'a stalled connection is retried, and says so');
          assert.equal(debug.some((m) => /fetching on 1 worker thread/.test(m)), workers === '1', `fetched ${where}`);
          assert.ok(debug.filter((m) => /^retry /.test(m)).length >= f.reset + f.slowdown + f.truncate + f.stall, 'every fault shows as a retry in the log');
          proxy.plan.get = undefined;
          const paths = await localPaths(file, env);
          for (const k of keys) assert.equal(md5(fs.readFileSync(path.join(dir, 'dataset', paths.get(k)!))), md5(bodies.get(k)!), k);
        });

      });
    }

    it('a dead endpoint fails the step with a clear message, and nothing is written', async () => {
      const dir = workdir('dead');
      const env = resolverEnv({ S3_ENDPOINT: 'http://127.0.0.1:1' });
      const file = writePipeline(dir, { path: 's3://nobucket/x/' });
      const r = await sync(file, env);
      assert.equal(r.status, 'failed');
      assert.match(r.steps[0].errors.join('\n') + (r.error ?? ''), /ECONNREFUSED/);
      const ds = path.join(dir, 'dataset');
      const samples = fs.existsSync(ds) ? fs.readdirSync(ds).filter((n) => n !== '.dsp') : [];
      assert.deepEqual(samples, [], 'no sample, no info.labels, no labels.txt');
    });

    it('follows a region redirect (AuthorizationHeaderMalformed naming the bucket region) and says so in verify', async () => {
      const bucket = await createBucket(admin, 'region');
      await put(admin, bucket, 'r/a/one.txt', 'one');
      const proxy = await proxied({ bucketRegion: 'eu-central-1' });
      const dir = workdir('region');
      const env = resolverEnv({ S3_ENDPOINT: proxy.url });
      const file = writePipeline(dir, { path: `s3://${bucket}/r/`, region: 'us-east-1' });
      const [v] = await verifyPipeline(loadPipelineFile(file), { resolver: envResolver(env) });
      assert.equal(v.result.ok, true, v.result.detail);
      assert.match(v.result.detail, /region eu-central-1, not us-east-1/);
      const r = await sync(file, env);
      assert.equal(r.status, 'success', JSON.stringify(r.steps[0].errors));
      assert.equal(r.counts.new, 1);
    });
  });

  describe('verify', () => {
    let bucket: string;
    before(async () => {
      bucket = await createBucket(admin, 'verify');
      await putMany(admin, bucket, ['imgs/cats/1.jpg', 'imgs/cats/2.jpg', 'imgs/dogs/3.jpg', 'imgs/top.txt', 'imgs/sub/', 'other/x.txt'].map((k) => ({ key: k, body: k.endsWith('/') ? '' : body(k) })));
    });

    async function verifyWith(spec: Partial<StepSpec>, env: NodeJS.ProcessEnv = resolverEnv()) {
      const dir = workdir('verify');
      const file = writePipeline(dir, { path: `s3://${bucket}/imgs/`, ...spec });
      const [v] = await verifyPipeline(loadPipelineFile(file), { resolver: envResolver(env) });
      const all = JSON.stringify(v);
      for (const secret of [e.secretKey, e.otherSecretKey, 'wrong-secret-value-123']) assert.ok(!all.includes(secret), 'no secret in the result');
      return v.result;
    }

    it('lists the first files with their folders and names the credential source', async () => {
      const r = await verifyWith({});
      assert.equal(r.ok, true, r.detail);
      assert.equal(r.credentialSource, 'static keys (accessKey ${env:S3_ACCESS_KEY} + ${secret:S3_SECRET_KEY})');
      assert.deepEqual(r.sampleFiles, [
        { name: '1.jpg', size: Buffer.byteLength(body('imgs/cats/1.jpg')), folder: 'cats' },
        { name: '2.jpg', size: Buffer.byteLength(body('imgs/cats/2.jpg')), folder: 'cats' },
        { name: '3.jpg', size: Buffer.byteLength(body('imgs/dogs/3.jpg')), folder: 'dogs' },
        { name: 'top.txt', size: Buffer.byteLength(body('imgs/top.txt')), folder: '' },
      ]);
    });

    it('an empty prefix is reported with the folders that do exist', async () => {
      const r = await verifyWith({ path: `s3://${bucket}/imgz/` });
      assert.equal(r.ok, true);
      assert.match(r.detail, /nothing is under prefix "imgz\/".*"imgs\/", "other\/"/);
    });

    it('wrong access key -> InvalidAccessKeyId', async () => {
      const r = await verifyWith({ accessKey: 'NOSUCHACCESSKEY' });
      assert.equal(r.ok, false);
      assert.equal(r.code, 'InvalidAccessKeyId');
      assert.match(r.detail, /does not know the access key.*Check accessKey/);
    });

    it('wrong secret key -> SignatureDoesNotMatch, naming the secret reference', async () => {
      const r = await verifyWith({}, resolverEnv({ S3_SECRET_KEY: 'wrong-secret-value-123' }));
      assert.equal(r.code, 'SignatureDoesNotMatch');
      assert.match(r.detail, /secret key does not match.*\$\{secret:S3_SECRET_KEY\}/);
    });

    it('missing bucket -> NoSuchBucket', async () => {
      const r = await verifyWith({ path: 's3://no-such-bucket-dsp/x/' });
      assert.equal(r.code, 'NoSuchBucket');
      assert.match(r.detail, /Bucket "no-such-bucket-dsp" does not exist/);
    });

    it("another user's bucket -> AccessDenied", async () => {
      const r = await verifyWith({ accessKey: '${env:OTHER_KEY}', secretKey: '${secret:OTHER_SECRET}' }, resolverEnv({ OTHER_KEY: e.otherAccessKey, OTHER_SECRET: e.otherSecretKey }));
      assert.equal(r.code, 'AccessDenied');
      assert.match(r.detail, /credentials \(static keys \(accessKey \$\{env:OTHER_KEY\} \+ \$\{secret:OTHER_SECRET\}\)\) work, but may not list/);
      assert.match(r.detail, /s3:ListBucket/);
    });

    it('unreachable endpoint -> ECONNREFUSED, quickly', async () => {
      const closed = http.createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((r) => closed.close(() => r()));
      const t = Date.now();
      const r = await verifyWith({ endpoint: `http://127.0.0.1:${port}` });
      assert.equal(r.code, 'ECONNREFUSED');
      assert.match(r.detail, /Nothing answers at http:\/\/127\.0\.0\.1:\d+/);
      assert.ok(Date.now() - t < 30_000);
    });

    it('https to a plain-HTTP port -> a TLS error that says to use http://', async () => {
      const r = await verifyWith({ endpoint: e.endpoint.replace(/^http:/, 'https:') });
      assert.equal(r.ok, false);
      assert.match(r.code ?? '', /SSL|EPROTO|TLS/);
      assert.match(r.detail, /does not speak TLS.*http:\/\//);
    });

    it('a self-signed certificate -> a TLS error that names NODE_EXTRA_CA_CERTS', async function () {
      const dir = workdir('tls');
      try {
        await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1']);
      } catch {
        this.skip(); // no openssl on this machine
      }
      const server = https.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) }, (_q, s) => s.end());
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
      const r = await verifyWith({ endpoint: `https://127.0.0.1:${(server.address() as AddressInfo).port}` });
      assert.equal(r.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
      assert.match(r.detail, /TLS problem: the certificate of 127\.0\.0\.1:\d+ is not trusted.*NODE_EXTRA_CA_CERTS/);
    });
  });

  describe('the built CLI', () => {
    const cli = path.join(ROOT, 'dist', 'cli.js');
    it('verify and run --json as a child process; the second run downloads nothing', async () => {
      const bucket = await createBucket(admin, 'cli');
      await putMany(admin, bucket, Array.from({ length: 30 }, (_, i) => ({ key: `c/${i % 2 ? 'up' : 'down'}/${i}.txt`, body: body(String(i)) })));
      const dir = workdir('cli');
      const file = writePipeline(dir, { path: `s3://${bucket}/c/` });
      const env = { ...process.env, ...resolverEnv() };
      const v = await run(process.execPath, [cli, 'verify', file, '--json'], { env });
      const vj = JSON.parse(v.stdout) as { steps: { result: { ok: boolean; sampleFiles: unknown[]; credentialSource: string } }[] };
      assert.equal(vj.steps[0].result.ok, true);
      assert.equal(vj.steps[0].result.sampleFiles.length, 20);
      assert.ok(!v.stdout.includes(e.secretKey) && !v.stderr.includes(e.secretKey));

      const r1 = JSON.parse((await run(process.execPath, [cli, 'run', file, '--json'], { env })).stdout) as RunRecord;
      assert.equal(r1.status, 'success');
      assert.equal(r1.counts.new, 30);
      const r2 = JSON.parse((await run(process.execPath, [cli, 'run', file, '--json'], { env })).stdout) as RunRecord;
      assert.equal(r2.counts.unchanged, 30);
      assert.equal(r2.counts.new + r2.counts.changed, 0);

      const bad = await run(process.execPath, [cli, 'verify', file], { env: { ...env, S3_SECRET_KEY: 'wrong-secret-value-123' } }).then(
        () => assert.fail('verify should exit non-zero'),
        (err: { code: number; stdout: string }) => err,
      );
      assert.equal(bad.code, 1);
      assert.match(bad.stdout, /FAIL .*\(s3-to-project\) \[credentials: static keys/);
      assert.match(bad.stdout, /\(SignatureDoesNotMatch\)/);
      assert.ok(!bad.stdout.includes('wrong-secret-value-123'));
    });
  });

  it('the source counts its own requests (what the engine asks for)', async () => {
    const bucket = await createBucket(admin, 'counts');
    await putMany(admin, bucket, [{ key: 'k/a/1.txt', body: '1' }, { key: 'k/b/2.txt', body: '22' }]);
    const dir = workdir('counts');
    const file = writePipeline(dir, { path: `s3://${bucket}/k/` });
    const made: S3Source[] = [];
    const sourceFactory = async (...args: Parameters<typeof createSource>): Promise<Source> => {
      const s = (await createSource(...args)) as S3Source;
      made.push(s);
      return s;
    };
    const opts = { trigger: 'cli' as const, resolver: envResolver(resolverEnv()), sourceFactory };
    await runPipeline(loadPipelineFile(file), opts);
    await runPipeline(loadPipelineFile(file), opts);
    assert.deepEqual(made.map((s) => ({ ...s.counts })), [
      // k/ with a delimiter (a/, b/), then a/ and b/ each: three listing requests, two of them at once.
      { list: 3, get: 2, head: 0, redirects: 0 },
      { list: 3, get: 0, head: 0, redirects: 0 },
    ]);
  });
});
