// Shared helpers for the reliability scripts (crash.ts, concurrency.ts): spawning the built CLI,
// and comparing two datasets byte for byte plus their sync state.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { waitFor } from '../support/waitFor';

export const ROOT = path.resolve(__dirname, '../../..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');

export const log = (part: string, s: string) => process.stderr.write(`${part}: ${s}\n`);

export function tempRoot(hint: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `dsp-rel-${hint}-`));
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Cli {
  child: ChildProcess;
  pid: number;
  exited: boolean;
  done: Promise<Exit>;
  /** SIGKILLs the CLI and everything it started (its own process group). */
  kill(): void;
}

/** Starts `node dist/cli.js ...args` in its own process group. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd = ROOT): Cli {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c));
  child.stderr!.on('data', (c: Buffer) => (stderr += c));
  const cli: Cli = {
    child,
    pid: child.pid!,
    exited: false,
    done: new Promise<Exit>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => {
        cli.exited = true;
        resolve({ code, signal, stdout, stderr });
      });
    }),
    kill() {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    },
  };
  return cli;
}

/**
 * For waitFor (test/support/waitFor.ts) on the reliability scripts' cheap checks (a file, a
 * counter): the CLI runs they wait on can take a minute on a loaded machine, and a crash test
 * wants to act within milliseconds of the condition.
 */
export const CLI_WAIT_MS = 60_000;
export const CLI_POLL_MS = 2;

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** azurite (Microsoft's Blob emulator) on a free port, once it accepts connections. */
export async function startAzurite(): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawn(path.join(ROOT, 'node_modules/.bin/azurite-blob'), ['--inMemoryPersistence', '--disableTelemetry', '--blobHost', '127.0.0.1', '--blobPort', String(port)], { stdio: ['ignore', 'ignore', 'ignore'] });
  const answers = () =>
    new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
  await waitFor(async () => child.exitCode !== null || (await answers()), 'azurite to listen', 25_000, 20);
  if (child.exitCode !== null) throw new Error('azurite did not start');
  return { child, port };
}

/** Every file under `dir` (relative path -> bytes), skipping `.dsp/` at the top when asked. */
export function readTree(dir: string, skipMeta = true, skip: (rel: string) => boolean = () => false): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (skipMeta && !rel && e.name === '.dsp') continue;
      if (skip(r)) continue;
      const abs = path.join(d, e.name);
      if (e.isDirectory()) walk(abs, r);
      else out.set(r, fs.readFileSync(abs));
    }
  };
  if (fs.existsSync(dir)) walk(dir, '');
  return out;
}

/** Counts files under `dir` without reading them (skips .dsp). */
export function countFiles(dir: string): number {
  let n = 0;
  const walk = (d: string, top: boolean) => {
    let ents: fs.Dirent[];
    try {
      ents = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of ents) {
      if (top && (e.name === '.dsp' || e.name === 'info.labels' || e.name === 'labels.txt')) continue;
      if (e.isDirectory()) walk(path.join(d, e.name), false);
      else n++;
    }
  };
  walk(dir, true);
  return n;
}

export function compareTrees(a: Map<string, Buffer>, b: Map<string, Buffer>): { compared: number; mismatches: string[] } {
  const mismatches: string[] = [];
  let compared = 0;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w) mismatches.push(`missing in B: ${k}`);
    else {
      compared++;
      if (!v.equals(w)) mismatches.push(`content differs: ${k} (${v.length} vs ${w.length} bytes)`);
    }
  }
  for (const k of b.keys()) if (!a.has(k)) mismatches.push(`extra in B: ${k}`);
  return { compared, mismatches };
}

/** Fields of a state entry that legitimately differ between two runs of the same data. */
export const RUN_SPECIFIC_STATE_FIELDS = ['syncedAt'];

export interface StateView {
  entries: Map<string, Record<string, unknown>>;
  journalPresent: boolean;
  header: string;
}

/** The sync state as the product reads it: snapshot (.dsp/state.json) replayed with the journal. */
export function readState(datasetDir: string): StateView {
  const dir = path.join(datasetDir, '.dsp');
  const entries = new Map<string, Record<string, unknown>>();
  const lines = fs.readFileSync(path.join(dir, 'state.json'), 'utf8').split('\n').filter(Boolean);
  const header = lines.shift() ?? '';
  const put = (e: Record<string, unknown>) => {
    const c: Record<string, unknown> = { ...e };
    for (const f of RUN_SPECIFIC_STATE_FIELDS) delete c[f];
    entries.set(`${e.source}\u0000${e.key}`, c);
  };
  for (const l of lines) put(JSON.parse(l));
  const jf = path.join(dir, 'state.journal');
  const journalPresent = fs.existsSync(jf);
  if (journalPresent)
    for (const l of fs.readFileSync(jf, 'utf8').split('\n')) {
      if (!l) continue;
      try {
        const j = JSON.parse(l);
        if (j.op === 'set') put(j.e);
        else entries.delete(`${j.source}\u0000${j.key}`);
      } catch {
        /* torn line */
      }
    }
  return { entries, journalPresent, header };
}

const canon = (v: unknown): string => JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : 1))) : x));

export function compareStates(a: StateView, b: StateView): { compared: number; mismatches: string[] } {
  const mismatches: string[] = [];
  let compared = 0;
  if (a.header !== b.header) mismatches.push(`state header differs: ${a.header} vs ${b.header}`);
  for (const [k, v] of a.entries) {
    const w = b.entries.get(k);
    if (!w) mismatches.push(`state entry missing in B: ${k.replace('\u0000', ' ')}`);
    else {
      compared++;
      if (canon(v) !== canon(w)) mismatches.push(`state entry differs: ${canon(v)} vs ${canon(w)}`);
    }
  }
  for (const k of b.entries.keys()) if (!a.entries.has(k)) mismatches.push(`extra state entry in B: ${k.replace('\u0000', ' ')}`);
  return { compared, mismatches };
}

/** Run records (.dsp/runs/*.json) of a dataset. */
export function readRuns(datasetDir: string): Record<string, any>[] {
  const dir = path.join(datasetDir, '.dsp', 'runs');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .map((n) => JSON.parse(fs.readFileSync(path.join(dir, n), 'utf8')));
}

/**
 * A custom transformation block that marks "I hold the dataset" and waits for a release file:
 * $MARK_DIR/entered-$RUN_ID is written on entry, $MARK_DIR/holding is created exclusively (a second
 * holder at the same time writes $MARK_DIR/double-$RUN_ID), and it exits once $MARK_DIR/release exists.
 */
export function writeHoldScript(dir: string): string {
  const file = path.join(dir, 'hold.js');
  fs.writeFileSync(
    file,
    `const fs = require('fs'), path = require('path');
const dir = process.env.MARK_DIR, id = process.env.RUN_ID;
let mine = false;
try { fs.closeSync(fs.openSync(path.join(dir, 'holding'), 'wx')); mine = true; } catch { fs.writeFileSync(path.join(dir, 'double-' + id), ''); }
fs.writeFileSync(path.join(dir, 'entered-' + id), String(process.pid));
const t = setInterval(() => {
  if (fs.existsSync(path.join(dir, 'release'))) {
    clearInterval(t);
    if (mine) fs.rmSync(path.join(dir, 'holding'), { force: true });
    process.exit(0);
  }
}, 2);
`,
  );
  return file;
}

export function markers(dir: string, prefix: string): string[] {
  try {
    return fs.readdirSync(dir).filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}
