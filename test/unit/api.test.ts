// Running pipelines from code (the local API with an API key) and on a schedule.
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as path from 'node:path';
import { findPipelineFiles, pipelineId, startApiServer } from '../../src/core/api/server';
import { nextRunTime, Scheduler, type SchedulerClock } from '../../src/core/schedule/scheduler';
import * as fs from 'node:fs';
import { loadPipelineFile, silentLogger } from '../../src/core';
import { SyncState } from '../../src/core/dataset/state';
import { makePng } from '../../src/demo/images';
import { tempDir, waitFor, writeFiles, writePipeline } from './helpers';

function workspace() {
  const dir = tempDir('dsp-api-');
  writeFiles(path.join(dir, 'src'), { 'cars/a.png': makePng(2, 2, () => [1, 2, 3]), 'dogs/b.png': makePng(2, 2, () => [4, 5, 6]) });
  writePipeline(path.join(dir), { name: 'Cars', intervalStr: '1d', steps: [{ name: 'i', builtinTransformationBlock: { type: 'folder-to-project', path: 'src' } }] }, 'cars.pipeline.json');
  writeFiles(dir, { 'nested/other.pipeline.json': JSON.stringify({ name: 'Other', steps: [] }) });
  return dir;
}

describe('local API', function () {
  this.timeout(30_000);
  const KEY = 'test-key-0123456789';

  it('finds pipelines, refuses a missing or wrong key, runs one with ?wait=1 and lists its runs', async () => {
    const dir = workspace();
    const files = findPipelineFiles([dir]);
    assert.deepEqual(files.map((f) => pipelineId(dir, f)), ['cars', 'nested/other']);
    const api = await startApiServer({ files, root: dir, apiKey: KEY, port: 0, logger: silentLogger });
    try {
      assert.equal((await fetch(`${api.url}/api/pipelines`)).status, 401);
      assert.equal((await fetch(`${api.url}/api/pipelines`, { headers: { 'x-api-key': 'nope' } })).status, 401);
      const list = await (await fetch(`${api.url}/api/pipelines`, { headers: { 'x-api-key': KEY } })).json();
      assert.equal(list.length, 2);
      const cars = list.find((p: { id: string }) => p.id === 'cars');
      assert.equal(cars.name, 'Cars');
      assert.ok(cars.nextRunAt, 'scheduled pipelines show their next run');
      const r = await fetch(`${api.url}/api/pipelines/cars/run?wait=1`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` } });
      assert.equal(r.status, 200);
      const run = await r.json();
      assert.equal(run.trigger, 'api');
      assert.equal(run.status, 'success');
      assert.equal(run.counts.new, 2);
      const runs = await (await fetch(`${api.url}/api/pipelines/cars/runs`, { headers: { 'x-api-key': KEY } })).json();
      assert.equal(runs[0].id, run.id);
      const one = await (await fetch(`${api.url}/api/pipelines/cars/runs/${run.id}`, { headers: { 'x-api-key': KEY } })).json();
      assert.equal(one.id, run.id);
      const nested = await fetch(`${api.url}/api/pipelines/${encodeURIComponent('nested/other')}/runs`, { headers: { 'x-api-key': KEY } });
      assert.equal(nested.status, 200);
      const missing = await fetch(`${api.url}/api/pipelines/nope/run`, { method: 'POST', headers: { 'x-api-key': KEY } });
      assert.equal(missing.status, 404);
      assert.match((await missing.json()).error, /GET \/api\/pipelines lists them/);
    } finally {
      await api.close();
    }
  });

  it('a run asked with {"verifyLocal": true} checks every file on disk, as the CLI\'s --verify-local does', async () => {
    const dir = workspace();
    const api = await startApiServer({ files: findPipelineFiles([dir]), root: dir, apiKey: KEY, port: 0, logger: silentLogger, schedule: false });
    const run = async (body: object) => (await fetch(`${api.url}/api/pipelines/cars/run?wait=1`, { method: 'POST', headers: { 'x-api-key': KEY }, body: JSON.stringify(body) })).json();
    try {
      assert.equal((await run({})).counts.new, 2);
      const dataset = loadPipelineFile(path.join(dir, 'cars.pipeline.json')).datasetDir;
      const sample = path.join(dataset, SyncState.load(dataset).all().next().value!.path!);
      fs.appendFileSync(sample, 'x'); // rewritten in place: its folder's time does not move
      assert.equal((await run({})).counts.changed, 0, 'a folder check does not see it');
      const checked = await run({ verifyLocal: true });
      assert.equal(checked.counts.changed, 1, JSON.stringify(checked.counts));
      assert.equal(checked.status, 'success');
    } finally {
      await api.close();
    }
  });

  it('a run started without waiting answers 202 with its id and finishes in the background', async () => {
    const dir = workspace();
    const api = await startApiServer({ files: findPipelineFiles([dir]), root: dir, apiKey: KEY, port: 0, logger: silentLogger, schedule: false });
    try {
      const r = await fetch(`${api.url}/api/pipelines/cars/run`, { method: 'POST', headers: { 'x-api-key': KEY } });
      assert.equal(r.status, 202);
      const { runId } = await r.json();
      const done = await waitFor(async () => {
        const rec = await (await fetch(`${api.url}/api/pipelines/cars/runs/${runId}`, { headers: { 'x-api-key': KEY } })).json();
        return rec.status !== 'running' ? rec : undefined;
      }, 'the run to finish');
      assert.equal(done.status, 'success');
    } finally {
      await api.close();
    }
  });
});

describe('local API: hostile and racing requests', function () {
  this.timeout(60_000);
  const KEY = 'test-key-0123456789';
  // A run that holds until the test releases it (the block waits for a file).
  const hold = `node -e "const fs=require('fs');(function w(){fs.existsSync('release')?process.exit(0):setTimeout(w,20)})()"`;
  function holdingWorkspace() {
    const dir = workspace();
    writePipeline(dir, { name: 'Held', steps: [{ name: 'i', builtinTransformationBlock: { type: 'folder-to-project', path: 'src' } }, { name: 'hold', transformationBlock: { command: hold } }] }, 'held.pipeline.json');
    return dir;
  }
  const post = (url: string, body?: string, headers: Record<string, string> = {}) => fetch(url, { method: 'POST', headers: { 'x-api-key': KEY, ...headers }, body });

  it('a late body cannot overwrite the run in progress: it gets 409, and cancel still reaches the run', async () => {
    const dir = holdingWorkspace();
    const api = await startApiServer({ files: findPipelineFiles([dir]), root: dir, apiKey: KEY, port: 0, logger: silentLogger, schedule: false });
    try {
      // A: headers now, body later.
      const late = http.request(`${api.url}/api/pipelines/held/run`, { method: 'POST', headers: { 'x-api-key': KEY, 'content-type': 'application/json', 'content-length': '2' } });
      const lateAnswer = new Promise<{ status: number; body: string }>((resolve, reject) => {
        late.on('response', (res) => {
          let b = '';
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
        });
        late.on('error', reject);
      });
      late.flushHeaders();
      // B starts a run and holds it.
      const b = await post(`${api.url}/api/pipelines/held/run`);
      assert.equal(b.status, 202);
      const { runId } = await b.json();
      late.end('{}');
      const a = await lateAnswer;
      assert.equal(a.status, 409, a.body);
      assert.equal(JSON.parse(a.body).runId, runId);
      const c = await post(`${api.url}/api/pipelines/held/cancel`);
      assert.equal(c.status, 202);
      assert.equal((await c.json()).runId, runId);
      writeFiles(dir, { release: '' });
      const rec = await waitFor(async () => {
        const r = await (await fetch(`${api.url}/api/pipelines/held/runs/${runId}`, { headers: { 'x-api-key': KEY } })).json();
        return r.status !== 'running' ? r : undefined;
      }, 'the run to end');
      assert.equal(rec.status, 'cancelled');
    } finally {
      writeFiles(dir, { release: '' });
      await api.close();
    }
  });

  it('bad bodies and paths get 400, 404 or 413 with a message, never a 500 or a raw TypeError', async () => {
    const dir = workspace();
    const api = await startApiServer({ files: findPipelineFiles([dir]), root: dir, apiKey: KEY, port: 0, logger: silentLogger, schedule: false });
    try {
      const cases: [string, string | undefined, number, RegExp][] = [
        ['/api/pipelines/cars/run', 'null', 400, /must be a JSON object/],
        ['/api/pipelines/cars/run', '[1]', 400, /must be a JSON object/],
        ['/api/pipelines/cars/run', '{"steps":', 400, /not JSON/],
        ['/api/pipelines/cars/run', '{"steps": "i"}', 400, /list of step names/],
        ['/api/pipelines/cars/run', '{"steps": ["nope"]}', 400, /No step "nope" in this pipeline\. Its steps: "i"/],
        ['/api/pipelines/cars/run', '{"verifyLocal": "yes"}', 400, /"verifyLocal" must be true or false/],
        ['/api/pipelines/cars/run', 'x'.repeat(70 * 1024), 413, /over 64 KB/],
        ['/api/pipelines/..%2F..%2Fetc%2Fpasswd/run', '{}', 404, /No pipeline/],
        ['/api/pipelines/%2e%2e/cars/run', '{}', 404, /No pipeline|Unknown path/],
        ['/api/pipelines/cars/runs/..%2F..%2Fstate', undefined, 404, /No run/],
        ['/api/pipelines/%E0%A4%A/run', '{}', 400, /percent-encoding/],
      ];
      for (const [p, body, status, msg] of cases) {
        const r = body === undefined ? await fetch(`${api.url}${p}`, { headers: { 'x-api-key': KEY } }) : await post(`${api.url}${p}`, body, { 'content-type': 'application/json' });
        const text = await r.text();
        assert.equal(r.status, status, `${p} ${body?.slice(0, 20)}: ${text}`);
        assert.match(JSON.parse(text).error, msg, p);
      }
      // None of them started a run.
      const runs = await (await fetch(`${api.url}/api/pipelines/cars/runs`, { headers: { 'x-api-key': KEY } })).json();
      assert.deepEqual(runs, []);
    } finally {
      await api.close();
    }
  });

  it('1,000 concurrent triggers: one run, the others 409 naming it, nothing lost', async () => {
    const dir = holdingWorkspace();
    const api = await startApiServer({ files: findPipelineFiles([dir]), root: dir, apiKey: KEY, port: 0, logger: silentLogger, schedule: false });
    try {
      const answers = await Promise.all(Array.from({ length: 1000 }, () => post(`${api.url}/api/pipelines/held/run`, '{}').then(async (r) => ({ status: r.status, body: await r.json() }))));
      const started = answers.filter((a) => a.status === 202);
      assert.equal(started.length, 1, JSON.stringify(answers.filter((a) => a.status !== 409).slice(0, 3)));
      const refused = answers.filter((a) => a.status === 409);
      assert.equal(refused.length, 999);
      assert.ok(refused.every((a) => a.body.runId === started[0].body.runId));
      writeFiles(dir, { release: '' });
      const rec = await waitFor(async () => {
        const r = await (await fetch(`${api.url}/api/pipelines/held/runs/${started[0].body.runId}`, { headers: { 'x-api-key': KEY } })).json();
        return r.status !== 'running' ? r : undefined;
      }, 'the run to end');
      assert.equal(rec.status, 'success');
      const runs = await (await fetch(`${api.url}/api/pipelines/held/runs`, { headers: { 'x-api-key': KEY } })).json();
      assert.equal(runs.length, 1);
      console.log(`      RELIABILITY api: triggers=1000 started=${started.length} refused(409, naming the run)=${refused.length} other=${answers.length - started.length - refused.length} runs recorded=${runs.length}`);
    } finally {
      writeFiles(dir, { release: '' });
      await api.close();
    }
  });

  it('listens on loopback only by default', async () => {
    const dir = workspace();
    const api = await startApiServer({ files: findPipelineFiles([dir]), root: dir, apiKey: KEY, port: 0, logger: silentLogger, schedule: false });
    try {
      assert.match(api.url, /^http:\/\/127\.0\.0\.1:/);
    } finally {
      await api.close();
    }
  });
});

describe('scheduler', () => {
  class FakeClock implements SchedulerClock {
    t = new Date(2026, 0, 1, 12, 0, 0);
    timers: { at: number; fn: () => void; id: number }[] = [];
    private n = 0;
    now = () => new Date(this.t);
    setTimer = (fn: () => void, ms: number) => {
      const id = ++this.n;
      this.timers.push({ at: this.t.getTime() + ms, fn, id });
      return id;
    };
    clearTimer = (h: unknown) => {
      this.timers = this.timers.filter((x) => x.id !== h);
    };
    /** Moves time to the next timer and fires it. */
    advance(): void {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers.shift()!;
      this.t = new Date(next.at);
      next.fn();
    }
  }

  it('computes next runs for intervals and cron', () => {
    const now = new Date(2026, 0, 1, 12, 0);
    assert.equal(nextRunTime({ intervalStr: '15m' }, undefined, now)!.getTime(), now.getTime() + 15 * 60_000);
    assert.equal(nextRunTime({ intervalStr: '1h' }, new Date(now.getTime() - 30 * 60_000), now)!.getTime(), now.getTime() + 30 * 60_000);
    assert.equal(nextRunTime({ intervalStr: '1h' }, new Date(now.getTime() - 3.5 * 3_600_000), now)!.getTime(), now.getTime() + 30 * 60_000, 'a missed slot waits for the next one on the grid');
    assert.equal(nextRunTime({ schedule: '0 3 * * *' }, undefined, now)!.getHours(), 3);
    assert.equal(nextRunTime({}, undefined, now), undefined);
  });

  it('fires on schedule, never overlaps a run still going, and re-arms after each run', async () => {
    const dir = workspace();
    const clock = new FakeClock();
    const started: Date[] = [];
    let finish: (() => void) | undefined;
    const warnings: string[] = [];
    const s = new Scheduler(
      async () => {
        started.push(clock.now());
        await new Promise<void>((r) => (finish = r));
      },
      { ...silentLogger, warn: (m) => warnings.push(m) },
      clock,
    );
    writePipeline(dir, { name: 'Every 15m', intervalStr: '15m', steps: [] }, 'fast.pipeline.json');
    s.set([path.join(dir, 'fast.pipeline.json')]);
    assert.equal(s.list()[0].nextRunAt!.getTime(), clock.t.getTime() + 15 * 60_000);
    clock.advance();
    assert.equal(started.length, 1);
    // A long run: the scheduler is not re-armed until it ends, so nothing can overlap.
    assert.equal(clock.timers.length, 0);
    finish!();
    await waitFor(() => clock.timers.length === 1, 're-armed after the run');
    s.markRunning(path.join(dir, 'fast.pipeline.json'), true); // e.g. a run started from the editor
    clock.advance();
    assert.equal(started.length, 1, 'skipped while another trigger holds the pipeline');
    assert.ok(warnings.some((w) => /still going/.test(w)));
    s.markRunning(path.join(dir, 'fast.pipeline.json'), false);
    await waitFor(() => clock.timers.length === 1, 're-armed after the skip');
    clock.advance();
    assert.equal(started.length, 2);
    s.stop();
  });
});
