// Post-sync actions (Edge Impulse's project-action, done locally) and custom transformation blocks.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeDatasetIndex } from '../dataset/datasetIndex';
import { buildInfoLabels } from '../dataset/infoLabels';
import { META_DIR, metaDir, type SyncState } from '../dataset/state';
import type { ActionBlock, Step } from '../pipeline/model';
import { resolveValue, type Resolver } from '../pipeline/refs';
import type { LoadedPipeline } from '../pipeline/validate';
import { emptyCounts, type Logger, type RunRecord, type StepResult } from '../types';
import { writeZip, type ZipEntry } from '../util/zip';
import { UNLABELED } from '../constants';

export interface ActionContext {
  loaded: LoadedPipeline;
  run: RunRecord;
  state: SyncState;
  logger: Logger;
  signal?: AbortSignal;
  resolver?: Resolver;
}

function result(step: Step, type: string, started: number, extra: Partial<StepResult>): StepResult {
  return { name: step.name, type, status: 'success', counts: emptyCounts(), byCategoryLabel: {}, warnings: [], errors: [], problems: [], durationMs: Date.now() - started, ...extra };
}

/** Counts per category x label, as the data explorer shows them. */
export function datasetSummary(state: SyncState): { total: number; byCategoryLabel: Record<string, Record<string, number>> } {
  const info = buildInfoLabels(state.all());
  const byCategoryLabel: Record<string, Record<string, number>> = { training: {}, validation: {}, testing: {} };
  for (const f of info.files) {
    const l = f.label.type === 'label' ? f.label.label : UNLABELED;
    byCategoryLabel[f.category][l] = (byCategoryLabel[f.category][l] ?? 0) + 1;
  }
  return { total: info.files.length, byCategoryLabel };
}

export function runShell(command: string, cwd: string, env: NodeJS.ProcessEnv, logger: Logger, signal?: AbortSignal, timeoutMs = 3_600_000): Promise<{ code: number | null; tail: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, { cwd, env, shell: true, stdio: ['ignore', 'pipe', 'pipe'], signal, timeout: timeoutMs });
    let tail = '';
    const onData = (b: Buffer) => {
      const text = b.toString('utf8');
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) logger.info(`  | ${line}`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, tail }));
  });
}

function versionsDir(datasetDir: string): string {
  return `${datasetDir}.versions`;
}

async function linkTree(from: string, to: string): Promise<number> {
  let n = 0;
  await fs.promises.mkdir(to, { recursive: true });
  for (const d of await fs.promises.readdir(from, { withFileTypes: true })) {
    if (d.name === META_DIR) continue;
    const a = path.join(from, d.name);
    const b = path.join(to, d.name);
    if (d.isDirectory()) n += await linkTree(a, b);
    else if (d.isFile()) {
      try {
        await fs.promises.link(a, b);
      } catch {
        await fs.promises.copyFile(a, b);
      }
      n++;
    }
  }
  return n;
}

