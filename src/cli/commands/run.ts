// data-pipelines run FILE [--dry-run]: sync the dataset and run the post-sync actions.
import * as path from 'node:path';
import { smtpFromEnv } from '../../core/notify/email';
import { runPipeline } from '../../core/run/engine';
import { shardFrom } from '../../core/run/shard';
import { finalizePipeline } from '../../core/run/sharded';
import type { RunRecord } from '../../core/types';
import { formatMetric, orderedMetrics, tableCells } from '../../core/train/metrics';
import { escapeControl, logEntry } from '../../core/util/format';
import { exitForRun } from '../exit';
import { out, outJson, summaryTable, table } from '../output';
import { loadForEngine, type CommandContext } from './context';

export function printRun(run: RunRecord, datasetDir: string): void {
  const sharded = run.shard ? ` (shard ${run.shard}; finalize once every shard is done)` : run.shards ? ` (${run.shards.length} shards)` : '';
  out(`${escapeControl(run.pipeline)}: ${run.status}${run.dryRun ? ' (dry run)' : ''}${sharded} in ${((run.durationMs ?? 0) / 1000).toFixed(1)} s, run ${run.id}`);
  for (const s of run.shards ?? []) out(`  shard ${s.shard}: ${s.status}, ${s.counts.new} new, ${s.counts.changed} changed, ${s.counts.unchanged} unchanged, ${((s.durationMs ?? 0) / 1000).toFixed(1)} s`);
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
  // --shard K/N, or a Kubernetes Indexed Job's JOB_COMPLETION_INDEX with --shards N (or DSP_SHARDS).
  const shard = shardFrom({ shard: a.shard, shards: a.shards }, process.env);
  const record = await runPipeline(r.loaded, { ...r.engine, shard, trigger: 'cli', dryRun: a.dryRun, notify: { smtp: smtpFromEnv(process.env) } });
  r.bar.clear();
  if (a.json) outJson(record);
  else if (!a.quiet) printRun(record, r.loaded.datasetDir);
  return exitForRun(record);
}

/** data-pipelines finalize FILE: merges the shards of a sharded run, then runs the actions once. */
export async function finalize(ctx: CommandContext): Promise<number> {
  const r = loadForEngine(ctx);
  if (typeof r === 'number') return r;
  const record = await finalizePipeline(r.loaded, { ...r.engine, trigger: 'cli', notify: { smtp: smtpFromEnv(process.env) } });
  r.bar.clear();
  if (ctx.args.json) outJson(record);
  else if (!ctx.args.quiet) printRun(record, r.loaded.datasetDir);
  return exitForRun(record);
}
