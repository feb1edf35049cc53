// Sharded runs as a user starts them: N CLI processes at once (as an Indexed Job's pods or a CI
// matrix would), then `finalize`; and a shard killed midway and started again. Shared by the
// in-memory endpoint's test (test/unit/sharded.test.ts) and the real S3 server's
// (test/integration/sharded.test.ts).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { waitFor } from './waitFor';

export const CLI = path.resolve(__dirname, '../../../dist/cli.js');

/** Objects for a sharded run: labels in folders, keys that collide by case and by Unicode form, and the same content under several keys. */
export function shardFixture(count: number): { key: string; body: string }[] {
  const out: { key: string; body: string }[] = [];
  for (let i = 0; i < count; i++) out.push({ key: `data/${['cats', 'dogs', 'birds'][i % 3]}/img-${String(i).padStart(4, '0')}.csv`, body: `sample ${i}\n${'x'.repeat(i % 97)}\n` });
  out.push(
    { key: 'data/cats/Case.csv', body: 'upper case\n' },
    { key: 'data/cats/case.csv', body: 'lower case\n' },
    { key: 'data/CATS/case.csv', body: 'a folder in upper case\n' },
    { key: 'data/cats/caf\u00e9.csv', body: 'composed (NFC)\n' },
    { key: 'data/cats/cafe\u0301.csv', body: 'decomposed (NFD)\n' },
    { key: 'data/dogs/same-1.csv', body: 'the same bytes\n' },
    { key: 'data/dogs/same-2.csv', body: 'the same bytes\n' },
    { key: 'data/birds/same-3.csv', body: 'the same bytes\n' },
  );
  return out;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], env: NodeJS.ProcessEnv, onSpawn?: (pid: number) => void): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c));
    p.stderr.on('data', (c: Buffer) => (stderr += c));
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (p.pid) onSpawn?.(p.pid);
  });
}

/** Every shard of `file` at once, then finalize; the exit codes of each. */
export async function runSharded(file: string, shards: number, env: NodeJS.ProcessEnv, extra: string[] = []): Promise<{ shards: CliResult[]; finalize: CliResult }> {
  const results = await Promise.all(Array.from({ length: shards }, (_, k) => cli(['run', file, '--shard', `${k + 1}/${shards}`, '--quiet', ...extra], env)));
  return { shards: results, finalize: await cli(['finalize', file, '--json'], env) };
}

/** Starts shard K/N and SIGKILLs it once it has recorded at least one sample; resolves when it is gone. */
export async function killShardMidway(file: string, k: number, n: number, datasetDir: string, env: NodeJS.ProcessEnv, extra: string[] = []): Promise<CliResult> {
  const journal = path.join(datasetDir, '.dsp', 'shards', `${k}-of-${n}`, 'state.journal');
  let pid = 0;
  const done = cli(['run', file, '--shard', `${k}/${n}`, '--quiet', ...extra], env, (p) => (pid = p));
  let exited = false;
  void done.then(() => (exited = true));
  await waitFor(() => exited || (fs.existsSync(journal) && fs.statSync(journal).size > 0), `shard ${k}/${n} to record a sample`, 60_000);
  if (!exited) process.kill(pid, 'SIGKILL');
  return done;
}
