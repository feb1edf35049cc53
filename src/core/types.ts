// Plain data shared by the engine, the CLI and the editor glue. No behaviour here.

export type Category = 'training' | 'validation' | 'testing';
export const CATEGORIES: readonly Category[] = ['training', 'validation', 'testing'];
export type CategoryRule = 'split' | Category;
export type LabelStrategy = 'infer-from-folder-name' | 'infer-from-file-name' | 'keep-unlabeled';
export type Severity = 'error' | 'warning' | 'info';
export type Trigger = 'ui' | 'codelens' | 'schedule' | 'api' | 'cli';

/** One object as a source lists it. `key` is the full key in the store; `rel` is relative to the step's prefix. */
export interface SourceObject {
  key: string;
  rel: string;
  size: number;
  /** ETag (S3, Azure), generation (GCS), or size+mtime (folder): opaque, compared for equality only. */
  version: string;
  lastModified?: string;
  /**
   * Set by a source for an entry it found but cannot import (a FIFO, a socket, a device, a symlink
   * leading outside the folder, a name that is not UTF-8 and was escaped, ...): the planner reports
   * it with this reason and writes nothing for it. Never silently dropped.
   */
  unreadable?: string;
  /** Set by a source for an entry it imports with a change the user must hear about (an escaped name). */
  note?: string;
  /**
   * The content's MD5 (hex), when the store declares it: S3's ETag of a single-part upload, GCS's
   * md5Hash, Azure's Content-MD5. Downloads are checked against it and duplicates found by it.
   */
  md5?: string;
}

/**
 * What kind of failure a source met, whatever the store: the executor, verify and the editor read
 * this instead of matching each store's codes. (SourceError in src/core/sources/errors.ts carries it.)
 */
export type SourceErrorKind = 'auth' | 'denied' | 'not-found' | 'throttled' | 'network' | 'tls' | 'invalid' | 'other';

/** A failure explained for a person, with the store's own code and the kind of failure. Never a secret. */
export interface SourceExplanation {
  /** The storage's own error code (NoSuchBucket, forbidden, ContainerNotFound, ENOENT, ...). */
  code: string;
  /** One sentence or two: what went wrong and what to do next. */
  detail: string;
  kind: SourceErrorKind;
}

export interface VerifyFile {
  name: string;
  size: number;
  folder: string;
}

export interface VerifyResult {
  ok: boolean;
  /** One sentence for a person: what was checked, or what went wrong and what to do next. */
  detail: string;
  /** Where the credentials came from ("static keys from ${secret:AWS_SECRET}", "AWS profile dev", ...). */
  credentialSource?: string;
  /** The storage's own error code (NoSuchBucket, InvalidAccessKeyId, ENOTFOUND, ...). */
  code?: string;
  /** When ok is false: the kind of failure (auth, denied, not-found, ...), to read instead of matching codes. */
  kind?: SourceErrorKind;
  sampleFiles: VerifyFile[];
}

/** An object fetched into a temporary file of the dataset (run/transfer/fetch.ts). */
export interface FetchedFile {
  tmp: string;
  /** MD5 of the bytes, hex. */
  hash: string;
  size: number;
  /** The first bytes (for the checklist), the last 16, and the body when it was held in memory anyway. */
  head: Buffer;
  tail: Buffer;
  body?: Buffer;
}

/** A storage backend behind one interface; created per step, used for one run or one preview. */
export interface Source {
  readonly kind: string;
  /** Stable identity of the location (type + bucket/folder + prefix), used to key the sync state. */
  readonly id: string;
  list(signal?: AbortSignal): AsyncIterable<SourceObject>;
  open(obj: SourceObject, signal?: AbortSignal): Promise<NodeJS.ReadableStream>;
  verify(signal?: AbortSignal): Promise<VerifyResult>;
  /**
   * A failure of this source (from list, open or verify) -> what went wrong and what to do, with the
   * store's code and the failure's kind.
   */
  explain(err: unknown): SourceExplanation;
  /**
   * `count` transfers are about to start, their temporary files in `tmpBase`: a source may set up
   * a faster way to fetch them (S3: worker threads), used through fetchToFile. Returns what it set
   * up, for the log.
   */
  prepareTransfers?(count: number, tmpBase: string): Promise<string | undefined>;
  /** Fetches into a temporary file by the faster way, or undefined: then the executor uses open(). */
  fetchToFile?(obj: SourceObject, signal: AbortSignal): Promise<FetchedFile> | undefined;
  /**
   * After list(): how the listing was cut into parts (S3: the folders listed apart), for the next
   * listing to request at once instead of after the first round trip. Opaque to the engine, which
   * keeps it per source (listingHints.ts) and hands it back through SourceContext.listingHint.
   */
  listingPlan?(): string[] | undefined;
  /** Transfers in flight to begin with. */
  readonly defaultConcurrency: number;
  /** How far the transfers in flight may grow while throughput grows (unset: they stay at defaultConcurrency). */
  readonly maxConcurrency?: number;
  close?(): Promise<void>;
}

