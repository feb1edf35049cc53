// data-pipelines: the headless command over the same engine the editor uses.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';
import { findPipelineFiles, generateApiKey, pipelineId, startApiServer } from '../core/api/server';
import {
  DatasetLockedError,
  emptyCounts,
  formatProblem,
  listRuns,
  loadPipelineFile,
  previewPipeline,
  runPipeline,
  smtpFromEnv,
  verifyPipeline,
  type Counts,
  type Logger,
  type ProgressEvent,
  type RunRecord,
  type StepPreview,
} from '../core';
import { errorMessage } from '../core/util/errors';
import { escapeControl, escapeHuman, formatBytes, logEntry } from '../core/util/format';

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  partial: 3,
  locked: 4,
  cancelled: 130,
} as const;

const USAGE = `Usage: data-pipelines <command> FILE [options]

Commands:
  validate FILE                 check a *.pipeline.json; prints FILE:LINE:COL: error|warning: message
  preview FILE [--json]         list every object with its label, category, path and action; writes nothing
  verify FILE [--step NAME]     check each import step's location and credentials
  run FILE [--dry-run]          sync the dataset and run the post-sync actions
  runs FILE [--json]            the run history (newest first)
  serve [DIR|FILE…]             run pipelines on their schedules and serve the local API
                                (--port 8787, --host 127.0.0.1, --no-schedule); API key from
                                DSP_API_KEY or ~/.config/data-pipelines/api-key (created once)

Options:
  --json              print exactly one JSON document on stdout
  --step NAME         only this step (repeatable)
  --concurrency N     transfers in flight (default: per source; S3 64, GCS and Azure 16, folder 16)
  --dry-run           plan only (run)
  --quiet             no progress bar or log lines
  --verbose           debug log lines on stderr

Secrets: \${secret:NAME} and \${env:VAR} in the pipeline file are read from the environment.
Email reports: DSP_SMTP_URL=smtp://user:pass@host:587 (or DSP_SMTP_HOST, DSP_SMTP_PORT,
DSP_SMTP_USER, DSP_SMTP_PASS, DSP_SMTP_SECURE) and DSP_SMTP_FROM.

Exit codes:
  0    success
  1    the pipeline is invalid, or the run failed
  2    bad command line
  3    the run finished, but some objects were rejected or failed (see the report)
  4    another run holds this dataset's lock
  130  cancelled (Ctrl-C)
`;

interface Args {
  command?: string;
  file?: string;
  json: boolean;
  dryRun: boolean;
  quiet: boolean;
  verbose: boolean;
  steps: string[];
  concurrency?: number;
  limit?: number;
  files: string[];
  port?: number;
  host?: string;
  schedule: boolean;
}

export class UsageError extends Error {}

const OPTIONS = {
  json: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  verbose: { type: 'boolean', short: 'v' },
  step: { type: 'string', multiple: true },
  concurrency: { type: 'string' },
  limit: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'no-schedule': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export function parseArgs(argv: string[]): Args {
  const a: Args = { json: false, dryRun: false, quiet: false, verbose: false, steps: [], files: [], schedule: true };
  // Not strict: node's own messages for unknown options and missing values are replaced by ours
  // below, token by token in command-line order, so the first problem is the one reported.
  const { tokens } = nodeParseArgs({ args: argv, options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const positional: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') {
      positional.push(t.value);
      continue;
    }
    if (t.kind !== 'option') continue; // '--' ends the options; what follows is positional
    const spelled = t.inlineValue ? `${t.rawName}=${t.value}` : t.rawName;
    if (!Object.hasOwn(OPTIONS, t.name)) throw new UsageError(`unknown option ${spelled}`);
    const type = OPTIONS[t.name as keyof typeof OPTIONS].type;
    if (type === 'boolean' && t.value !== undefined) throw new UsageError(`${t.rawName} takes no value`);
    const value = (): string => {
      if (t.value === undefined) throw new UsageError(`${t.rawName} needs a value`);
      return t.value;
    };
    switch (t.name as keyof typeof OPTIONS) {
      case 'json':
        a.json = true;
        break;
      case 'dry-run':
        a.dryRun = true;
        break;
      case 'quiet':
        a.quiet = true;
        break;
      case 'verbose':
        a.verbose = true;
        break;
      case 'step':
        a.steps.push(value());
        break;
      case 'concurrency': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1 || n > 512) throw new UsageError('--concurrency takes a whole number from 1 to 512');
        a.concurrency = n;
        break;
      }
      case 'limit':
        a.limit = Number(value());
        break;
      case 'port': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError('--port takes a port number');
        a.port = n;
        break;
      }
      case 'host':
        a.host = value();
        break;
      case 'no-schedule':
        a.schedule = false;
        break;
      case 'help':
        a.command = 'help';
        break;
    }
  }
  a.command ??= positional[0];
  a.file = positional[1];
  a.files = positional.slice(1);
  return a;
}

