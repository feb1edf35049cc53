// data-pipelines run FILE [--dry-run]: sync the dataset and run the post-sync actions.
import * as path from 'node:path';
import { runPipeline, smtpFromEnv, type RunRecord } from '../../core';
import { formatMetric, orderedMetrics, tableCells } from '../../core/train/metrics';
import { escapeControl, logEntry } from '../../core/util/format';
import { exitForRun } from '../exit';
import { out, outJson, summaryTable, table } from '../output';
import { loadForEngine, type CommandContext } from './context';

function printRun(run: RunRecord, datasetDir: string): void {
  out(`${escapeControl(run.pipeline)}: ${run.status}${run.dryRun ? ' (dry run)' : ''} in ${((run.durationMs ?? 0) / 1000).toFixed(1)} s, run ${run.id}`);
  out(summaryTable(run));
  for (const s of run.steps) {
    const name = escapeControl(s.name);
    if (s.message) out(`${name}: ${logEntry(s.message)}`);
    for (const w of s.warnings) out(`warning: ${name}: ${logEntry(w)}`);
    for (const e of s.errors) out(`error: ${name}: ${logEntry(e)}`);
    for (const p of s.problems.slice(0, 20)) out(`problem: ${escapeControl(JSON.stringify(p.key))}: ${escapeControl(p.reason)}`);
    printMetrics(s);
  }
  if (run.error) out(`error: ${logEntry(run.error)}`);
  for (const n of run.notifications ?? []) out(`${n.ok ? 'sent' : 'not sent'}: ${n.kind}: ${logEntry(n.detail)}`);
  out(`dataset: ${path.relative(process.cwd(), datasetDir) || '.'}`);
}

function printMetrics(s: RunRecord['steps'][number]): void {
  if (!s.metrics || !Object.keys(s.metrics).length) return;
  out(`metrics of ${escapeControl(s.name)} (beside the previous training):`);
  for (const [k, m] of orderedMetrics(s.metrics, s.metricTables)) out(`  ${escapeControl(formatMetric(k, m))}`);
  for (const t of s.metricTables ?? []) out(`${escapeControl(t.name)}:\n${table(tableCells(t))}`);
}

export async function run(ctx: CommandContext): Promise<number> {
  const r = loadForEngine(ctx);
  if (typeof r === 'number') return r;
  const a = ctx.args;
  const record = await runPipeline(r.loaded, { ...r.engine, trigger: 'cli', dryRun: a.dryRun, notify: { smtp: smtpFromEnv(process.env) } });
  r.bar.clear();
  if (a.json) outJson(record);
  else if (!a.quiet) printRun(record, r.loaded.datasetDir);
  return exitForRun(record);
}
