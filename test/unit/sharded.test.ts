// Sharded runs (run --shard K/N, then finalize) give the dataset a single run gives: the same files
// and bytes, info.labels and sync state, with keys that collide by case and Unicode form and the
// same content under several keys; a killed shard resumes; finalize refuses while a shard is
// missing. In-process against a folder, then as N CLI processes at once against the in-memory S3
// endpoint (bench/mem-s3.ts).
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { finalizePipeline, loadPipelineFile, previewPipeline, runPipeline } from '../../src/core';
import { parseShard, shardFrom, shardOfPath } from '../../src/core/run/shard';
import { encodeKeyPath } from '../../src/core/sources/s3/sigv4';
import { assertSameDataset } from '../support/datasets';
import { cli, killShardMidway, runSharded, shardFixture } from '../support/sharded';
import { tempDir, writePipeline } from './helpers';

function folderFixture(root: string, extra: { key: string; body: string }[] = []): void {
  for (const { key, body } of [...shardFixture(120), ...extra]) {
    const f = path.join(root, 'src', ...key.split('/'));
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, body);
  }
}

const folderPipeline = (dir: string, name: string) => writePipeline(dir, { name: 'S', dataset: `${name}-dataset`, steps: [{ name: 'import', builtinTransformationBlock: { type: 'folder-to-project', path: 'src/data' } }] }, `${name}.pipeline.json`);

describe('sharded runs: the shard a sample belongs to', () => {
  it('--shard K/N and an Indexed Job\'s JOB_COMPLETION_INDEX name the same shard; nonsense is refused with what to pass', () => {
    assert.deepEqual(parseShard('2/4'), { index: 1, count: 4 });
    assert.deepEqual(shardFrom({ shards: 4 }, { JOB_COMPLETION_INDEX: '1' }), { index: 1, count: 4 });
    assert.deepEqual(shardFrom({}, { JOB_COMPLETION_INDEX: '3', DSP_SHARDS: '4' }), { index: 3, count: 4 });
    assert.equal(shardFrom({}, {}), undefined);
    for (const bad of ['0/4', '5/4', '1/0', 'x']) assert.throws(() => parseShard(bad), /--shard takes K\/N/);
    assert.throws(() => shardFrom({}, { JOB_COMPLETION_INDEX: '1' }), /--shards N or set DSP_SHARDS/);
    assert.throws(() => shardFrom({ shards: 2 }, { JOB_COMPLETION_INDEX: '2' }), /not a shard of 2/);
  });

  it('paths that fold alike (case, Unicode form) always fall in one shard', () => {
    for (let n = 2; n <= 7; n++) {
      assert.equal(shardOfPath('training/cats/Case.csv', n), shardOfPath('training/CATS/case.csv', n));
      assert.equal(shardOfPath('training/cats/caf\u00e9.csv', n), shardOfPath('training/cats/cafe\u0301.csv', n));
    }
  });
});