export async function runActionStep(step: Step, block: ActionBlock, ctx: ActionContext): Promise<StepResult> {
  const started = Date.now();
  const { loaded, logger } = ctx;
  const datasetDir = loaded.datasetDir;
  const baseDir = path.dirname(path.resolve(loaded.file));
  const messages: string[] = [];
  const warnings: string[] = [];

  if (block.refreshDataExplorer) {
    writeDatasetIndex(datasetDir, ctx.state);
    const summary = datasetSummary(ctx.state);
    fs.mkdirSync(metaDir(datasetDir), { recursive: true });
    fs.writeFileSync(path.join(metaDir(datasetDir), 'explorer.json'), JSON.stringify({ updatedAt: new Date().toISOString(), runId: ctx.run.id, ...summary }, null, 1));
    messages.push(`data explorer refreshed: ${summary.total} samples`);
  }
  if (block.retrainModel) {
    if (block.trainCommand) {
      logger.info(`[${step.name}] ${block.trainCommand}`);
      const r = await runShell(block.trainCommand, baseDir, { ...process.env, DATASET_DIR: datasetDir, PIPELINE_FILE: path.resolve(loaded.file), RUN_ID: ctx.run.id }, logger, ctx.signal);
      if (r.code !== 0) return result(step, block.type, started, { status: 'failed', errors: [`trainCommand exited with code ${r.code}. Its last output:\n${r.tail}`] });
      messages.push('model retrained');
    } else {
      warnings.push('retrainModel has no trainCommand: nothing was retrained. Add "trainCommand" to the step.');
    }
  }
  if (block.createVersion) {
    const root = versionsDir(datasetDir);
    await fs.promises.mkdir(root, { recursive: true });
    // A version is built under a hidden name and renamed into place whole: a run killed half-way
    // leaves only a .partial-* folder, removed here by the next run (the dataset lock is held).
    const names = await fs.promises.readdir(root);
    for (const n of names) if (n.startsWith('.partial-')) await fs.promises.rm(path.join(root, n), { recursive: true, force: true });
    const existing = names.map((n) => /^v(\d+)$/.exec(n)?.[1]).filter(Boolean).map(Number);
    const v = (existing.length ? Math.max(...existing) : 0) + 1;
    const dir = path.join(root, `v${v}`);
    const partial = path.join(root, `.partial-v${v}-${process.pid}`);
    const n = await linkTree(datasetDir, partial);
    fs.writeFileSync(path.join(partial, 'version.json'), JSON.stringify({ version: v, createdAt: new Date().toISOString(), runId: ctx.run.id, pipeline: ctx.run.pipeline, files: n }, null, 1));
    await fs.promises.rename(partial, dir);
    messages.push(`version v${v} created (${n} files) in ${dir}`);
  }
  if (block.buildBinary) {
    const entries: ZipEntry[] = [];
    entries.push({ name: 'info.labels', data: Buffer.from(JSON.stringify(buildInfoLabels(ctx.state.all()), null, 1)) });
    if (block.modelPath) {
      const modelAbs = path.resolve(baseDir, block.modelPath);
      const add = (abs: string, rel: string) => {
        const st = fs.statSync(abs);
        if (st.isDirectory()) for (const n of fs.readdirSync(abs)) add(path.join(abs, n), `${rel}/${n}`);
        else entries.push({ name: rel, data: fs.readFileSync(abs) });
      };
      if (!fs.existsSync(modelAbs)) return result(step, block.type, started, { status: 'failed', errors: [`modelPath ${block.modelPath} does not exist (resolved to ${modelAbs}). Point it at the model your trainCommand writes.`] });
      add(modelAbs, `model/${path.basename(modelAbs)}`);
    } else warnings.push('buildBinary has no modelPath: the zip holds the dataset manifest only.');
    entries.push({ name: 'deployment.json', data: Buffer.from(JSON.stringify({ pipeline: ctx.run.pipeline, runId: ctx.run.id, modelType: block.buildBinaryModelType ?? 'int8', builtAt: new Date().toISOString() }, null, 1)) });
    const outDir = `${datasetDir}.deployments`;
    fs.mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, `deployment-${block.buildBinaryModelType ?? 'int8'}-${ctx.run.id}.zip`);
    await writeZip(file, entries);
    messages.push(`deployment built: ${file}`);
  }
  for (const m of messages) logger.info(`[${step.name}] ${m}`);
  return result(step, block.type, started, { warnings, message: messages.join('; ') });
}

export async function runCustomStep(step: Step, ctx: ActionContext): Promise<StepResult> {
  const started = Date.now();
  const block = step.transformationBlock;
  if (!block) return result(step, 'transformation-block', started, { status: 'skipped', warnings: ['Edge Impulse organization block: no local command, skipped.'] });
  const baseDir = path.dirname(path.resolve(ctx.loaded.file));
  const env: NodeJS.ProcessEnv = { ...process.env, DATASET_DIR: ctx.loaded.datasetDir, PIPELINE_FILE: path.resolve(ctx.loaded.file), RUN_ID: ctx.run.id };
  for (const [k, v] of Object.entries(step.parameters ?? {})) env[`PARAM_${k.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`] = typeof v === 'string' ? v : JSON.stringify(v);
  for (const [k, v] of Object.entries(block.env ?? {})) env[k] = ctx.resolver ? await resolveValue(v, ctx.resolver, `${step.name}: env ${k}`) : v;
  ctx.logger.info(`[${step.name}] ${block.command}`);
  const r = await runShell(block.command, path.resolve(baseDir, block.cwd ?? '.'), env, ctx.logger, ctx.signal, (block.timeoutSeconds ?? 3600) * 1000);
  if (r.code !== 0) return result(step, 'transformation-block', started, { status: 'failed', errors: [`"${block.command}" exited with code ${r.code}. Its last output:\n${r.tail}`] });
  return result(step, 'transformation-block', started, { message: 'block finished' });
}
