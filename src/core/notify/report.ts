// What a finished run tells the outside world: Edge Impulse's webhook fields plus ours.
import type { MetricTable, MetricValue, RunRecord } from '../types';

export interface RunReport {
  pipelineName: string;
  pipelineFile: string;
  runId: string;
  trigger: string;
  success: boolean;
  status: string;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  newItems: number;
  changedItems: number;
  unchangedItems: number;
  removedItems: number;
  duplicateItems: number;
  rejectedItems: number;
  newChecklistOK: number;
  newChecklistFail: number;
  error?: string;
  /** The run's training metrics, each beside the previous successful training's value and the change. */
  metrics?: Record<string, MetricValue>;
  metricTables?: MetricTable[];
  /** The data explorer's findings: samples per kind (leakage, near-duplicate, mislabeled, imbalance, unusual-size, undecodable). */
  quality?: Record<string, number>;
  /** What the run made: model folder, version id, deployment zip. */
  artifacts?: { model?: string; version?: string; deployment?: string; explorer?: string };
  steps: { name: string; type: string; status: string; new: number; changed: number; rejected: number; message?: string; errors: string[]; warnings: string[] }[];
}

/** The metrics of the run's last training that wrote any. */
export function runMetrics(run: RunRecord): { metrics?: Record<string, MetricValue>; metricTables?: MetricTable[] } {
  const s = [...run.steps].reverse().find((x) => x.metrics && Object.keys(x.metrics).length);
  return s ? { metrics: s.metrics, metricTables: s.metricTables } : {};
}

export function runReport(run: RunRecord): RunReport {
  return {
    pipelineName: run.pipeline,
    pipelineFile: run.pipelineFile,
    runId: run.id,
    trigger: run.trigger,
    success: run.status === 'success',
    status: run.status,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    durationMs: run.durationMs,
    newItems: run.counts.new,
    changedItems: run.counts.changed,
    unchangedItems: run.counts.unchanged,
    removedItems: run.counts.removed,
    duplicateItems: run.counts.duplicate,
    rejectedItems: run.counts.rejected,
    newChecklistOK: run.counts.checklistOk,
    newChecklistFail: run.counts.checklistFailed,
    error: run.error,
    ...runMetrics(run),
    quality: [...run.steps].reverse().find((s) => s.quality)?.quality,
    artifacts: run.steps.reduce<RunReport['artifacts']>((a, s) => (s.artifacts ? { ...a, ...s.artifacts } : a), undefined),
    steps: run.steps.map((s) => ({ name: s.name, type: s.type, status: s.status, new: s.counts.new, changed: s.counts.changed, rejected: s.counts.rejected, message: s.message, errors: s.errors.slice(0, 5), warnings: s.warnings.slice(0, 5) })),
  };
}

/** A URL as it may appear in a log: webhook paths and queries often carry tokens. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '(invalid URL)';
  }
}
