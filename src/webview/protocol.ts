// The one message protocol between the preview webview and the extension host. Both sides
// import these types; nothing else crosses the boundary.

/** One object of a preview, as the table shows it. */
export interface PreviewRow {
  step: string;
  key: string;
  size: number;
  label: string | null;
  category: 'training' | 'testing' | null;
  path: string | null;
  status: string;
  action: 'download' | 'skip' | 'reject' | 'delete';
  reason?: string;
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

export type HostToWebview =
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
}
