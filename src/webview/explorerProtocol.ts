// The one message protocol between the Data Explorer webview and the extension host. Both sides
// import these types; nothing else crosses the boundary. Points travel as parallel arrays (one
// entry per sample), which keeps 100,000 samples to a few megabytes.

export interface ExplorerData {
  title: string;
  pipelineFile: string;
  updatedAt: string;
  /** "training embeddings of run …" or "image features". */
  embedding: string;
  /** Label names; a point's label index -1 is unlabeled. */
  labels: string[];
  categories: string[];
  /** Finding ids ("leakage", "near-duplicate", "mislabeled", …); bit i of a point's mask is findings[i]. */
  findings: string[];
  paths: string[];
  x: number[];
  y: number[];
  label: number[];
  category: number[];
  finding: number[];
  /** Samples per finding kind. */
  quality: Record<string, number>;
}

/** One change the host made, for the status line. */
export interface AppliedChange {
  message: string;
  changed: number;
  canUndo: boolean;
}

export type HostToExplorer =
  | { type: 'loading'; message: string }
  | { type: 'data'; data: ExplorerData }
  | { type: 'thumb'; path: string; src: string }
  | { type: 'applied'; change: AppliedChange }
  | { type: 'error'; title: string; message: string };

export type ExplorerToHost =
  | { type: 'ready' }
  | { type: 'refresh' }
  | { type: 'thumb'; path: string }
  | { type: 'assign'; paths: string[]; label: string | null }
  | { type: 'move'; paths: string[]; category: string }
  | { type: 'undo' }
  | { type: 'open'; path: string };
