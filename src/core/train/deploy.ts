// buildBinary: "zip": a deployment that holds the model the training made, for the model type
// asked for (int8 or float32), with labels.txt, the metrics, a runnable example, and
// deployment.json listing every file with its SHA-256. An optional buildCommand makes other
// targets (TFLite, ONNX…) under the same contract: it writes them into DEPLOY_DIR.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ActionBlock, Step } from '../pipeline/model';
import type { ActionContext } from '../run/actions';
import { exitDescription, runShell } from '../util/shell';
import { writeZip } from '../util/zip';
import { filesUnder, readModelManifest } from './models';
import { templateFile } from './templates';
import { blockEnv, commandCwd, modelForRun, type TrainOutcome } from './train';

export function deploymentsDir(datasetDir: string): string {
  return `${datasetDir}.deployments`;
}

interface Entry {
  name: string;
  file: string;
}

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** The files a zip holds besides the model: labels.txt, metrics.json, and predict.py for the reference format. */
function companions(modelDir: string, datasetDir: string, format: string | undefined, taken: Set<string>): Entry[] {
  const out: Entry[] = [];
  const add = (name: string, file: string) => {
    if (!taken.has(name) && fs.existsSync(file)) out.push({ name, file });
  };
  add('labels.txt', path.join(modelDir, 'labels.txt'));
  add('labels.txt', path.join(datasetDir, 'labels.txt'));
  add('model.json', path.join(modelDir, 'model.json'));
  add('metrics.json', path.join(path.dirname(modelDir), 'metrics.json'));
  if (format === 'dsp-torch-v1') add('predict.py', templateFile('predict.py'));
  return out.filter((e, i) => out.findIndex((x) => x.name === e.name) === i);
}

/** The model's files for the type, or why there are none. */
function modelEntries(modelDir: string, type: 'int8' | 'float32'): { entries?: Entry[]; format?: string; why?: string } {
  const manifest = readModelManifest(modelDir);
  const files = manifest.files[type];
  if (!files?.length) {
    const why =
      type === 'int8'
        ? 'buildBinaryModelType is "int8", but the training made no int8 model (MODEL_DIR/model.json lists no "int8" files). Make the trainCommand write one when BUILD_MODEL_TYPE=int8 (the reference trainer quantizes with PyTorch), or set "buildBinaryModelType": "float32". No zip was written.'
        : 'The training left no float32 model files in MODEL_DIR. No zip was written.';
    return { why };
  }
  return { entries: files.map((f) => ({ name: f, file: path.join(modelDir, f) })), format: manifest.format };
}

async function runBuildCommand(step: Step, block: ActionBlock, ctx: ActionContext, modelDir: string, type: string): Promise<{ entries?: Entry[]; error?: string }> {
  const deployDir = path.join(path.dirname(modelDir), `deploy-${type}`);
  fs.rmSync(deployDir, { recursive: true, force: true });
  fs.mkdirSync(deployDir, { recursive: true });
  const { env: extra, hidden } = await blockEnv(block, ctx, step.name);
  const datasetDir = ctx.loaded.datasetDir;
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra, DATASET_DIR: datasetDir, LABELS_FILE: path.join(datasetDir, 'labels.txt'), MODEL_DIR: modelDir, METRICS_FILE: path.join(path.dirname(modelDir), 'metrics.json'), BUILD_MODEL_TYPE: type, DEPLOY_DIR: deployDir, RUN_ID: ctx.run.id, PIPELINE_FILE: path.resolve(ctx.loaded.file) };
  const timeoutMs = (block.timeoutSeconds ?? 3600) * 1000;
  ctx.logger.info(`[${step.name}] ${block.buildCommand}`);
  const r = await runShell(block.buildCommand!, commandCwd(block, ctx), env, ctx.logger, ctx.signal, timeoutMs, hidden);
  if (r.code !== 0) return { error: `buildCommand ${exitDescription(r, timeoutMs, ctx.signal)}; no zip was written. Its last output:\n${r.tail.trimEnd()}` };
  const files = filesUnder(deployDir);
  if (!files.length) return { error: 'buildCommand wrote nothing to DEPLOY_DIR; no zip was written. Write the deployment files into $DEPLOY_DIR.' };
  return { entries: files.map((f) => ({ name: f, file: path.join(deployDir, f) })) };
}

export async function buildDeployment(step: Step, block: ActionBlock, ctx: ActionContext): Promise<TrainOutcome> {
  const type = block.buildBinaryModelType ?? 'int8';
  const model = modelForRun(ctx);
  if (!model.modelDir) return { status: 'skipped', message: `Deployment not built: ${model.why}, so there is no model to deploy.`, warnings: [], errors: [] };
  let entries: Entry[];
  let format: string | undefined;
  if (block.buildCommand) {
    const built = await runBuildCommand(step, block, ctx, model.modelDir, type);
    if (!built.entries) return { status: ctx.signal?.aborted ? 'cancelled' : 'failed', message: 'deployment not built', warnings: [], errors: [built.error!] };
    entries = built.entries;
  } else {
    const m = modelEntries(model.modelDir, type);
    if (!m.entries) return { status: 'failed', message: 'deployment not built', warnings: [], errors: [m.why!] };
    entries = m.entries;
    format = m.format;
  }
  const taken = new Set(entries.map((e) => e.name));
  entries.push(...companions(model.modelDir, ctx.loaded.datasetDir, block.buildCommand ? undefined : format, taken));
  const files = [];
  for (const e of entries) files.push({ name: e.name, size: fs.statSync(e.file).size, sha256: await sha256(e.file) });
  const manifest = { pipeline: ctx.run.pipeline, runId: ctx.run.id, modelRunId: model.runId, modelType: type, format: format ?? null, builtAt: new Date().toISOString(), files };
  const outDir = deploymentsDir(ctx.loaded.datasetDir);
  fs.mkdirSync(outDir, { recursive: true });
  const zip = path.join(outDir, `deployment-${type}-${ctx.run.id}.zip`);
  await writeZip(zip, [...entries, { name: 'deployment.json', data: Buffer.from(JSON.stringify(manifest, null, 1) + '\n') }]);
  return { status: 'success', message: `deployment built (${type}, ${files.length} files): ${zip}`, warnings: [], errors: [], artifacts: { deployment: zip } };
}
