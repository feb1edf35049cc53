// The built CLI (dist/cli.js) as a user runs it: output formats, exit codes, and a real process
// killed mid-run that resumes to exactly the dataset a clean run makes.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makePng } from '../../src/demo/images';
import { EDGE_IMPULSE_EXAMPLE } from './validate.test';
import { countFiles, snapshot, tempDir, waitFor, writeFiles, writePipeline } from './helpers';

const CLI = path.resolve(__dirname, '../../../dist/cli.js');
const png = (seed: number) => makePng(4, 4, () => [seed % 256, (seed >> 8) % 256, 7]);

function cli(args: string[], cwd?: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function makeSource(dir: string, n: number): void {
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < n; i++) files[`${['cars', 'unknown', 'unlabeled'][i % 3]}/img${i}.png`] = png(i);
  files['cars/.hidden.png'] = png(99999);
  writeFiles(path.join(dir, 'src'), files);
}

describe('CLI', function () {
  before(function () {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run "node esbuild.mjs" (make build) first`);
  });

  it('validate prints FILE:LINE:COL: severity: message and exits 1 on errors', () => {
    const dir = tempDir();
    const file = path.join(dir, 'ei.pipeline.json');
    fs.writeFileSync(file, EDGE_IMPULSE_EXAMPLE);
    const r = cli(['validate', file]);
    assert.equal(r.code, 1);
    const lines = r.stdout.trim().split('\n');
    const line = EDGE_IMPULSE_EXAMPLE.split('\n').findIndex((l) => l.includes('secretKeyEncrypted')) + 1;
    assert.ok(lines.some((l) => l.startsWith(`${file}:${line}:17: error: secretKeyEncrypted`)), r.stdout);
    assert.ok(lines.some((l) => /: warning: retrainModel has no trainCommand/.test(l)), r.stdout);
    for (const l of lines) assert.match(l, /^.+:\d+:\d+: (error|warning|info): .+$/);
  });

  it('validate exits 0 on a valid file; bad usage exits 2', () => {
    const dir = tempDir();
    const file = writePipeline(dir, { name: 'ok', steps: [] });
    assert.equal(cli(['validate', file]).code, 0);
    assert.equal(cli(['validate']).code, 2);
    assert.equal(cli(['frobnicate', file]).code, 2);
    assert.equal(cli(['run', file, '--concurrency', 'lots']).code, 2);
    const missing = cli(['validate', path.join(dir, 'nope.pipeline.json')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /No such file/);
  });

  it('an invalid pipeline never starts a run', () => {
    const dir = tempDir();
    const file = writePipeline(dir, { name: 'bad', steps: [{ name: 'x', builtinTransformationBlock: { type: 'folder-to-project', path: 'src', labelStrategy: 'guess' } }] });
    fs.mkdirSync(path.join(dir, 'src'));
    const r = cli(['run', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /invalid; nothing was run/);
    assert.ok(!fs.existsSync(path.join(dir, 'dataset')));
  });

  it('preview --json prints one document listing every object with key, category, label, path, action, reason', () => {
    const dir = tempDir();
    makeSource(dir, 12);
    const file = writePipeline(dir, { name: 'p', steps: [{ name: 'i', builtinTransformationBlock: { type: 'folder-to-project', path: 'src' } }] });
    const r = cli(['preview', file, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    const items = doc.steps[0].items;
    assert.equal(items.length, 13);
    for (const it of items) {
      assert.ok(['training', 'testing', null].includes(it.category));
      assert.ok(['download', 'skip', 'reject'].includes(it.action));
      assert.ok('key' in it && 'label' in it && 'path' in it);
      if (it.action !== 'download') assert.ok(it.reason, `reason for ${it.key}`);
    }
    const hidden = items.find((i: { key: string }) => i.key === 'cars/.hidden.png');
    assert.equal(hidden.action, 'skip');
    assert.equal(hidden.path, null);
    const unl = items.find((i: { key: string }) => i.key === 'unlabeled/img2.png');
    assert.equal(unl.label, null);
    assert.ok(!fs.existsSync(path.join(dir, 'dataset')), 'preview writes nothing');
  });

  it('run --json prints the run record; runs lists it; --dry-run writes nothing', () => {
    const dir = tempDir();
    makeSource(dir, 9);
    const file = writePipeline(dir, { name: 'p', steps: [{ name: 'i', builtinTransformationBlock: { type: 'folder-to-project', path: 'src' } }] });
    const dry = cli(['run', file, '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(JSON.parse(dry.stdout).counts.new, 9);
    assert.ok(!fs.existsSync(path.join(dir, 'dataset')));
    const r = cli(['run', file, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const run = JSON.parse(r.stdout);
    assert.equal(run.status, 'success');
    assert.equal(run.trigger, 'cli');
    assert.equal(run.counts.new, 9);
    const runs = JSON.parse(cli(['runs', file, '--json']).stdout);
    assert.equal(runs[0].id, run.id);
    const table = cli(['runs', file]);
    assert.match(table.stdout, new RegExp(run.id));
  });

  it('a run with rejected items exits 3 (distinct from failure), and prints the summary table', () => {
    const dir = tempDir();
    writeFiles(path.join(dir, 'src'), { 'cars/a.png': png(1), 'cars/b\\c.png': png(2), 'dogs/d.png': png(3) });
    const file = writePipeline(dir, { name: 'p', steps: [{ name: 'i', builtinTransformationBlock: { type: 'folder-to-project', path: 'src' } }] });
    const r = cli(['run', file]);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /category\s+label\s+new\s+changed\s+unchanged\s+removed\s+duplicate\s+rejected/);
    assert.match(r.stdout, /total\s+2\s+0\s+0\s+0\s+0\s+1/);
    assert.match(r.stdout, /backslash/);
  });

  it('a run killed at any moment resumes to exactly the dataset a clean run makes', async function () {
    this.timeout(180_000);
    const dir = tempDir('dsp-kill-');
    const N = 1500;
    makeSource(dir, N);
    const body = { name: 'k', steps: [{ name: 'i', builtinTransformationBlock: { type: 'folder-to-project', path: 'src', concurrency: 4 } }] };
    const clean = writePipeline(dir, { ...body, dataset: 'clean' }, 'clean.pipeline.json');
    assert.equal(cli(['run', clean, '--quiet']).code, 0);
    const expected = snapshot(path.join(dir, 'clean'));
    assert.equal(Object.keys(expected).filter((f) => f.endsWith('.png')).length, N);

    const killed = writePipeline(dir, { ...body, dataset: 'killed' }, 'killed.pipeline.json');
    const ds = path.join(dir, 'killed');
    // Kill at several points: early, mid-way, late. Each time the process dies with SIGKILL (no cleanup).
    let kills = 0;
    for (const threshold of [1, Math.floor(N / 3), Math.floor((2 * N) / 3)]) {
      const child = spawn(process.execPath, [CLI, 'run', killed, '--quiet', '--concurrency', '1'], { stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const reached = await Promise.race([
        waitFor(() => countFiles(ds) >= threshold, `${threshold} files`, 60_000, 2).then(() => true),
        exited.then(() => false),
      ]);
      if (reached) {
        child.kill('SIGKILL');
        kills++;
      }
      await exited;
    }
    assert.ok(kills >= 2, `the run was killed mid-way ${kills} times`);
    const partial = countFiles(ds);
    assert.ok(partial < N + 1, `a killed run is partial (${partial} files)`);
    const r = cli(['run', killed, '--json', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(snapshot(ds), expected);
    assert.deepEqual(fs.readdirSync(path.join(ds, '.dsp', 'tmp')), [], 'no temporary files left');
    const again = JSON.parse(cli(['run', killed, '--json', '--quiet']).stdout);
    assert.equal(again.counts.new + again.counts.changed, 0, 'a further run syncs nothing');
    assert.equal(again.counts.unchanged, N);
    const history = JSON.parse(cli(['runs', killed, '--json']).stdout);
    assert.ok(history.some((h: { status: string; error?: string }) => h.status === 'failed' && /stopped before the run finished/.test(h.error ?? '')), 'killed runs are marked in the history');
  });

  it('control characters from keys, step names and labels never reach the terminal raw, and cannot forge FILE:LINE:COL lines', () => {
    const dir = tempDir();
    const forged = 'x\nfake.pipeline.json:1:1: error: forged\u001b[31m\r';
    // A step name with a newline and ESC; a duplicated step name makes validate print it in a problem.
    const file = writePipeline(dir, { name: `P${forged}`, steps: [{ name: forged, builtinTransformationBlock: { type: 'folder-to-project', path: 'src' } }, { name: forged, builtinTransformationBlock: { type: 'folder-to-project', path: 'src' } }] });
    writeFiles(path.join(dir, 'src'), { 'cars/a.png': png(1) });
    // A source info.labels whose label holds a newline and ESC (the planner refuses such labels).
    writeFiles(path.join(dir, 'src'), { 'info.labels': JSON.stringify({ version: 1, files: [{ path: 'cars/a.png', category: 'training', label: { type: 'label', label: 'ok\n\u001b[2Jbad' } }] }) });
    const v = cli(['validate', file]);
    // eslint-disable-next-line no-control-regex
    const raw = (t: string) => /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(t);
    for (const t of [v.stdout, v.stderr]) assert.ok(!raw(t), JSON.stringify(t));
    assert.ok(!v.stdout.split('\n').some((l) => l.startsWith('fake.pipeline.json')), v.stdout);
    assert.match(v.stdout, /\\n/);
    // Fix the duplicate; run: names and labels in the summary stay on their lines.
    writePipeline(dir, { name: `P${forged}`, steps: [{ name: forged, builtinTransformationBlock: { type: 'folder-to-project', path: 'src' } }] });
    const r = cli(['run', file]);
    for (const t of [r.stdout, r.stderr]) assert.ok(!raw(t), JSON.stringify(t));
    assert.ok(!r.stdout.split('\n').some((l) => l.startsWith('fake.pipeline.json')), r.stdout);
  });
});