function stderrLogger(a: Args): Logger {
  const write = (level: string, msg: string) => {
    if (!a.quiet) process.stderr.write(`${level} ${logEntry(msg)}\n`);
  };
  return { info: (m) => a.verbose && write('info ', m), warn: (m) => write('warn ', m), error: (m) => write('error', m), debug: (m) => a.verbose && write('debug', m) };
}

class ProgressBar {
  private lastLine = 0;
  private drawn = false;
  constructor(private readonly enabled: boolean) {}
  update(e: ProgressEvent): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastLine < 80 && e.done !== e.total) return;
    this.lastLine = now;
    const width = 30;
    let line: string;
    if (e.phase === 'transferring' && e.total > 0) {
      const filled = Math.round((e.done / e.total) * width);
      line = `${escapeControl(e.step.slice(0, 30))} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${e.done}/${e.total} ${formatBytes(e.bytes)}`;
    } else line = `${escapeControl(e.step.slice(0, 30))} ${escapeControl(e.message ?? e.phase)}`;
    process.stderr.write(`\r\x1b[2K${line}`);
    this.drawn = true;
  }
  clear(): void {
    if (this.drawn) process.stderr.write('\r\x1b[2K');
    this.drawn = false;
  }
}

function table(cells: string[][]): string {
  const rows = cells.map((r) => r.map((c) => escapeControl(c)));
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (/^\d+(\.\d+)?s?$/.test(cell) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd()).join('\n');
}

const COLUMNS: (keyof Counts)[] = ['new', 'changed', 'unchanged', 'removed', 'duplicate', 'rejected'];

export function summaryTable(run: RunRecord): string {
  const rows: string[][] = [['category', 'label', ...COLUMNS]];
  const total = emptyCounts();
  for (const step of run.steps) {
    for (const category of Object.keys(step.byCategoryLabel).sort()) {
      for (const label of Object.keys(step.byCategoryLabel[category]).sort()) {
        const c = step.byCategoryLabel[category][label];
        rows.push([category, label, ...COLUMNS.map((k) => String(c[k]))]);
      }
    }
  }
  for (const s of run.steps) for (const k of COLUMNS) total[k] += s.counts[k];
  rows.push(['total', '', ...COLUMNS.map((k) => String(total[k]))]);
  return table(rows);
}

function previewTable(previews: StepPreview[]): string {
  const out: string[] = [];
  for (const p of previews) {
    out.push(`${escapeControl(p.step)} (${p.type})`);
    const rows: string[][] = [['category', 'label', 'samples']];
    for (const cat of Object.keys(p.byCategoryLabel).sort()) for (const l of Object.keys(p.byCategoryLabel[cat]).sort()) rows.push([cat, l, String(p.byCategoryLabel[cat][l])]);
    out.push(table(rows));
    const c = p.counts;
    out.push(`to download: ${c.new} new, ${c.changed} changed (${formatBytes(c.bytes)}); unchanged ${c.unchanged}; removed ${c.removed}; duplicate ${c.duplicate}; skipped ${c.skipped}; rejected ${c.rejected}`);
    for (const w of p.warnings) out.push(`warning: ${logEntry(w)}`);
    for (const it of p.items.filter((i) => i.status === 'rejected').slice(0, 20)) out.push(`rejected: ${escapeControl(JSON.stringify(it.key))}: ${escapeControl(it.reason ?? '')}`);
    out.push('');
  }
  return out.join('\n');
}

function requireFile(a: Args): string {
  if (!a.file) throw new UsageError(`${a.command} needs a pipeline file: data-pipelines ${a.command} FILE`);
  return a.file;
}

/** Human output: no control character from a key, a name or a server reaches the terminal raw. */
function out(s: string): void {
  const t = escapeHuman(s);
  process.stdout.write(t.endsWith('\n') ? t : t + '\n');
}

