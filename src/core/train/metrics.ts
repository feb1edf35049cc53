// The metrics file a training writes (schemas/metrics.schema.json): every numeric leaf is a
// metric named by its keys joined with "." (as DVC reads metrics files); `confusion_matrix`
// ({labels, matrix}) and `per_label` ({label: {figure: number}}) objects are tables.
import * as fs from 'node:fs';
import type { MetricTable, MetricValue } from '../types';

export interface ReadMetrics {
  values: Record<string, number>;
  tables: MetricTable[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function confusionTable(name: string, v: Record<string, unknown>): MetricTable | undefined {
  const labels = v.labels;
  const matrix = v.matrix;
  if (!Array.isArray(labels) || !Array.isArray(matrix)) return undefined;
  const rows = labels.map(String);
  const cells = matrix.map((r) => (Array.isArray(r) ? r.map((c) => (typeof c === 'number' && Number.isFinite(c) ? c : null)) : []));
  return { name, kind: 'confusion_matrix', rows, columns: rows, cells };
}

function perLabelTable(name: string, v: Record<string, unknown>): MetricTable {
  const rows = Object.keys(v);
  const columns: string[] = [];
  for (const r of rows) {
    const o = v[r];
    if (isObject(o)) for (const k of Object.keys(o)) if (!columns.includes(k)) columns.push(k);
  }
  const cells = rows.map((r) => {
    const o = v[r];
    return columns.map((c) => (isObject(o) && typeof o[c] === 'number' && Number.isFinite(o[c]) ? (o[c] as number) : null));
  });
  return { name, kind: 'per_label', rows, columns, cells };
}

/** Flattens a parsed metrics document. */
export function flattenMetrics(doc: unknown): ReadMetrics {
  const out: ReadMetrics = { values: {}, tables: [] };
  const walk = (v: unknown, prefix: string) => {
    if (typeof v === 'number') {
      if (Number.isFinite(v) && prefix) out.values[prefix] = v;
      return;
    }
    if (!isObject(v)) return; // strings, booleans and lists are not metrics (DVC skips them too)
    for (const [k, child] of Object.entries(v)) {
      const name = prefix ? `${prefix}.${k}` : k;
      if (k === 'confusion_matrix' && isObject(child)) {
        const t = confusionTable(name, child);
        if (t) out.tables.push(t);
      } else {
        // per_label's numbers are metrics too (every numeric leaf is), and also shown as a table.
        if (k === 'per_label' && isObject(child)) out.tables.push(perLabelTable(name, child));
        walk(child, name);
      }
    }
  };
  walk(doc, '');
  return out;
}

/** Reads METRICS_FILE; a missing or unreadable file is a warning, never a failed training. */
export function readMetricsFile(file: string): { metrics?: ReadMetrics; warning?: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { warning: 'The training wrote no metrics: METRICS_FILE was not created. Write a JSON object of numbers to $METRICS_FILE (see schemas/metrics.schema.json) to see accuracy and loss in the run.' };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { warning: `The metrics file is not JSON (${(err as Error).message}); no metrics were recorded. Write a JSON object of numbers to $METRICS_FILE.` };
  }
  if (!isObject(doc)) return { warning: 'The metrics file is not a JSON object; no metrics were recorded. Write an object such as {"validation": {"accuracy": 0.9}} to $METRICS_FILE.' };
  const metrics = flattenMetrics(doc);
  if (!Object.keys(metrics.values).length && !metrics.tables.length) return { metrics, warning: 'The metrics file holds no numbers; no metrics were recorded.' };
  return { metrics };
}

/** Each value beside the previous training's, with the change. */
export function compareMetrics(values: Record<string, number>, previous: Record<string, number> | undefined): Record<string, MetricValue> {
  const out: Record<string, MetricValue> = {};
  for (const [k, value] of Object.entries(values)) {
    const p = previous?.[k];
    out[k] = p === undefined ? { value } : { value, previous: p, change: round(value - p) };
  }
  return out;
}

function round(n: number): number {
  return Math.round(n * 1e9) / 1e9;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : Math.abs(n) >= 100 ? n.toFixed(1) : n.toFixed(4).replace(/0+$/, '').replace(/\.$/, '');
}

/** "validation.accuracy 0.91 (was 0.88, +0.03)" */
export function formatMetric(name: string, m: MetricValue): string {
  if (m.previous === undefined) return `${name} ${fmt(m.value)}`;
  const sign = (m.change ?? 0) > 0 ? '+' : (m.change ?? 0) < 0 ? '' : '±';
  return `${name} ${fmt(m.value)} (was ${fmt(m.previous)}, ${sign}${fmt(m.change ?? 0)})`;
}

/** The metrics worth a headline first (accuracy and loss), then the rest, by name; without those
 * the given tables show (per_label's figures). */
export function orderedMetrics(metrics: Record<string, MetricValue>, tables: MetricTable[] = []): [string, MetricValue][] {
  // Validation first (Edge Impulse's retrain mail leads with it), then testing, then the rest.
  const rank = (k: string) => (/accuracy$/.test(k) ? 0 : /loss$/.test(k) ? 2 : 4) + (k.startsWith('validation.') ? 0 : 1);
  const inTable = (k: string) => tables.some((t) => k.startsWith(`${t.name}.`));
  return Object.entries(metrics).filter(([k]) => !inTable(k)).sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** A table as rows of text cells, header first. */
export function tableCells(t: MetricTable): string[][] {
  const head = [t.kind === 'confusion_matrix' ? 'true \\ predicted' : 'label', ...t.columns];
  return [head, ...t.rows.map((r, i) => [r, ...t.columns.map((_, j) => (t.cells[i]?.[j] == null ? '' : fmt(t.cells[i][j] as number)))])];
}
