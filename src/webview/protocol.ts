// The one message protocol between the preview webview and the extension host. Both sides
// import these types; nothing else crosses the boundary.

/** One object of a preview, as the table shows it. */
export interface PreviewRow {
  step: string;
  key: string;
  size: number;
  label: string | null;
  category: 'training' | 'validation' | 'testing' | null;
  path: string | null;
  status: string;
  action: 'download' | 'move' | 'skip' | 'reject' | 'delete';
  reason?: string;
  /** 'manual': a person gave the label (labels-override.json); syncs keep it. */
  labelSource?: 'manual' | 'source' | 'inferred';
}

export interface PreviewStepSummary {
  step: string;
  type: string;
  sourceId: string;
  objects: number;
  /** category -> label -> samples the dataset will hold. */
  byCategoryLabel: Record<string, Record<string, number>>;
  counts: Record<string, number>;
  warnings: string[];
}

export interface PreviewData {
  title: string;
  pipelineFile: string;
  generatedAt: string;
  steps: PreviewStepSummary[];
  rows: PreviewRow[];
  durationMs: number;
}

/** What the panel previews: kept in the page's state so a reloaded window can restore the panel. */
export interface PreviewSource {
  pipelineUri: string;
  steps?: string[];
}

export type HostToWebview =
  | { type: 'source'; source: PreviewSource }
  | { type: 'loading'; title: string; message: string }
  | { type: 'progress'; message: string }
  | { type: 'preview'; data: PreviewData }
  | { type: 'error'; title: string; message: string };

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'refresh' }
  | { type: 'openFile'; path: string }
  | { type: 'showLog' };

/** What the page keeps across hide/show with getState/setState (never the data itself). */
export interface PreviewViewState {
  search: string;
  action: string;
  category: string;
  label: string;
  scrollTop: number;
  source?: PreviewSource;
}

/**
 * The source saved in a webview's state, if it has a usable one. The state comes back from the
 * workbench after a reload and may be from an older page, so check its shape.
 */
export function restorableSource(state: unknown): PreviewSource | undefined {
  const source = (state as { source?: unknown } | null | undefined)?.source as Partial<PreviewSource> | undefined;
  if (!source || typeof source.pipelineUri !== 'string' || source.pipelineUri === '') return undefined;
  const steps = Array.isArray(source.steps) && source.steps.every((s) => typeof s === 'string') && source.steps.length ? source.steps : undefined;
  return steps ? { pipelineUri: source.pipelineUri, steps } : { pipelineUri: source.pipelineUri };
}