/** Machine output: JSON, with C1 controls and bidi overrides as \u escapes (JSON.stringify leaves them raw). */
function outJson(value: unknown, indent?: number): void {
  const t = JSON.stringify(value, null, indent).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  process.stdout.write(t + '\n');
}

function err(s: string): void {
  const t = escapeHuman(s);
  process.stderr.write(t.endsWith('\n') ? t : t + '\n');
}

function exitForRun(run: RunRecord): number {
  switch (run.status) {
    case 'success':
      return run.counts.rejected || run.counts.checklistFailed ? EXIT.partial : EXIT.ok;
    case 'partial':
      return EXIT.partial;
    case 'cancelled':
      return EXIT.cancelled;
    default:
      return EXIT.failed;
  }
}

function apiKeyFor(env: NodeJS.ProcessEnv): { key: string; where: string } {
  if (env.DSP_API_KEY) return { key: env.DSP_API_KEY, where: 'the DSP_API_KEY environment variable' };
  const file = path.join(env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'data-pipelines', 'api-key');
  try {
    const key = fs.readFileSync(file, 'utf8').trim();
    if (key) return { key, where: file };
  } catch {
    /* created below */
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = generateApiKey();
  fs.writeFileSync(file, key + '\n', { mode: 0o600 });
  return { key, where: file };
}

async function serve(a: Args, logger: Logger, signal: AbortSignal): Promise<number> {
  const roots = a.files.length ? a.files : ['.'];
  const files = findPipelineFiles(roots);
  if (!files.length) throw new UsageError(`no *.pipeline.json files found in ${roots.join(', ')}`);
  const root = fs.existsSync(roots[0]) && fs.statSync(roots[0]).isDirectory() ? path.resolve(roots[0]) : path.dirname(path.resolve(roots[0]));
  const { key, where } = apiKeyFor(process.env);
  const verbose: Logger = { ...logger, info: (m) => !a.quiet && process.stderr.write(`info  ${logEntry(m)}\n`) };
  const server = await startApiServer({ files, root, apiKey: key, host: a.host, port: a.port ?? 8787, schedule: a.schedule, logger: verbose, notify: { smtp: smtpFromEnv(process.env) } });
  const first = pipelineId(root, files[0]);
  out(`Serving ${files.length} pipeline(s) on ${server.url} (API key in ${where}).`);
  for (const e of server.scheduler?.list() ?? []) out(`  ${pipelineId(root, e.file)}: ${e.error ?? (e.nextRunAt ? `next run ${e.nextRunAt.toISOString()}` : 'no schedule')}`);
  out(`Run one from code:\n  curl -X POST -H "x-api-key: $KEY" '${server.url}/api/pipelines/${encodeURIComponent(first)}/run?wait=1'`);
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  await server.close();
  return EXIT.ok;
}

export async function main(argv: string[]): Promise<number> {
  let a: Args;
  try {
    a = parseArgs(argv);
  } catch (e) {
    err(`data-pipelines: ${logEntry(errorMessage(e))}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (!a.command || a.command === 'help') {
    (a.command ? process.stdout : process.stderr).write(USAGE);
    return a.command ? EXIT.ok : EXIT.usage;
  }
  const logger = stderrLogger(a);
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.cancelled);
    process.stderr.write('\nCancelling… (press Ctrl-C again to stop at once)\n');
    controller.abort(new Error('cancelled'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    switch (a.command) {
      case 'validate': {
        const file = requireFile(a);
        const loaded = loadPipelineFile(file);
        if (a.json) outJson({ file, valid: !!loaded.pipeline, problems: loaded.problems }, 2);
        else {
          for (const p of loaded.problems) out(formatProblem(file, p));
          if (!loaded.problems.length) err(`${escapeControl(file)}: ok`);
        }
        return loaded.pipeline ? EXIT.ok : EXIT.failed;
      }
      case 'preview':
      case 'verify':
      case 'run': {
        const file = requireFile(a);
        const loaded = loadPipelineFile(file);
        if (!loaded.pipeline) {
          for (const p of loaded.problems) err(formatProblem(file, p));
          err(`${escapeControl(file)}: the pipeline is invalid; nothing was run.`);
          if (a.json) outJson({ file, valid: false, problems: loaded.problems });
          return EXIT.failed;
        }
        for (const p of loaded.problems) if (!a.json && !a.quiet) err(formatProblem(file, p));
        const bar = new ProgressBar(!a.json && !a.quiet && !!process.stderr.isTTY);
        const common = { signal: controller.signal, logger, steps: a.steps, concurrency: a.concurrency, onProgress: (e: ProgressEvent) => bar.update(e) };
        if (a.command === 'preview') {
          const previews = await previewPipeline(loaded, common);
          bar.clear();
          if (a.json) outJson({ pipeline: loaded.pipeline.name, dataset: loaded.datasetDir, steps: previews });
          else out(previewTable(previews));
          return EXIT.ok;
        }
        if (a.command === 'verify') {
          const results = await verifyPipeline(loaded, common);
          if (a.json) outJson({ pipeline: loaded.pipeline.name, steps: results }, 2);
          else {
            if (!results.length) out('No import steps to verify.');
            for (const r of results) {
              out(`${r.result.ok ? 'ok  ' : 'FAIL'} ${escapeControl(r.step)} (${r.type})${r.result.credentialSource ? ` [credentials: ${escapeControl(r.result.credentialSource)}]` : ''}`);
              out(`     ${logEntry(r.result.detail)}${r.result.code && !r.result.ok ? ` (${escapeControl(r.result.code)})` : ''}`);
              for (const f of r.result.sampleFiles.slice(0, 10)) out(`     ${escapeControl(f.folder ? f.folder + '/' : '')}${escapeControl(f.name)}  ${formatBytes(f.size)}`);
            }
          }
          return results.every((r) => r.result.ok) ? EXIT.ok : EXIT.failed;
        }
        const run = await runPipeline(loaded, { ...common, trigger: 'cli', dryRun: a.dryRun, notify: { smtp: smtpFromEnv(process.env) } });
        bar.clear();
        if (a.json) outJson(run);
        else if (!a.quiet) {
          out(`${escapeControl(run.pipeline)}: ${run.status}${run.dryRun ? ' (dry run)' : ''} in ${((run.durationMs ?? 0) / 1000).toFixed(1)} s, run ${run.id}`);
          out(summaryTable(run));
          for (const s of run.steps) {
            const name = escapeControl(s.name);
            if (s.message) out(`${name}: ${logEntry(s.message)}`);
            for (const w of s.warnings) out(`warning: ${name}: ${logEntry(w)}`);
            for (const e of s.errors) out(`error: ${name}: ${logEntry(e)}`);
            for (const p of s.problems.slice(0, 20)) out(`problem: ${escapeControl(JSON.stringify(p.key))}: ${escapeControl(p.reason)}`);
          }
          if (run.error) out(`error: ${logEntry(run.error)}`);
          for (const n of run.notifications ?? []) out(`${n.ok ? 'sent' : 'not sent'}: ${n.kind}: ${logEntry(n.detail)}`);
          out(`dataset: ${path.relative(process.cwd(), loaded.datasetDir) || '.'}`);
        }
        return exitForRun(run);
      }
      case 'runs': {
        const file = requireFile(a);
        const loaded = loadPipelineFile(file);
        const runs = listRuns(loaded.datasetDir, a.limit ?? 50);
        if (a.json) outJson(runs);
        else if (!runs.length) out('No runs yet. Start one with: data-pipelines run ' + file);
        else {
          const rows = [['id', 'trigger', 'status', 'started', 'duration', 'new', 'changed', 'rejected']];
          for (const r of runs) rows.push([r.id, r.trigger, r.status, r.startedAt, `${((r.durationMs ?? 0) / 1000).toFixed(1)}s`, String(r.counts.new), String(r.counts.changed), String(r.counts.rejected)]);
          out(table(rows));
        }
        return EXIT.ok;
      }
      case 'serve':
        return await serve(a, logger, controller.signal);
      default:
        throw new UsageError(`unknown command "${a.command}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      err(`data-pipelines: ${logEntry(e.message)}\n\n${USAGE}`);
      return EXIT.usage;
    }
    if (e instanceof DatasetLockedError) {
      err(`data-pipelines: ${logEntry(e.message)}`);
      return EXIT.locked;
    }
    if (controller.signal.aborted) return EXIT.cancelled;
    err(`data-pipelines: ${logEntry(errorMessage(e))}`);
    return EXIT.failed;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

if (require.main === module) {
  // `data-pipelines preview FILE --json | head` closes stdout early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      err(`data-pipelines: ${logEntry(errorMessage(e))}`);
      process.exitCode = EXIT.failed;
    },
  );
}
