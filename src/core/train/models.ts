// Where trainings keep what they make, next to the dataset (so no consumer of the dataset sees it):
//
//   <dataset>.models/<run id>/model/           MODEL_DIR: the model, as the training wrote it
//   <dataset>.models/<run id>/metrics.json     METRICS_FILE
//   <dataset>.models/<run id>/embeddings.jsonl EMBEDDINGS_FILE (optional)
//   <dataset>.models/latest.json               the last successful training: PREVIOUS_MODEL_DIR next time
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/files';

export interface ModelRecord {
  runId: string;
  createdAt: string;
  /** The flattened metrics of that training. */
  metrics: Record<string, number>;
}

/** A trained model on disk. */
export interface TrainedModel extends ModelRecord {
  /** The run's folder (holds model/, metrics.json, embeddings.jsonl). */
  dir: string;
  /** MODEL_DIR. */
  modelDir: string;
}

/** The files of each model type, as the training declared them in MODEL_DIR/model.json. */
export interface ModelManifest {
  format?: string;
  files: Partial<Record<'int8' | 'float32', string[]>>;
}

const KEEP = 3;

export function modelsRoot(datasetDir: string): string {
  return `${datasetDir}.models`;
}

export function modelFolder(datasetDir: string, runId: string): { dir: string; modelDir: string; metricsFile: string; embeddingsFile: string } {
  const dir = path.join(modelsRoot(datasetDir), runId);
  return { dir, modelDir: path.join(dir, 'model'), metricsFile: path.join(dir, 'metrics.json'), embeddingsFile: path.join(dir, 'embeddings.jsonl') };
}

/** A fresh, empty MODEL_DIR for this run. */
export function freshModelFolder(datasetDir: string, runId: string): ReturnType<typeof modelFolder> {
  const f = modelFolder(datasetDir, runId);
  fs.rmSync(f.dir, { recursive: true, force: true });
  fs.mkdirSync(f.modelDir, { recursive: true });
  return f;
}

export function latestModel(datasetDir: string): TrainedModel | undefined {
  let rec: ModelRecord;
  try {
    rec = JSON.parse(fs.readFileSync(path.join(modelsRoot(datasetDir), 'latest.json'), 'utf8')) as ModelRecord;
  } catch {
    return undefined;
  }
  if (typeof rec.runId !== 'string' || !/^[\w.-]+$/.test(rec.runId)) return undefined;
  const f = modelFolder(datasetDir, rec.runId);
  if (!fs.existsSync(f.modelDir)) return undefined;
  return { ...rec, metrics: rec.metrics ?? {}, dir: f.dir, modelDir: f.modelDir };
}

/** Records a successful training as the one the next starts from, and drops older folders. */
export function saveLatest(datasetDir: string, rec: ModelRecord): void {
  const file = path.join(modelsRoot(datasetDir), 'latest.json');
  writeFileAtomic(file, JSON.stringify(rec, null, 1));
  pruneModels(datasetDir, rec.runId);
}

/** Keeps the newest few training folders and the latest one; versions hold their own links. */
function pruneModels(datasetDir: string, latestRunId: string): void {
  const root = modelsRoot(datasetDir);
  const runs = fs.readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  for (const name of runs.slice(0, Math.max(0, runs.length - KEEP))) if (name !== latestRunId) fs.rmSync(path.join(root, name), { recursive: true, force: true });
}

export function filesUnder(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...filesUnder(dir, r));
    else if (d.isFile()) out.push(r);
  }
  return out.sort();
}

/** MODEL_DIR/model.json's `files` ({"float32": "model_float32.pt", "int8": ["model_int8.pt"]}); without
 * one, every file in MODEL_DIR is the float32 model and there is no int8 model. */
export function readModelManifest(modelDir: string): ModelManifest {
  const all = filesUnder(modelDir);
  let doc: { format?: unknown; files?: Record<string, unknown> } | undefined;
  try {
    doc = JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json'), 'utf8')) as typeof doc;
  } catch {
    return { files: all.length ? { float32: all } : {} };
  }
  const files: ModelManifest['files'] = {};
  for (const type of ['int8', 'float32'] as const) {
    const v = doc?.files?.[type];
    const list = (typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []).filter((f) => all.includes(f));
    if (list.length) files[type] = list;
  }
  if (!doc?.files) files.float32 = all.filter((f) => f !== 'model.json');
  return { format: typeof doc?.format === 'string' ? doc.format : undefined, files };
}
