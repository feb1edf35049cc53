// Crash safety: 20 SIGKILLs at random points of an S3 sync (mid-listing and mid-transfer), then a
// normal run, must give exactly the dataset and sync state a clean run gives. Then a SIGKILL during a
// post-sync custom block: the dataset stays intact, the killed run is reported, the block reruns.
//
//   node out/test/reliability/crash.js        (after: node esbuild.mjs && npx tsc -p .)
//   RELIABILITY crash: kills=… files compared=… state entries compared=… mismatches=0 …
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { compareStates, compareTrees, countFiles, markers, readRuns, readState, readTree, ROOT, RUN_SPECIFIC_STATE_FIELDS, startCli, tempRoot, CLI_POLL_MS, CLI_WAIT_MS, writeHoldScript, type Exit } from './common';
import { waitFor } from '../support/waitFor';

const PART = 'crash';
const N = Number(process.env.CRASH_OBJECTS ?? 5000);
const KILLS = Number(process.env.CRASH_KILLS ?? 20);
const PAGE = 250; // DSP_S3_PAGE_SIZE: 20 list pages for 5,000 objects, so kills can land mid-listing
const BUCKET = 'crash';
const log = (s: string) => process.stderr.write(`${PART}: ${s}\n`);
const rnd = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

function request(url: string, method = 'GET'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method }, (res) => {
      let s = '';
      res.on('data', (c: Buffer) => (s += c));
      res.on('end', () => resolve(s));
    });
    req.on('error', reject);
    req.end();
  });
}

async function startMemS3(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'out', 'bench', 'mem-s3.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c;
      const m = /^(\d+)\n/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`mem-s3 exited ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
}

/** A proxy that delays every response by 1-4 ms and counts list pages and object GETs as they start. */
interface Proxy {
  url: string;
  lists: number;
  gets: number;
  onResponse?: (kind: 'list' | 'get' | 'other') => void;
  close(): void;
}

async function startProxy(upstream: string): Promise<Proxy> {
  const up = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const p: Proxy = { url: '', lists: 0, gets: 0, close: () => undefined };
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const segs = u.pathname.split('/');
    const kind: 'list' | 'get' | 'other' = req.method === 'GET' && segs[1] && !segs.slice(2).join('/') && !u.searchParams.has('location') ? 'list' : req.method === 'GET' && segs.slice(2).join('/') ? 'get' : 'other';
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const fwd = http.request({ host: up.hostname, port: up.port, path: req.url, method: req.method, headers: req.headers, agent }, (ur) => {
        const body: Buffer[] = [];
        ur.on('data', (c: Buffer) => body.push(c));
        ur.on('end', () => {
          setTimeout(() => {
            if (res.destroyed) return;
            if (kind === 'list') p.lists++;
            else if (kind === 'get') p.gets++;
            const all = Buffer.concat(body);
            try {
              res.writeHead(ur.statusCode ?? 502, ur.headers);
              // Half the body now, half on the next turn: a kill fired here lands mid-transfer.
              const half = all.length >> 1;
              res.write(all.subarray(0, half));
              p.onResponse?.(kind);
              setImmediate(() => !res.destroyed && res.end(all.subarray(half)));
            } catch {
              /* client gone */
            }
          }, rnd(1, 4));
        });
      });
      fwd.on('error', () => res.destroy());
      fwd.end(Buffer.concat(chunks));
    });
    req.on('error', () => undefined);
    res.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  p.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  p.close = () => {
    server.closeAllConnections();
    server.close();
    agent.destroy();
  };
  return p;
}

function writePipeline(dir: string, extraSteps: unknown[] = [], fileName = 'crash.pipeline.json'): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, fileName);
  const pipeline = {
    name: 'crash test',
    dataset: 'dataset',
    steps: [
      {
        name: 'Fetch from mem-s3',
        builtinTransformationBlock: { type: 's3-to-project', path: `s3://${BUCKET}/data/`, endpoint: '${env:CRASH_S3_ENDPOINT}', region: 'us-east-1', accessKey: 'crash', secretKey: '${env:CRASH_S3_SECRET}', forcePathStyle: true, category: 'split', labelStrategy: 'infer-from-folder-name' },
      },
      ...extraSteps,
    ],
  };
  fs.writeFileSync(file, JSON.stringify(pipeline, null, 1));
  return file;
}