export interface Problem {
  severity: Severity;
  message: string;
  /** syntax and schema problems are also found by any JSON-schema-aware editor; semantic ones only by the core. */
  source: 'syntax' | 'schema' | 'semantic';
  /** JSON path into the pipeline document, e.g. ['steps', 0, 'builtinTransformationBlock', 'path']. */
  path: (string | number)[];
  /** Zero-based offsets into the file text, and 1-based line/column for people. */
  range: { offset: number; length: number; line: number; column: number; endLine: number; endColumn: number };
  /** A machine-readable code so the editor can offer a quick fix. */
  code?: string;
  /** Extra data for a quick fix (never a secret value). */
  data?: Record<string, unknown>;
}

export type ItemStatus = 'new' | 'changed' | 'unchanged' | 'removed' | 'duplicate' | 'skipped' | 'rejected';
/** `move`: the file is already stored and only changes place (a new label, category or layout): nothing is fetched. */
export type ItemAction = 'download' | 'move' | 'skip' | 'reject' | 'delete';

export interface PlanItem {
  key: string;
  rel: string;
  size: number;
  version: string;
  category: Category | null;
  label: string | null;
  /** Relative to the dataset folder, with '/' separators; null when nothing will be written. */
  path: string | null;
  status: ItemStatus;
  action: ItemAction;
  reason?: string;
  /** Warnings about this item that still let it sync (collision suffix, file at the root, ...). */
  warnings?: string[];
  /** Where the label came from: a person (labels-override.json), the source's own info.labels, or inference. */
  labelSource?: 'manual' | 'source' | 'inferred';
}

export interface Counts {
  new: number;
  changed: number;
  unchanged: number;
  removed: number;
  duplicate: number;
  skipped: number;
  rejected: number;
  checklistOk: number;
  checklistFailed: number;
  bytes: number;
}

export function emptyCounts(): Counts {
  return { new: 0, changed: 0, unchanged: 0, removed: 0, duplicate: 0, skipped: 0, rejected: 0, checklistOk: 0, checklistFailed: 0, bytes: 0 };
}

export interface StepPreview {
  step: string;
  type: string;
  sourceId: string;
  items: PlanItem[];
  counts: Counts;
  /** category -> label ('(unlabeled)' for none) -> number of samples the dataset will hold. */
  byCategoryLabel: Record<string, Record<string, number>>;
  warnings: string[];
}

export interface ProgressEvent {
  step: string;
  phase: 'listing' | 'planning' | 'transferring' | 'action' | 'done';
  done: number;
  total: number;
  bytes: number;
  message?: string;
}

export type StepStatus = 'success' | 'partial' | 'failed' | 'cancelled' | 'skipped';

export interface StepResult {
  name: string;
  type: string;
  status: StepStatus;
  counts: Counts;
  /** category -> label -> counts of this run. */
  byCategoryLabel: Record<string, Record<string, Counts>>;
  warnings: string[];
  errors: string[];
  /** Items that were rejected or failed, with reasons (capped). */
  problems: { key: string; reason: string }[];
  durationMs: number;
  message?: string;
  /** The source an import step synced from (its id keys the state). */
  sourceId?: string;
  /** What a training wrote to METRICS_FILE: each numeric leaf by its dotted name, beside the
   * previous successful training's value and the change. */
  metrics?: Record<string, MetricValue>;
  /** The metrics file's confusion matrices and per-label tables. */
  metricTables?: MetricTable[];
  /** What the step made: the model folder, the version, the deployment zip. */
  artifacts?: { model?: string; version?: string; deployment?: string; explorer?: string };
  /** refreshDataExplorer: samples per data-quality finding (leakage, near-duplicate, mislabeled, …). */
  quality?: Record<string, number>;
}

export interface MetricValue {
  value: number;
  /** The previous successful training's value, when it had this metric. */
  previous?: number;
  /** value - previous. */
  change?: number;
}

/** A table from the metrics file: a confusion matrix (rows true, columns predicted) or per-label figures. */
export interface MetricTable {
  name: string;
  kind: 'confusion_matrix' | 'per_label';
  /** Row names: labels. */
  rows: string[];
  /** Column names: the labels again (confusion matrix) or the per-label figures (precision, recall…). */
  columns: string[];
  cells: (number | null)[][];
}

export type RunStatus = 'running' | 'success' | 'partial' | 'failed' | 'cancelled';

export interface RunRecord {
  id: string;
  pipeline: string;
  pipelineFile: string;
  trigger: Trigger;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  status: RunStatus;
  dryRun: boolean;
  steps: StepResult[];
  counts: Counts;
  error?: string;
  notifications?: { kind: 'webhook' | 'email'; ok: boolean; detail: string }[];
  /** A shard's own record (`run --shard K/N`): which shard, "K/N". */
  shard?: string;
  /** A finalized sharded run: each shard's outcome. */
  shards?: { shard: string; runId: string; status: RunStatus; counts: Counts; durationMs?: number }[];
}

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  debug(msg: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {}, debug() {} };