describe('sharded runs in one process, from a folder', () => {
  it('three shards then finalize give the single run\'s dataset, first sync and incremental; preview shows each share', async () => {
    const dir = tempDir();
    folderFixture(dir);
    const single = folderPipeline(dir, 'single');
    const sharded = folderPipeline(dir, 'sharded');
    const shards = [0, 1, 2].map((index) => ({ index, count: 3 }));
    // Each shard's preview: the shares are disjoint and together the whole plan.
    const whole = (await previewPipeline(loadPipelineFile(sharded)))[0].items.map((i) => i.key).sort();
    const shares = await Promise.all(shards.map(async (shard) => (await previewPipeline(loadPipelineFile(sharded), { shard }))[0].items.map((i) => i.key)));
    assert.deepEqual(shares.flat().sort(), whole);
    assert.ok(shares.every((s) => s.length > 10), shares.map((s) => s.length).join(', '));

    for (let round = 0; round < 2; round++) {
      if (round === 1) {
        // Between syncs: new samples (one colliding with a stored name), one deleted.
        folderFixture(dir, [{ key: 'data/dogs/Img-0001.csv', body: 'collides with img-0001 by case\n' }, { key: 'data/birds/new.csv', body: 'new\n' }]);
        fs.rmSync(path.join(dir, 'src', 'data', 'cats', 'img-0003.csv'));
      }
      const one = await runPipeline(loadPipelineFile(single), { trigger: 'cli' });
      await Promise.all(shards.map((shard) => runPipeline(loadPipelineFile(sharded), { trigger: 'cli', shard })));
      const fin = await finalizePipeline(loadPipelineFile(sharded), { trigger: 'cli' });
      assert.equal(fin.status, one.status);
      assert.equal(fin.shards?.length, 3);
      for (const k of ['new', 'changed', 'unchanged', 'removed', 'duplicate'] as const) assert.equal(fin.counts[k], one.counts[k], `round ${round}: ${k}`);
      assertSameDataset(path.join(dir, 'single-dataset'), path.join(dir, 'sharded-dataset'), `round ${round}`);
    }
  });

  it('a key crafted to equal another key\'s collision suffix, in another shard: no path is written twice', async () => {
    const dir = tempDir();
    const src = path.join(dir, 'src', 'data', 'cats');
    fs.mkdirSync(src, { recursive: true });
    fs.writeFileSync(path.join(src, 'A.csv'), 'upper\n');
    fs.writeFileSync(path.join(src, 'a.csv'), 'lower\n');
    const pipe = (name: string) => writePipeline(dir, { name: 'S', dataset: `${name}-dataset`, steps: [{ name: 'import', builtinTransformationBlock: { type: 'folder-to-project', path: 'src/data', category: 'training' } }] }, `${name}.pipeline.json`);
    const suffixed = (await previewPipeline(loadPipelineFile(pipe('probe'))))[0].items.find((i) => i.path && i.path !== 'training/cats/A.csv')!.path!;
    assert.match(suffixed, /^training\/cats\/a~[^/]+\.csv$/);
    fs.writeFileSync(path.join(src, suffixed.split('/').pop()!), 'crafted\n');
    const count = [2, 3, 4, 5, 6, 7, 8].find((n) => shardOfPath(suffixed, n) !== shardOfPath('training/cats/a.csv', n))!;
    const file = pipe('sharded');
    await Promise.all(Array.from({ length: count }, (_, index) => runPipeline(loadPipelineFile(file), { trigger: 'cli', shard: { index, count } })));
    const fin = await finalizePipeline(loadPipelineFile(file), { trigger: 'cli' });
    assert.equal(fin.counts.new, 3, JSON.stringify(fin.counts));
    const stored = fs.readdirSync(path.join(dir, 'sharded-dataset', 'training', 'cats')).sort();
    assert.equal(stored.length, 3, `three files: ${stored.join(', ')}`);
    const contents = stored.map((f) => fs.readFileSync(path.join(dir, 'sharded-dataset', 'training', 'cats', f), 'utf8')).sort();
    assert.deepEqual(contents, ['crafted\n', 'lower\n', 'upper\n'], 'each sample kept its own bytes');
  });

  it('finalize refuses while a shard has not run, and names it; nothing is merged', async () => {
    const dir = tempDir();
    folderFixture(dir);
    const file = folderPipeline(dir, 'sharded');
    await runPipeline(loadPipelineFile(file), { trigger: 'cli', shard: { index: 0, count: 3 } });
    await runPipeline(loadPipelineFile(file), { trigger: 'cli', shard: { index: 2, count: 3 } });
    await assert.rejects(finalizePipeline(loadPipelineFile(file), { trigger: 'cli' }), /Not every shard is done: 2\/3\. Run it/);
    assert.ok(!fs.existsSync(path.join(dir, 'sharded-dataset', 'info.labels')), 'no info.labels before finalize');
    assert.ok(!fs.existsSync(path.join(dir, 'sharded-dataset', '.dsp', 'state.json')), 'no merged state');
    // A whole run meanwhile would be overwritten by the shards' journals at finalize: refused, with what to do.
    await assert.rejects(runPipeline(loadPipelineFile(file), { trigger: 'cli' }), /not finalized \(2 of 3 in .*\)\. Run "finalize"/);
  });
});

