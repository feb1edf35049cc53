// The dataset lock under contention: 40 trials of 2 or 3 `data-pipelines run` started at once on one
// folder-source pipeline and dataset, half of them over a stale lock (a SIGKILLed run's, or a dead
// pid's written the way acquireLock writes it). The pipeline ends with a custom block that marks
// "holding" exclusively and waits until every other run of the trial has exited or entered the block,
// so all runs of a trial overlap the winner's hold and any second holder is caught.
//
//   node out/test/reliability/concurrency.js        (after: node esbuild.mjs && npx tsc -p .)
//   RELIABILITY concurrency: trials=40 … double holds=0 loser messages=…
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compareStates, compareTrees, markers, readRuns, readState, readTree, startCli, tempRoot, CLI_POLL_MS, CLI_WAIT_MS, writeHoldScript, type Exit } from './common';
import { waitFor } from '../support/waitFor';

const PART = 'concurrency';
const TRIALS = Number(process.env.CONCURRENCY_TRIALS ?? 40);
const FILES = 240;
const LABELS = ['cat', 'dog', 'bird', 'fish'];
const NAME = 'concurrency test';
const log = (s: string) => process.stderr.write(`${PART}: ${s}\n`);

function writePipeline(dir: string, src: string, hold: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'lock.pipeline.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      name: NAME,
      dataset: 'dataset',
      steps: [
        { name: 'Import folder', builtinTransformationBlock: { type: 'folder-to-project', path: src, category: 'split', labelStrategy: 'infer-from-folder-name' } },
        { name: 'Hold', transformationBlock: { command: `node ${JSON.stringify(hold)}` } },
      ],
    }),
  );
  return file;
}

function json(e: Exit): Record<string, any> | undefined {
  try {
    return JSON.parse(e.stdout);
  } catch {
    return undefined;
  }
}

