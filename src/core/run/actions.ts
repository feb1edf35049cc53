// Post-sync actions (Edge Impulse's project-action, done locally) and custom transformation blocks.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeDatasetIndex } from '../dataset/datasetIndex';
import { buildExplorer, explorerFiles } from '../explorer/explorer';
import type { SyncState } from '../dataset/state';
import type { ActionBlock, Step } from '../pipeline/model';
import { resolveValue, type Resolver } from '../pipeline/refs';
import type { LoadedPipeline } from '../pipeline/validate';
import { buildDeployment } from '../train/deploy';
import { latestModel } from '../train/models';
import { runTraining, type TrainOutcome } from '../train/train';
import { createVersion } from '../train/versions';
import { emptyCounts, type Logger, type RunRecord, type StepResult } from '../types';
import { exitDescription, runShell } from '../util/shell';

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

/** The model type a buildBinary step at or after this one will ask for: BUILD_MODEL_TYPE. */
function buildModelTypeAfter(step: Step, ctx: ActionContext): 'int8' | 'float32' | undefined {
  const steps = ctx.loaded.pipeline?.steps ?? [];
  for (const s of steps.slice(Math.max(0, steps.indexOf(step)))) {
    const b = s.builtinTransformationBlock as ActionBlock | undefined;
    if (s.enabled !== false && b?.type === 'project-action' && b.buildBinary) return b.buildBinaryModelType ?? 'int8';
  }
  return undefined;
}

async function refreshExplorer(ctx: ActionContext): Promise<TrainOutcome> {
  const datasetDir = ctx.loaded.datasetDir;
  writeDatasetIndex(datasetDir, ctx.state);
  const doc = await buildExplorer(datasetDir, ctx.state, { runId: ctx.run.id, logger: ctx.logger, signal: ctx.signal });
  const findings = Object.entries(doc.quality.counts).filter(([, n]) => n > 0);
  const map = doc.embedding.kind === 'training' ? `training embeddings of run ${doc.embedding.runId}` : doc.embedding.kind === 'image-features' ? 'image features' : "the files' bytes";
  const message = `data explorer refreshed: ${doc.points.length} samples, map from ${map}; ${findings.length ? findings.map(([k, n]) => `${n} ${k}`).join(', ') : 'no findings'}`;
  const png = explorerFiles(datasetDir).png;
  return { status: 'success', message, warnings: doc.warnings, errors: [], artifacts: fs.existsSync(png) ? { explorer: png } : undefined, quality: doc.quality.counts };
}

async function versionStep(ctx: ActionContext): Promise<TrainOutcome> {
  const { loaded, run } = ctx;
  const model = latestModel(loaded.datasetDir);
  const v = await createVersion(loaded.datasetDir, ctx.state, { runId: run.id, pipeline: run.pipeline, pipelineFile: path.resolve(loaded.file), model: model && { modelDir: model.modelDir, runId: model.runId, metrics: model.metrics } });
  return { status: 'success', message: `version ${v.id} created (${v.files} files${model ? `, model of run ${model.runId}` : ', no model yet'}) in ${v.dir}`, warnings: [], errors: [], artifacts: { version: v.id } };
}

/** One block's actions, in Edge Impulse's order; the step is skipped only when every action it asks for was. */
function combine(step: Step, type: string, started: number, outcomes: TrainOutcome[]): StepResult {
  const has = (st: StepResult['status']) => outcomes.some((o) => o.status === st);
  const status = has('cancelled') ? 'cancelled' : has('failed') ? 'failed' : outcomes.length && outcomes.every((o) => o.status === 'skipped') ? 'skipped' : 'success';
  const r = result(step, type, started, {
    status,
    message: outcomes.map((o) => o.message).filter(Boolean).join('; '),
    warnings: outcomes.flatMap((o) => o.warnings),
    errors: outcomes.flatMap((o) => o.errors),
  });
  for (const o of outcomes) {
    if (o.metrics) r.metrics = o.metrics;
    if (o.metricTables?.length) r.metricTables = o.metricTables;
    if (o.artifacts) r.artifacts = { ...r.artifacts, ...o.artifacts };
    if (o.quality) r.quality = o.quality;
  }
  return r;
}

export async function runActionStep(step: Step, block: ActionBlock, ctx: ActionContext): Promise<StepResult> {
  const started = Date.now();
  const outcomes: TrainOutcome[] = [];
  if (block.refreshDataExplorer) outcomes.push(await refreshExplorer(ctx));
  let trained: TrainOutcome | undefined;
  if (block.retrainModel) outcomes.push((trained = await runTraining(step, block, ctx, buildModelTypeAfter(step, ctx))));
  if (block.createVersion && !ctx.signal?.aborted) outcomes.push(await versionStep(ctx));
  if (block.buildBinary && !ctx.signal?.aborted) {
    if (trained && trained.status !== 'success') outcomes.push({ status: 'skipped', message: `Deployment not built: ${trained.status === 'skipped' ? 'the model was not retrained' : 'the retrain failed'}, so there is no new model to deploy.`, warnings: [], errors: [] });
    else outcomes.push(await buildDeployment(step, block, ctx));
  }
  for (const o of outcomes) if (o.message) ctx.logger.info(`[${step.name}] ${o.message}`);
  return combine(step, block.type, started, outcomes);
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
  const timeoutMs = (block.timeoutSeconds ?? 3600) * 1000;
  const r = await runShell(block.command, path.resolve(baseDir, block.cwd ?? '.'), env, ctx.logger, ctx.signal, timeoutMs);
  if (r.code !== 0) return result(step, 'transformation-block', started, { status: ctx.signal?.aborted ? 'cancelled' : 'failed', errors: [`"${block.command}" ${exitDescription(r, timeoutMs, ctx.signal)}. Its last output:\n${r.tail}`] });
  return result(step, 'transformation-block', started, { message: 'block finished' });
}