/** The in-memory S3 endpoint of the benchmarks, in a child process. */
async function memS3(): Promise<{ url: string; put(bucket: string, key: string, body: string): Promise<void>; post(p: string): Promise<void>; stop(): void }> {
  const child: ChildProcess = spawn(process.execPath, [path.resolve(__dirname, '../../bench/mem-s3.js'), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (c: Buffer) => resolve(Number(String(c).trim())));
    child.once('exit', (code) => reject(new Error(`mem-s3 exited ${code}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const send = (method: string, p: string, body = '') =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(`${url}${p}`, { method }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${method} ${p}: ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  return { url, put: (bucket, key, body) => send('PUT', `/${bucket}/${encodeKeyPath(key)}`, body), post: (p) => send('POST', p), stop: () => child.kill('SIGKILL') };
}

describe('sharded runs as CLI processes at once, against the in-memory S3 endpoint', function () {
  this.timeout(120_000);
  let s3: Awaited<ReturnType<typeof memS3>>;
  before(async () => {
    s3 = await memS3();
    for (const o of shardFixture(300)) await s3.put('shards', o.key, o.body);
  });
  after(() => s3?.stop());

  const env = () => ({ ...process.env, MEM_SECRET: 'unused' });
  const s3Pipeline = (dir: string, name: string) =>
    writePipeline(dir, { name: 'S', dataset: `${name}-dataset`, steps: [{ name: 'import', builtinTransformationBlock: { type: 's3-to-project', path: 's3://shards/data/', endpoint: s3.url, region: 'us-east-1', accessKey: 'k', secretKey: '${secret:MEM_SECRET}' } }] }, `${name}.pipeline.json`);

  it('four shard processes started at once, then finalize: the single run\'s dataset', async () => {
    const dir = tempDir();
    const one = await cli(['run', s3Pipeline(dir, 'single'), '--quiet'], env());
    assert.equal(one.code, 0, one.stderr);
    const r = await runSharded(s3Pipeline(dir, 'sharded'), 4, env());
    for (const s of r.shards) assert.equal(s.code, 0, s.stderr);
    assert.equal(r.finalize.code, 0, r.finalize.stderr);
    const fin = JSON.parse(r.finalize.stdout) as { shards: unknown[]; counts: { new: number; duplicate: number } };
    assert.equal(fin.shards.length, 4);
    assert.equal(fin.counts.new + fin.counts.duplicate, 308);
    assertSameDataset(path.join(dir, 'single-dataset'), path.join(dir, 'sharded-dataset'), '4 shards');
    const runs = await cli(['runs', s3Pipeline(dir, 'sharded')], env());
    assert.match(runs.stdout, /success \(4 shards\)/, 'one run with its shards');
  });

  it('a shard killed midway and run again: the same dataset', async () => {
    const dir = tempDir();
    assert.equal((await cli(['run', s3Pipeline(dir, 'single'), '--quiet'], env())).code, 0);
    const file = s3Pipeline(dir, 'sharded');
    await s3.post('/__latency?ms=30'); // slow enough that the kill lands midway
    try {
      // One request at a time: the shard records its first samples long before it could finish.
      const killed = await killShardMidway(file, 2, 3, path.join(dir, 'sharded-dataset'), env(), ['--concurrency', '1']);
      assert.equal(killed.signal, 'SIGKILL', 'killed before it finished');
    } finally {
      await s3.post('/__latency?ms=0');
    }
    const r = await runSharded(file, 3, env());
    for (const s of r.shards) assert.equal(s.code, 0, s.stderr);
    assert.equal(r.finalize.code, 0, r.finalize.stderr);
    assertSameDataset(path.join(dir, 'single-dataset'), path.join(dir, 'sharded-dataset'), 'after a killed shard');
  });
});
