// Words and numbers for runs: tree labels, durations, the run report. Pure, unit-tested.
// Types only from the core: the scheduling functions take the loaded core (../core) as an argument,
// so this file pulls no engine code into the extension bundle.
import type { Counts, MetricTable, MetricValue, RunRecord, RunStatus, StepPreview, StepResult } from '../../core/types';
import type { CoreModule } from '../core';

/** What the schedule helpers need from the engine: `await core()` gives it. */
export type Schedules = Pick<CoreModule, 'nextRunTime'>;
/** What the run report needs of the engine to lay out metrics. */
export type MetricFormat = Pick<CoreModule, 'orderedMetrics' | 'tableCells'>;

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/**
 * The same words as the core's util/format formatBytes (which the core index does not export yet;
 * importing the module itself would bundle it into the extension). Keep the two alike.
 */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** "3 min ago", "yesterday"-free: short and relative to `now`. */
export function formatAgo(iso: string, now = Date.now()): string {
  const d = now - Date.parse(iso);
  if (!Number.isFinite(d)) return '';
  if (d < 45_000) return 'just now';
  if (d < 3_600_000) return `${Math.round(d / 60_000)} min ago`;
  if (d < 86_400_000) return `${Math.round(d / 3_600_000)} h ago`;
  return `${Math.round(d / 86_400_000)} d ago`;
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "12 new · 3 changed · 1 rejected": only the counts that say something. */
export function countsSummary(c: Counts): string {
  const parts: string[] = [];
  parts.push(`${c.new} new`);
  if (c.changed) parts.push(`${c.changed} changed`);
  if (c.unchanged) parts.push(`${c.unchanged} unchanged`);
  if (c.removed) parts.push(`${c.removed} removed`);
  if (c.duplicate) parts.push(`${c.duplicate} duplicate`);
  if (c.rejected) parts.push(`${c.rejected} rejected`);
  if (c.checklistFailed) parts.push(`${c.checklistFailed} checks failed`);
  return parts.join(' · ');
}

/** Codicon id for a run or step status. */
export function statusIcon(status: RunStatus | StepResult['status']): { id: string; color?: string } {
  switch (status) {
    case 'success':
      return { id: 'pass', color: 'testing.iconPassed' };
    case 'partial':
      return { id: 'warning', color: 'list.warningForeground' };
    case 'failed':
      return { id: 'error', color: 'testing.iconFailed' };
    case 'cancelled':
      return { id: 'circle-slash' };
    case 'skipped':
      return { id: 'debug-step-over' };
    case 'running':
      return { id: 'sync~spin' };
  }
}

/** The next scheduled run, as the scheduler computes it: cron wins over intervalStr. */
export function nextRun(c: Schedules, p: { schedule?: string; intervalStr?: string }, lastStart: string | undefined, now: Date): Date | undefined {
  return c.nextRunTime(p, lastStart ? new Date(lastStart) : undefined, now);
}

export function describeNextRun(c: Schedules, p: { schedule?: string; intervalStr?: string }, lastStart: string | undefined, now = new Date()): string | undefined {
  const next = nextRun(c, p, lastStart, now);
  if (!next) return undefined;
  const how = typeof p.schedule === 'string' ? `cron ${p.schedule}` : `every ${p.intervalStr?.trim()}`;
  return `Next run ${formatTime(next.toISOString())} (${how})`;
}

function mdEscape(s: string): string {
  return s.replace(/[\\`*_{}[\]<>|]/g, (c) => `\\${c}`);
}

/** The run report: per step, per category × label, with warnings and errors. */
export function runReportMarkdown(run: RunRecord, f: MetricFormat): string {
  const out: string[] = [];
  // Words, not emoji: emoji fonts are missing on many Linux machines.
  out.push(`# ${mdEscape(run.pipeline)}: ${run.status}`, '');
  out.push(`| | |`, `|---|---|`);
  out.push(`| Run | \`${run.id}\` |`);
  out.push(`| Trigger | ${run.trigger}${run.dryRun ? ' (dry run)' : ''} |`);
  out.push(`| Started | ${formatTime(run.startedAt)} |`);
  if (run.durationMs !== undefined) out.push(`| Duration | ${formatDuration(run.durationMs)} |`);
  out.push(`| Counts | ${countsSummary(run.counts)} |`);
  out.push(`| Transferred | ${formatBytes(run.counts.bytes)} |`);
  out.push(`| Pipeline file | ${mdEscape(run.pipelineFile)} |`);
  if (run.error) out.push('', `> **Error:** ${mdEscape(run.error)}`);
  for (const s of run.steps) {
    out.push('', `## ${mdEscape(s.name)}: ${s.status} (${s.type}, ${formatDuration(s.durationMs)})`, '');
    out.push(countsSummary(s.counts) + (s.message ? ` — ${mdEscape(s.message)}` : ''));
    const cats = Object.keys(s.byCategoryLabel).sort();
    if (cats.length) {
      out.push('', '| Category | Label | New | Changed | Unchanged | Rejected |', '|---|---|--:|--:|--:|--:|');
      for (const cat of cats) {
        for (const [label, c] of Object.entries(s.byCategoryLabel[cat]).sort(([a], [b]) => a.localeCompare(b))) {
          out.push(`| ${cat} | ${mdEscape(label)} | ${c.new} | ${c.changed} | ${c.unchanged} | ${c.rejected} |`);
        }
      }
    }
    if (s.metrics && Object.keys(s.metrics).length) out.push('', ...metricsMarkdown(f, s.metrics, s.metricTables));
    const quality = Object.entries(s.quality ?? {}).filter(([, n]) => n > 0);
    if (s.quality) out.push('', `**Data quality**: ${quality.length ? quality.map(([k, n]) => `${n} ${mdEscape(k)}`).join(', ') : 'no findings'} (Open Data Explorer to see them)`);
    if (s.errors.length) out.push('', '**Errors**', '', ...s.errors.map((e) => `- ${mdEscape(e)}`));
    if (s.warnings.length) out.push('', '**Warnings**', '', ...s.warnings.map((w) => `- ${mdEscape(w)}`));
    if (s.problems.length) out.push('', '**Rejected or failed objects**', '', ...s.problems.slice(0, 100).map((p) => `- \`${p.key.replace(/`/g, "'")}\`: ${mdEscape(p.reason)}`));
  }
  if (run.notifications?.length) out.push('', '## Notifications', '', ...run.notifications.map((n) => `- ${n.kind}: ${n.ok ? 'sent' : 'failed'} — ${mdEscape(n.detail)}`));
  return out.join('\n') + '\n';
}

function num(n: number | undefined, signed = false): string {
  if (n === undefined) return '';
  const t = Number.isInteger(n) ? String(n) : n.toFixed(4).replace(/0+$/, '').replace(/\.$/, '');
  return signed && n > 0 ? `+${t}` : t;
}

/** The metrics as a markdown table (value, previous, change), then each confusion matrix and per-label table. */
export function metricsMarkdown(f: MetricFormat, metrics: Record<string, MetricValue>, tables: MetricTable[] = []): string[] {
  const out = ['**Metrics** (beside the previous training)', '', '| Metric | Value | Previous | Change |', '|---|--:|--:|--:|'];
  for (const [k, m] of f.orderedMetrics(metrics, tables)) out.push(`| ${mdEscape(k)} | ${num(m.value)} | ${num(m.previous)} | ${num(m.change, true)} |`);
  for (const t of tables) {
    const [head, ...rows] = f.tableCells(t);
    out.push('', `**${mdEscape(t.name)}**`, '', `| ${head.map(mdEscape).join(' | ')} |`, `|${head.map((_, i) => (i ? '--:' : '---')).join('|')}|`);
    for (const r of rows) out.push(`| ${r.map(mdEscape).join(' | ')} |`);
  }
  return out;
}

/** One line for a preview step, as the CodeLens/notification says it. */
export function previewSummary(p: StepPreview): string {
  const labels = new Set<string>();
  for (const cat of Object.values(p.byCategoryLabel)) for (const l of Object.keys(cat)) labels.add(l);
  return `${p.step}: ${p.items.length} objects, ${labels.size} labels; ${countsSummary(p.counts)}`;
}

/** Calls `fn` at most every `ms`, always delivering the last value (and the final one on flush). */
export function throttle<T>(ms: number, fn: (v: T) => void, now: () => number = Date.now): { push(v: T): void; flush(): void } {
  let last = -Infinity;
  let pending: { v: T } | undefined;
  return {
    push(v: T) {
      const t = now();
      if (t - last >= ms) {
        last = t;
        pending = undefined;
        fn(v);
      } else pending = { v };
    },
    flush() {
      if (pending) {
        fn(pending.v);
        pending = undefined;
        last = now();
      }
    },
  };
}