async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  const pid = c.pid!;
  await new Promise((r) => c.on('exit', r));
  return pid;
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const work = tempRoot('lock');
  const src = path.join(work, 'src');
  for (let i = 0; i < FILES; i++) {
    const d = path.join(src, LABELS[i % LABELS.length]);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, `s${String(i).padStart(4, '0')}.txt`), `sample ${i}\n`.repeat(20 + (i % 13)));
  }
  const hold = writeHoldScript(work);

  // Reference dataset.
  const refMarks = path.join(work, 'ref-marks');
  fs.mkdirSync(refMarks);
  fs.writeFileSync(path.join(refMarks, 'release'), '');
  const refFile = writePipeline(path.join(work, 'ref'), src, hold);
  const ref = await startCli(['run', refFile, '--json'], { MARK_DIR: refMarks }).done;
  if (ref.code !== 0 || json(ref)?.counts?.new !== FILES) throw new Error(`reference run: exit ${ref.code}: ${ref.stderr.slice(-1500)}`);
  const refDs = path.join(work, 'ref', 'dataset');
  const refTree = readTree(refDs);
  const refState = readState(refDs);

  const failures: string[] = [];
  let doubleHolds = 0;
  let loserMessages = 0;
  let runsStarted = 0;
  let staleTrials = 0;
  let staleKilled = 0;
  let staleWritten = 0;
  let filesCompared = 0;
  const re = /Another run is in progress on this dataset \(pid (\d+) on (\S+) since ([^)]+)\)/;
  for (let t = 0; t < TRIALS; t++) {
    const k = t % 3 === 2 ? 3 : 2;
    const dir = path.join(work, `t${t}`);
    const file = writePipeline(dir, src, hold);
    const ds = path.join(dir, 'dataset');
    const lock = path.join(ds, '.dsp', 'lock');
    const stale = t % 2 === 1;
    let already = 0;
    let killedRunId: string | undefined;
    if (stale) {
      staleTrials++;
      if (t % 4 === 1) {
        // A real run SIGKILLed while it holds the lock (in its custom block, after the import).
        const pre = path.join(dir, 'pre-marks');
        fs.mkdirSync(pre, { recursive: true });
        const c = startCli(['run', file, '--json'], { MARK_DIR: pre });
        await waitFor(() => markers(pre, 'entered-').length > 0 || c.exited, 'the pre-run to hold the lock', CLI_WAIT_MS, CLI_POLL_MS);
        if (c.exited) throw new Error(`trial ${t}: the pre-run ended early: ${(await c.done).stderr.slice(-1000)}`);
        killedRunId = markers(pre, 'entered-')[0].slice('entered-'.length);
        c.kill();
        await c.done;
        const held = JSON.parse(fs.readFileSync(lock, 'utf8'));
        if (held.pid !== c.pid) throw new Error(`trial ${t}: the lock left by the killed run names pid ${held.pid}, not ${c.pid}`);
        already = FILES;
        staleKilled++;
      } else {
        fs.mkdirSync(path.dirname(lock), { recursive: true });
        fs.writeFileSync(lock, JSON.stringify({ pid: await deadPid(), host: os.hostname(), since: new Date().toISOString(), pipeline: NAME }));
        staleWritten++;
      }
    }
    const marks = path.join(dir, 'marks');
    fs.mkdirSync(marks);
    const clis = Array.from({ length: k }, () => startCli(['run', file, '--json'], { MARK_DIR: marks }));
    runsStarted += k;
    await waitFor(() => clis.filter((c) => c.exited).length + markers(marks, 'entered-').length >= k, `trial ${t}: every run to exit or hold`, CLI_WAIT_MS, CLI_POLL_MS);
    fs.writeFileSync(path.join(marks, 'release'), '');
    const exits = await Promise.all(clis.map((c) => c.done));
    const doubles = markers(marks, 'double-').length;
    const winners = exits.map((e, i) => ({ e, pid: clis[i].pid })).filter((x) => x.e.code === 0);
    const tag = `trial ${t} (${k} runs, ${stale ? (killedRunId ? 'stale lock of a SIGKILLed run' : 'stale lock of a dead pid') : 'no lock'})`;
    if (winners.length > 1 || doubles > 0) {
      doubleHolds++;
      failures.push(`${tag}: ${winners.length} runs succeeded, ${doubles} double-hold markers`);
    }
    if (winners.length === 0) failures.push(`${tag}: no run took the lock: ${exits.map((e) => `exit ${e.code}: ${e.stderr.trim().slice(-300)}`).join(' | ')}`);
    const winner = winners[0];
    for (const [i, e] of exits.entries()) {
      if (e.code === 0) continue;
      const m = re.exec(e.stderr);
      if (e.code === 4 && m && winner && Number(m[1]) === winner.pid && m[2] === os.hostname()) loserMessages++;
      else failures.push(`${tag}: run ${clis[i].pid} lost with exit ${e.code} and: ${e.stderr.trim().slice(-400)} (winner pid ${winner?.pid})`);
    }
    if (winner) {
      const r = json(winner.e);
      if (r?.status !== 'success') failures.push(`${tag}: the winner's run is ${r?.status}: ${winner.e.stderr.slice(-500)}`);
      else if (r.counts?.new !== FILES - already) failures.push(`${tag}: the winner synced ${r.counts?.new} new samples, wanted ${FILES - already}`);
    }
    const files = compareTrees(refTree, readTree(ds));
    const states = compareStates(refState, readState(ds));
    filesCompared += files.compared;
    for (const m of [...files.mismatches, ...states.mismatches].slice(0, 5)) failures.push(`${tag}: ${m}`);
    if (fs.existsSync(lock)) failures.push(`${tag}: a lock file is left after every run ended: ${fs.readFileSync(lock, 'utf8')}`);
    if (killedRunId) {
      const rec = readRuns(ds).find((x) => x.id === killedRunId);
      if (rec?.status !== 'failed') failures.push(`${tag}: the SIGKILLed run's record is "${rec?.status}", not marked abandoned`);
    }
  }
  // Control: the detector must catch a second holder. Start a run, let it hold, delete its lock
  // behind its back, start another: both hold at once, and this must show as a double hold.
  {
    const dir = path.join(work, 'control');
    const file = writePipeline(dir, src, hold);
    const marks = path.join(dir, 'marks');
    fs.mkdirSync(marks, { recursive: true });
    const c1 = startCli(['run', file, '--json'], { MARK_DIR: marks });
    await waitFor(() => markers(marks, 'entered-').length > 0 || c1.exited, 'the control run to hold', CLI_WAIT_MS, CLI_POLL_MS);
    fs.rmSync(path.join(dir, 'dataset', '.dsp', 'lock'), { force: true });
    const c2 = startCli(['run', file, '--json'], { MARK_DIR: marks });
    await waitFor(() => markers(marks, 'entered-').length > 1 || c2.exited, 'the second control run', CLI_WAIT_MS, CLI_POLL_MS);
    fs.writeFileSync(path.join(marks, 'release'), '');
    const [e1, e2] = await Promise.all([c1.done, c2.done]);
    const caught = markers(marks, 'double-').length > 0 && e1.code === 0 && e2.code === 0;
    if (!caught) failures.push(`control: a forced double hold was not detected (exits ${e1.code}, ${e2.code}; ${markers(marks, 'double-').length} markers)`);
    log(`detector control (lock deleted under a holder): double hold detected=${caught}`);
  }
  for (const f of failures.slice(0, 40)) log(`FAIL ${f}`);
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  process.stdout.write(
    `RELIABILITY concurrency: trials=${TRIALS} (stale lock ${staleTrials}: ${staleKilled} SIGKILLed run, ${staleWritten} dead pid) runs=${runsStarted} double holds=${doubleHolds} loser messages=${loserMessages}/${runsStarted - TRIALS} files compared=${filesCompared} failures=${failures.length} time=${secs}s\n`,
  );
  if (!process.env.KEEP) fs.rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}`);
  return doubleHolds || failures.length || loserMessages !== runsStarted - TRIALS ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${PART}: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.stdout.write(`RELIABILITY concurrency: error ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
