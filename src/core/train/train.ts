// The training contract: retrainModel runs the user's trainCommand with the dataset and a fresh
// model folder in its environment, then reads the metrics it wrote. Any framework can meet it:
//
//   DATASET_DIR, LABELS_FILE        the dataset (ImageFolder layout) and its labels.txt
//   MODEL_DIR                       a fresh, empty folder for this run's model
//   PREVIOUS_MODEL_DIR              the last successful training's MODEL_DIR (warm start); "" the first time
//   METRICS_FILE                    where to write the metrics (schemas/metrics.schema.json)
//   EMBEDDINGS_FILE                 where to write per-sample embeddings (JSON lines), if the training can
//   BUILD_MODEL_TYPE                int8 or float32 when a buildBinary step follows; "" otherwise
//   RUN_ID, PIPELINE_FILE
import * as path from 'node:path';
import type { ActionBlock, Step } from '../pipeline/model';
import { resolveValue } from '../pipeline/refs';
import type { StepResult } from '../types';
import { exitDescription, runShell } from '../util/shell';
import type { ActionContext } from '../run/actions';
import { compareMetrics, formatMetric, orderedMetrics, readMetricsFile } from './metrics';
import { filesUnder, freshModelFolder, latestModel, saveLatest } from './models';

export const REFERENCE_TRAINER_HINT = 'Run "data-pipelines init-trainer" (or "Add data source" → reference trainer in the editor) to write a PyTorch train.py and set "trainCommand" to run it.';

export type TrainOutcome = Pick<StepResult, 'status' | 'warnings' | 'errors' | 'metrics' | 'metricTables' | 'artifacts' | 'quality'> & { message: string };

/** The block's env values with ${secret:…} and ${env:…} resolved; the resolved values, to hide from output. */
export async function blockEnv(block: ActionBlock, ctx: ActionContext, what: string): Promise<{ env: Record<string, string>; hidden: string[] }> {
  const env: Record<string, string> = {};
  const hidden: string[] = [];
  for (const [k, v] of Object.entries(block.env ?? {})) {
    env[k] = ctx.resolver ? (await resolveValue(v, ctx.resolver, `${what}: env ${k}`)) ?? '' : v;
    if (env[k] !== v) hidden.push(env[k]);
  }
  return { env, hidden };
}

export function commandCwd(block: ActionBlock, ctx: ActionContext): string {
  return path.resolve(path.dirname(path.resolve(ctx.loaded.file)), block.cwd ?? '.');
}

/** Why retrainModel did not run, in the words the summary, the report and the notifications use. */
export function notTrainedReason(ctx: ActionContext): string {
  const had = latestModel(ctx.loaded.datasetDir);
  const before = had ? `The last model (run ${had.runId}) is kept as it is.` : 'As in Edge Impulse, a retrain needs a model trained once before, and this dataset has none yet.';
  return `Not retrained: this retrainModel step has no "trainCommand". ${before} ${REFERENCE_TRAINER_HINT}`;
}

export async function runTraining(step: Step, block: ActionBlock, ctx: ActionContext, buildModelType: 'int8' | 'float32' | undefined): Promise<TrainOutcome> {
  const { loaded, logger } = ctx;
  const command = block.trainCommand;
  if (!command) return { status: 'skipped', message: notTrainedReason(ctx), warnings: [], errors: [] };
  const datasetDir = loaded.datasetDir;
  const previous = latestModel(datasetDir);
  const f = freshModelFolder(datasetDir, ctx.run.id);
  const { env: extra, hidden } = await blockEnv(block, ctx, step.name);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...extra,
    DATASET_DIR: datasetDir,
    LABELS_FILE: path.join(datasetDir, 'labels.txt'),
    MODEL_DIR: f.modelDir,
    PREVIOUS_MODEL_DIR: previous?.modelDir ?? '',
    METRICS_FILE: f.metricsFile,
    EMBEDDINGS_FILE: f.embeddingsFile,
    BUILD_MODEL_TYPE: buildModelType ?? '',
    RUN_ID: ctx.run.id,
    PIPELINE_FILE: path.resolve(loaded.file),
  };
  const timeoutMs = (block.timeoutSeconds ?? 3600) * 1000;
  logger.info(`[${step.name}] ${command}${previous ? ` (warm start from run ${previous.runId})` : ' (first training: PREVIOUS_MODEL_DIR is empty)'}`);
  const r = await runShell(command, commandCwd(block, ctx), env, logger, ctx.signal, timeoutMs, hidden);
  if (ctx.signal?.aborted) return { status: 'cancelled', message: 'training cancelled', warnings: [], errors: [] };
  if (r.code !== 0) return { status: 'failed', message: 'training failed', warnings: [], errors: [`trainCommand ${exitDescription(r, timeoutMs, ctx.signal)}; the previous model is kept. Its last output:\n${r.tail.trimEnd()}`] };

  const warnings: string[] = [];
  const read = readMetricsFile(f.metricsFile);
  if (read.warning) warnings.push(read.warning);
  const values = read.metrics?.values ?? {};
  const metrics = compareMetrics(values, previous?.metrics);
  const hasModel = filesUnder(f.modelDir).length > 0;
  if (hasModel) saveLatest(datasetDir, { runId: ctx.run.id, createdAt: new Date().toISOString(), metrics: values });
  else warnings.push('The training wrote nothing to MODEL_DIR, so there is no new model: a build step has nothing to deploy and the next retrain starts from the previous model. Save the model into $MODEL_DIR.');
  const head = orderedMetrics(metrics).slice(0, 4).map(([k, m]) => formatMetric(k, m));
  const message = `model ${previous ? `retrained from run ${previous.runId}` : 'trained (first training)'}${head.length ? `: ${head.join(', ')}` : ''}`;
  return { status: 'success', message, warnings, errors: [], metrics, metricTables: read.metrics?.tables, artifacts: hasModel ? { model: f.modelDir } : undefined };
}

/** The model a later step of this run uses: this run's training, else the last successful one. */
export function modelForRun(ctx: ActionContext): { modelDir?: string; runId?: string; why?: string } {
  const retrains = new Set((ctx.loaded.pipeline?.steps ?? []).filter((s) => (s.builtinTransformationBlock as ActionBlock | undefined)?.retrainModel).map((s) => s.name));
  const trained = [...ctx.run.steps].reverse().find((s) => retrains.has(s.name) && s.status !== 'skipped');
  if (trained?.artifacts?.model) return { modelDir: trained.artifacts.model, runId: ctx.run.id };
  if (trained?.status === 'failed') return { why: `the retrain step "${trained.name}" failed in this run` };
  const latest = latestModel(ctx.loaded.datasetDir);
  if (latest) return { modelDir: latest.modelDir, runId: latest.runId };
  return { why: 'no model has been trained for this dataset yet' };
}
