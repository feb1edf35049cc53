// A user's command line (training, build, custom block), its output logged line by line and its
// tail kept for the error message.
import { spawn } from 'node:child_process';
import type { Logger } from '../types';

export interface ShellResult {
  code: number | null;
  tail: string;
  timedOut: boolean;
}

export function runShell(command: string, cwd: string, env: NodeJS.ProcessEnv, logger: Logger, signal?: AbortSignal, timeoutMs = 3_600_000, redact: string[] = []): Promise<ShellResult> {
  const hide = (text: string) => redact.reduce((t, s) => (s.length >= 4 ? t.split(s).join('***') : t), text);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(command, { cwd, env, shell: true, stdio: ['ignore', 'pipe', 'pipe'], signal, timeout: timeoutMs, killSignal: 'SIGTERM' });
    let tail = '';
    const onData = (b: Buffer) => {
      const text = hide(b.toString('utf8'));
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) logger.info(`  | ${line}`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => (signal?.aborted ? resolve({ code: null, tail, timedOut: false }) : reject(err)));
    child.on('close', (code, sig) => resolve({ code, tail, timedOut: code === null && sig !== null && !signal?.aborted && Date.now() - started >= timeoutMs - 50 }));
  });
}

/** "exited with code 2" / "was stopped after 600 s (timeoutSeconds)" / "was cancelled". */
export function exitDescription(r: ShellResult, timeoutMs: number, signal?: AbortSignal): string {
  if (signal?.aborted) return 'was cancelled';
  if (r.timedOut) return `was stopped after ${Math.round(timeoutMs / 1000)} s (timeoutSeconds)`;
  return r.code === null ? 'was killed by a signal' : `exited with code ${r.code}`;
}
