// refreshDataExplorer: a 2-D map of every sample (the training's embeddings, else image
// features, through UMAP), data-quality findings, and a PNG of the map, in
// <dataset>/.dsp/explorer.json and explorer.png. The explorer never moves or deletes a file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { acquireLock } from '../dataset/lock';
import { metaDir, SyncState } from '../dataset/state';
import type { LoadedPipeline } from '../pipeline/validate';
import { datasetCounts, type DatasetCounts } from '../train/versions';
import type { Category, Logger } from '../types';
import { imageInfos, loadSharp, trainingEmbeddings } from './features';
import { mapPoints } from './map';
import { findQuality, type QualityReport, type Sample } from './quality';
import { writeFileAtomic } from '../util/files';

export interface ExplorerPoint {
  path: string;
  key: string;
  source: string;
  x: number;
  y: number;
  label: string | null;
  category: Category;
  findings: string[];
}

export interface ExplorerDoc extends DatasetCounts {
  version: 1;
  runId: string;
  updatedAt: string;
  embedding: { kind: 'training' | 'image-features' | 'file-bytes'; runId?: string; dims: number };
  /** What the explorer could not do here, said plainly (e.g. no image decoder). */
  warnings: string[];
  points: ExplorerPoint[];
  quality: QualityReport;
}

export function explorerFiles(datasetDir: string): { json: string; png: string } {
  return { json: path.join(metaDir(datasetDir), 'explorer.json'), png: path.join(metaDir(datasetDir), 'explorer.png') };
}

export function readExplorer(datasetDir: string): ExplorerDoc | undefined {
  try {
    const doc = JSON.parse(fs.readFileSync(explorerFiles(datasetDir).json, 'utf8')) as ExplorerDoc;
    return doc.version === 1 && Array.isArray(doc.points) ? doc : undefined;
  } catch {
    return undefined;
  }
}


const NO_SHARP = 'The image decoder (sharp) could not be loaded here, so the map is made from the files\' bytes, near-identical images are not looked for, and no picture of the map is written. Run "data-pipelines explore FILE" from a checkout with its dependencies installed for the full explorer.';

const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

/** The map as a PNG (what the email of a run with new data shows): points coloured by label. */
async function renderPng(points: ExplorerPoint[], file: string): Promise<boolean> {
  const [W, H, pad] = [800, 600, 20];
  const px = Buffer.alloc(W * H * 4, 255);
  const labels = [...new Set(points.map((p) => p.label).filter((l): l is string => l !== null))].sort();
  for (const p of points) {
    const hex = p.label === null ? '#8c8c8c' : PALETTE[labels.indexOf(p.label) % PALETTE.length];
    const [r, g, b] = [1, 3, 5].map((o) => parseInt(hex.slice(o, o + 2), 16));
    const cx = Math.round(pad + p.x * (W - 2 * pad));
    const cy = Math.round(pad + p.y * (H - 2 * pad));
    for (let y = cy - 2; y <= cy + 2; y++) for (let x = cx - 2; x <= cx + 2; x++) if (x >= 0 && y >= 0 && x < W && y < H) px.set([r, g, b, 255], (y * W + x) * 4);
  }
  const sharp = await loadSharp();
  if (!sharp) return false;
  writeFileAtomic(file, await sharp(px, { raw: { width: W, height: H, channels: 4 } }).png().toBuffer());
  return true;
}

export async function buildExplorer(datasetDir: string, state: SyncState, o: { runId: string; logger?: Logger; signal?: AbortSignal }): Promise<ExplorerDoc> {
  const decoded = !!(await loadSharp());
  const entries = [...state.all()].filter((e) => e.status === 'synced' && e.path && e.category).sort((a, b) => (a.path! < b.path! ? -1 : 1));
  const infos = await imageInfos(datasetDir, entries.map((e) => e.path!), o.signal);
  const trained = trainingEmbeddings(datasetDir, entries.map((e) => e.path!));
  const samples: Sample[] = entries.map((e, i) => ({ path: e.path!, label: e.label, category: e.category!, info: infos[i], vector: trained ? trained.vectors.get(e.path!)! : infos[i].vector }));
  const { report, findings } = findQuality(samples);
  const mapped = samples.map((s, i) => ({ s, e: entries[i] })).filter(({ s }) => s.vector);
  const xy = await mapPoints(mapped.map(({ s }) => s.vector!), 42, o.signal);
  const points: ExplorerPoint[] = mapped.map(({ s, e }, i) => ({ path: s.path, key: e.key, source: e.source, x: xy[i][0], y: xy[i][1], label: s.label, category: s.category, findings: [...(findings.get(s.path) ?? [])].sort() }));
  const doc: ExplorerDoc = {
    version: 1,
    runId: o.runId,
    updatedAt: new Date().toISOString(),
    ...datasetCounts(state.all()),
    embedding: trained ? { kind: 'training', runId: trained.runId, dims: mapped[0]?.s.vector?.length ?? 0 } : { kind: decoded ? 'image-features' : 'file-bytes', dims: mapped[0]?.s.vector?.length ?? 0 },
    warnings: decoded ? [] : [NO_SHARP],
    points,
    quality: report,
  };
  const files = explorerFiles(datasetDir);
  writeFileAtomic(files.json, JSON.stringify(doc));
  if (!(await renderPng(points, files.png))) fs.rmSync(files.png, { force: true });
  o.logger?.debug(`explorer: ${points.length} points, ${Object.entries(report.counts).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  return doc;
}

/** The explorer of a pipeline's dataset, made now, under the dataset lock (the CLI, the editor). */
export async function refreshExplorer(loaded: LoadedPipeline, o: { logger?: Logger; signal?: AbortSignal } = {}): Promise<ExplorerDoc> {
  const release = acquireLock(loaded.datasetDir, loaded.pipeline?.name ?? path.basename(loaded.file));
  try {
    return await buildExplorer(loaded.datasetDir, SyncState.load(loaded.datasetDir), { runId: `explore-${new Date().toISOString()}`, ...o });
  } finally {
    release();
  }
}

/** A person relabeled samples: their points follow (same place on the map), 'mislabeled' goes. */
export function patchExplorer(datasetDir: string, changed: { path: string; to: { label: string | null; category: Category; path: string } }[]): ExplorerDoc | undefined {
  const doc = readExplorer(datasetDir);
  if (!doc) return undefined;
  const byPath = new Map(doc.points.map((p) => [p.path, p]));
  for (const c of changed) {
    const p = byPath.get(c.path);
    if (!p) continue;
    Object.assign(p, { path: c.to.path, label: c.to.label, category: c.to.category, findings: p.findings.filter((f) => f !== 'mislabeled') });
  }
  writeFileAtomic(explorerFiles(datasetDir).json, JSON.stringify(doc));
  return doc;
}