function parseRun(e: Exit): Record<string, any> {
  try {
    return JSON.parse(e.stdout);
  } catch {
    throw new Error(`run printed no JSON (exit ${e.code}, signal ${e.signal}): ${e.stderr.slice(-2000)}`);
  }
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const work = tempRoot('crash');
  const failures: string[] = [];
  const mem = await startMemS3();
  const proxy = await startProxy(mem.url);
  try {
    const seeded = JSON.parse(await request(`${mem.url}/__seed?bucket=${BUCKET}&prefix=data/&count=${N}&size=1500&labels=7`, 'POST')) as { objects: number };
    if (seeded.objects !== N) throw new Error(`seeded ${seeded.objects} objects, wanted ${N}`);
    const env = { CRASH_S3_ENDPOINT: proxy.url, CRASH_S3_SECRET: 'crash-secret', DSP_S3_PAGE_SIZE: String(PAGE), AWS_EC2_METADATA_DISABLED: 'true' };

    // Clean reference: dataset A.
    const fileA = writePipeline(path.join(work, 'A'));
    const dsA = path.join(work, 'A', 'dataset');
    const a = await startCli(['run', fileA, '--json'], env).done;
    const runA = parseRun(a);
    if (a.code !== 0 || runA.status !== 'success' || runA.counts?.new !== N) throw new Error(`reference run: exit ${a.code}, status ${runA.status}, new ${runA.counts?.new}: ${a.stderr.slice(-1500)}`);
    log(`reference run: ${N} objects in ${runA.durationMs} ms`);

    // Crash runs: dataset B.
    const fileB = writePipeline(path.join(work, 'B'));
    const dsB = path.join(work, 'B', 'dataset');
    let kills = 0;
    let listKills = 0;
    let getKills = 0;
    let finishedEarly = 0;
    const killLog: string[] = [];
    for (let attempt = 0; kills < KILLS; attempt++) {
      if (attempt >= KILLS * 3) throw new Error(`only ${kills} kills landed in ${attempt} attempts`);
      const have = countFiles(dsB);
      const remaining = N - have;
      const left = KILLS - kills;
      // Mostly mid-transfer (after the n-th object response starts), sometimes mid-listing.
      const byList = remaining < 2 || attempt % 4 === 3;
      const target = byList ? rnd(1, Math.ceil(N / PAGE)) : rnd(1, Math.max(1, Math.floor((2 * (remaining - 1)) / left)));
      const startLists = proxy.lists;
      const startGets = proxy.gets;
      const cli = startCli(['run', fileB, '--json'], env);
      let fired = false;
      proxy.onResponse = (kind) => {
        if (fired) return;
        if ((byList && kind === 'list' && proxy.lists - startLists >= target) || (!byList && kind === 'get' && proxy.gets - startGets >= target)) {
          fired = true;
          cli.kill();
        }
      };
      const e = await cli.done;
      proxy.onResponse = undefined;
      if (e.signal === 'SIGKILL') {
        kills++;
        if (byList) listKills++;
        else getKills++;
        killLog.push(`${byList ? 'list' : 'get'}#${target}@${have}`);
      } else {
        finishedEarly++;
        log(`attempt ${attempt}: the run ended (exit ${e.code}) before the kill point ${byList ? 'list' : 'get'} #${target}`);
        if (e.code !== 0) failures.push(`a crash-series run exited ${e.code}: ${e.stderr.slice(-1000)}`);
      }
    }
    log(`${kills} kills (${getKills} mid-transfer, ${listKills} mid-listing), ${finishedEarly} runs finished before their kill point; files in B before the final run: ${countFiles(dsB)}`);
    log(`kill points (trigger#n@files-in-B): ${killLog.join(' ')}`);
    const fin = await startCli(['run', fileB, '--json'], env).done;
    const runFin = parseRun(fin);
    if (fin.code !== 0 || runFin.status !== 'success') failures.push(`final run: exit ${fin.code}, status ${runFin.status}: ${fin.stderr.slice(-1500)}`);

    const files = compareTrees(readTree(dsA), readTree(dsB));
    const sa = readState(dsA);
    const sb = readState(dsB);
    const states = compareStates(sa, sb);
    if (sa.entries.size !== N) failures.push(`reference state has ${sa.entries.size} entries, wanted ${N}`);
    if (sb.journalPresent) failures.push('B still has a state journal after a completed run');
    const tmpB = path.join(dsB, '.dsp', 'tmp');
    const leftovers = fs.existsSync(tmpB) ? fs.readdirSync(tmpB) : [];
    if (leftovers.length) failures.push(`B has ${leftovers.length} leftover temp files in .dsp/tmp: ${leftovers.slice(0, 5).join(', ')}`);
    if (fs.existsSync(path.join(dsB, '.dsp', 'lock'))) failures.push('B still has a lock file after the final run');
    const stuck = readRuns(dsB).filter((r) => r.status === 'running');
    if (stuck.length) failures.push(`${stuck.length} run records of B are still "running" after the final run: ${stuck.map((r) => r.id).join(', ')}`);
    const mismatches = [...files.mismatches, ...states.mismatches];

    // A SIGKILL during a post-sync custom block, then a normal run.
    const marks = path.join(work, 'marks');
    fs.mkdirSync(marks);
    const hold = writeHoldScript(work);
    const actFile = writePipeline(path.join(work, 'B'), [
      { name: 'Slow custom block', transformationBlock: { command: `node ${JSON.stringify(hold)}` } },
      { name: 'Create version', builtinTransformationBlock: { type: 'project-action', createVersion: true } },
    ], 'crash-action.pipeline.json');
    const actEnv = { ...env, MARK_DIR: marks };
    const k = startCli(['run', actFile, '--json'], actEnv);
    await waitFor(() => markers(marks, 'entered-').length > 0 || k.exited, 'the custom block to start', CLI_WAIT_MS, CLI_POLL_MS);
    if (k.exited) throw new Error(`the action run ended before its block started: ${(await k.done).stderr.slice(-1500)}`);
    const killedRunId = markers(marks, 'entered-')[0].slice('entered-'.length);
    k.kill();
    const ke = await k.done;
    if (ke.signal !== 'SIGKILL') failures.push(`the action run was not killed (exit ${ke.code})`);
    const afterKill = [...compareTrees(readTree(dsA), readTree(dsB)).mismatches, ...compareStates(sa, readState(dsB)).mismatches];
    if (afterKill.length) failures.push(`dataset B changed by a kill during the custom block: ${afterKill.slice(0, 5).join('; ')}`);
    const lockLeft = fs.existsSync(path.join(dsB, '.dsp', 'lock'));
    fs.rmSync(path.join(marks, 'holding'), { force: true }); // the killed block's own marker
    fs.writeFileSync(path.join(marks, 'release'), '');
    const r2 = await startCli(['run', actFile, '--json'], actEnv).done;
    const run2 = parseRun(r2);
    const stepOf = (name: string) => (run2.steps ?? []).find((s: { name: string }) => s.name === name);
    if (r2.code !== 0 || run2.status !== 'success') failures.push(`run after the action kill: exit ${r2.code}, status ${run2.status}: ${r2.stderr.slice(-1500)}`);
    if (stepOf('Slow custom block')?.status !== 'success') failures.push(`custom block after the kill: ${JSON.stringify(stepOf('Slow custom block'))}`);
    const reran = markers(marks, 'entered-').includes(`entered-${run2.id}`);
    if (!reran) failures.push('the custom block did not rerun after the kill');
    const killedRec = readRuns(dsB).find((r) => r.id === killedRunId);
    const killedReported = killedRec?.status === 'failed' && /stopped before the run finished/.test(killedRec.error ?? '');
    if (!killedReported) failures.push(`the killed action run is not reported as abandoned: ${JSON.stringify({ status: killedRec?.status, error: killedRec?.error })}`);
    const ver = stepOf('Create version');
    if (ver?.status !== 'success' || !/version v1 created/.test(ver?.message ?? '')) failures.push(`create-version after the kill: ${JSON.stringify(ver)}`);
    // A version keeps the dataset in vN/dataset/ (beside its state, pipeline file, model and version.json).
    const v1 = compareTrees(readTree(dsB), readTree(path.join(`${dsB}.versions`, 'v1', 'dataset')));
    if (v1.mismatches.length) failures.push(`version v1 differs from the dataset: ${v1.mismatches.slice(0, 5).join('; ')}`);
    const afterRerun = [...compareTrees(readTree(dsA), readTree(dsB)).mismatches, ...compareStates(sa, readState(dsB)).mismatches];
    if (afterRerun.length) failures.push(`dataset B differs from A after the action rerun: ${afterRerun.slice(0, 5).join('; ')}`);
    log(`action kill: lock left by the kill ${lockLeft ? 'yes (taken over)' : 'no'}, killed run reported abandoned: ${killedReported}, block reran: ${reran}, v1 files ${v1.compared}`);

    // A SIGKILL during create-version (as soon as the new version folder appears), then a normal run:
    // every version folder left must be a complete version (version.json and the dataset's files).
    const versions = `${dsB}.versions`;
    const kv = startCli(['run', actFile, '--json'], actEnv);
    await waitFor(() => fs.existsSync(path.join(versions, 'v2')) || kv.exited, 'create-version to start v2', CLI_WAIT_MS, CLI_POLL_MS);
    kv.kill();
    const kve = await kv.done;
    const versionKilled = kve.signal === 'SIGKILL';
    if (!versionKilled) log(`the create-version run ended (exit ${kve.code}) before the kill`);
    const r3 = await startCli(['run', actFile, '--json'], actEnv).done;
    const run3 = parseRun(r3);
    if (r3.code !== 0 || run3.status !== 'success') failures.push(`run after the create-version kill: exit ${r3.code}, status ${run3.status}`);
    const dsTree = readTree(dsB);
    const incomplete: string[] = [];
    for (const v of fs.readdirSync(versions).sort()) {
      const vt = readTree(path.join(versions, v, 'dataset'));
      const c = compareTrees(dsTree, vt);
      const hasMeta = fs.existsSync(path.join(versions, v, 'version.json'));
      if (!hasMeta || c.mismatches.length) incomplete.push(`${v} (${vt.size} of ${dsTree.size} files, ${hasMeta ? 'has' : 'no'} version.json)`);
    }
    if (incomplete.length) failures.push(`a create-version killed mid-way leaves incomplete version folders that the next run does not clean up or mark: ${incomplete.join(', ')}; the rerun made: ${(run3.steps ?? []).find((s: { name: string }) => s.name === 'Create version')?.message}`);
    log(`create-version kill: killed=${versionKilled}, incomplete versions left: ${incomplete.length ? incomplete.join(', ') : 'none'}`);

    for (const m of mismatches.slice(0, 20)) log(`MISMATCH ${m}`);
    for (const f of failures) log(`FAIL ${f}`);
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    process.stdout.write(
      `RELIABILITY crash: kills=${kills} (mid-transfer ${getKills}, mid-listing ${listKills}) files compared=${files.compared} state entries compared=${states.compared} (ignored: ${RUN_SPECIFIC_STATE_FIELDS.join(',')}) mismatches=${mismatches.length} action kill: dataset intact=${afterKill.length === 0} block reran=${reran} killed run reported=${killedReported} create-version kill: incomplete versions left=${incomplete.length} failures=${failures.length} time=${secs}s\n`,
    );
    if (!process.env.KEEP) fs.rmSync(work, { recursive: true, force: true });
    else log(`kept ${work}`);
    return mismatches.length || failures.length ? 1 : 0;
  } finally {
    proxy.close();
    mem.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${PART}: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.stdout.write(`RELIABILITY crash: error ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
