// What the CLI writes: human text (escaped), JSON, tables, the progress bar and log lines.
import { emptyCounts, type Counts, type Logger, type ProgressEvent, type RunRecord, type StepPreview } from '../core/types';
import { UNLABELED } from '../core/constants';
import { escapeControl, escapeHuman, formatBytes, logEntry } from '../core/util/format';
import type { Args } from './args';

/** Human output: no control character from a key, a name or a server reaches the terminal raw. */
export function out(s: string): void {
  const t = escapeHuman(s);
  process.stdout.write(t.endsWith('\n') ? t : t + '\n');
}

/** Machine output: JSON, with C1 controls and bidi overrides as \u escapes (JSON.stringify leaves them raw). */
export function outJson(value: unknown, indent?: number): void {
  const t = JSON.stringify(value, null, indent).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  process.stdout.write(t + '\n');
}

export function err(s: string): void {
  const t = escapeHuman(s);
  process.stderr.write(t.endsWith('\n') ? t : t + '\n');
}

export function stderrLogger(a: Args): Logger {
  const write = (level: string, msg: string) => {
    if (!a.quiet) process.stderr.write(`${level} ${logEntry(msg)}\n`);
  };
  return { info: (m) => a.verbose && write('info ', m), warn: (m) => write('warn ', m), error: (m) => write('error', m), debug: (m) => a.verbose && write('debug', m) };
}

export class ProgressBar {
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

export function table(cells: string[][]): string {
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

/** Per category and label, the samples whose label a person gave ('manual'). */
function manualCounts(p: StepPreview): Map<string, number> {
  const n = new Map<string, number>();
  for (const it of p.items) {
    if (it.labelSource !== 'manual' || !it.category || !it.path || it.action === 'reject' || it.status === 'duplicate' || it.status === 'skipped') continue;
    const k = `${it.category}\u0000${it.label ?? UNLABELED}`;
    n.set(k, (n.get(k) ?? 0) + 1);
  }
  return n;
}

export function previewTable(previews: StepPreview[]): string {
  const out: string[] = [];
  for (const p of previews) {
    out.push(`${escapeControl(p.step)} (${p.type})`);
    const manual = manualCounts(p);
    const rows: string[][] = [['category', 'label', 'samples', ...(manual.size ? ['manual'] : [])]];
    for (const cat of Object.keys(p.byCategoryLabel).sort())
      for (const l of Object.keys(p.byCategoryLabel[cat]).sort()) rows.push([cat, l, String(p.byCategoryLabel[cat][l]), ...(manual.size ? [String(manual.get(`${cat}\u0000${l}`) ?? 0)] : [])]);
    out.push(table(rows));
    if (manual.size) out.push('manual: samples labeled by a person (labels-override.json); syncs keep these labels');
    const c = p.counts;
    out.push(`to download: ${c.new} new, ${c.changed} changed (${formatBytes(c.bytes)}); unchanged ${c.unchanged}; removed ${c.removed}; duplicate ${c.duplicate}; skipped ${c.skipped}; rejected ${c.rejected}`);
    for (const w of p.warnings) out.push(`warning: ${logEntry(w)}`);
    for (const it of p.items.filter((i) => i.status === 'rejected').slice(0, 20)) out.push(`rejected: ${escapeControl(JSON.stringify(it.key))}: ${escapeControl(it.reason ?? '')}`);
    out.push('');
  }
  return out.join('\n');
}
