// The local API's routes: a table of (method, path) → handler, and one handler per route.
import type * as http from 'node:http';
import { DatasetLockedError } from '../dataset/lock';
import { loadPipelineFile, type LoadedPipeline } from '../pipeline/validate';
import { getRun, listRuns } from '../run/history';
import { readBody, RequestError, send, sendServerError } from './http';
import type { PipelineRunner } from './runner';

export interface ApiContext {
  /** Pipeline files by id. */
  byId: Map<string, string>;
  runner: PipelineRunner;
}

interface Request {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  url: URL;
}

/** A request for one pipeline: /api/pipelines/ID/ACTION or /api/pipelines/ID/runs/RUN_ID. */
interface PipelineRequest extends Request {
  file: string;
  loaded: LoadedPipeline;
  runId?: string;
}

type PipelineAction = 'run' | 'cancel' | 'runs' | 'run-detail';
type PipelineHandler = (ctx: ApiContext, r: PipelineRequest) => void | Promise<void>;

const NOT_FOUND = 'Unknown path or method. Endpoints: GET /api/pipelines, POST /api/pipelines/ID/run[?wait=1], POST /api/pipelines/ID/cancel, GET /api/pipelines/ID/runs, GET /api/pipelines/ID/runs/RUN_ID.';

/** GET /api/pipelines */
function listPipelines(ctx: ApiContext, { res }: Request): void {
  const sched = new Map((ctx.runner.scheduler?.list() ?? []).map((e) => [e.file, e]));
  send(
    res,
    200,
    [...ctx.byId].map(([id, file]) => {
      const loaded = loadPipelineFile(file);
      const last = listRuns(loaded.datasetDir, 1)[0];
      return { id, name: loaded.pipeline?.name, file, valid: !!loaded.pipeline, running: ctx.runner.active.has(file), nextRunAt: sched.get(file)?.nextRunAt?.toISOString(), lastRun: last ? { id: last.id, status: last.status, startedAt: last.startedAt } : undefined };
    }),
  );
}

/** The steps a run request names, checked against the pipeline. */
function requestedSteps(body: Record<string, unknown>, pipeline: { steps: { name: string }[] }): string[] | undefined {
  if (body.steps === undefined || body.steps === null) return undefined;
  if (!Array.isArray(body.steps) || !body.steps.every((x) => typeof x === 'string')) throw new RequestError(400, '"steps" must be a list of step names.');
  const names = new Set(pipeline.steps.map((x) => x.name));
  const unknown = (body.steps as string[]).filter((x) => !names.has(x));
  if (unknown.length) throw new RequestError(400, `No step ${unknown.map((x) => JSON.stringify(x)).join(', ')} in this pipeline. Its steps: ${[...names].map((x) => JSON.stringify(x)).join(', ')}.`);
  return body.steps as string[];
}

/** POST /api/pipelines/ID/run[?wait=1] */
async function startRun(ctx: ApiContext, { req, res, url, file, loaded }: PipelineRequest): Promise<void> {
  if (!loaded.pipeline) return send(res, 422, { error: 'The pipeline file has errors; fix them first.', problems: loaded.problems });
  // The whole body first: deciding and recording a run is then one step, with no await
  // between the check and the start (a late body cannot overwrite a run in progress).
  const body = await readBody(req);
  const steps = requestedSteps(body, loaded.pipeline);
  if (body.verifyLocal !== undefined && typeof body.verifyLocal !== 'boolean') throw new RequestError(400, '"verifyLocal" must be true or false.');
  const { active } = ctx.runner;
  if (active.has(file)) return send(res, 409, { error: 'A run of this pipeline is in progress.', runId: active.get(file)?.runId });
  const wait = url.searchParams.get('wait') === '1' || url.searchParams.get('wait') === 'true';
  const r = ctx.runner.start(file, 'api', steps, { verifyLocal: body.verifyLocal === true });
  try {
    if (wait) return send(res, 200, await r.finished);
    const first = await r.started;
    r.finished.catch(() => undefined);
    return send(res, 202, { runId: first.id, status: first.status });
  } catch (err) {
    if (err instanceof DatasetLockedError) return send(res, 409, { error: err.message });
    return sendServerError(res, err);
  }
}

/** POST /api/pipelines/ID/cancel */
function cancelRun(ctx: ApiContext, { res, file }: PipelineRequest): void {
  const a = ctx.runner.active.get(file);
  if (!a) return send(res, 409, { error: 'No run of this pipeline is in progress.' });
  a.controller.abort();
  send(res, 202, { runId: a.runId, cancelling: true });
}

/** GET /api/pipelines/ID/runs[?limit=N] */
function listPipelineRuns(_ctx: ApiContext, { res, url, loaded }: PipelineRequest): void {
  const limit = Number(url.searchParams.get('limit') ?? 50);
  send(res, 200, listRuns(loaded.datasetDir, Number.isInteger(limit) && limit > 0 ? Math.min(limit, 1000) : 50));
}

/** GET /api/pipelines/ID/runs/RUN_ID */
function runDetail(_ctx: ApiContext, { res, loaded, runId }: PipelineRequest): void {
  const r = getRun(loaded.datasetDir, runId!);
  if (r) send(res, 200, r);
  else send(res, 404, { error: `No run ${runId}.` });
}

const PIPELINE_ROUTES: { method: string; action: PipelineAction; handler: PipelineHandler }[] = [
  { method: 'POST', action: 'run', handler: startRun },
  { method: 'POST', action: 'cancel', handler: cancelRun },
  { method: 'GET', action: 'runs', handler: listPipelineRuns },
  { method: 'GET', action: 'run-detail', handler: runDetail },
];

/** Splits /api/pipelines/ID… into the id (which may contain '/'), the action and a run id. */
function pipelineTarget(tail: string[]): { id: string; action: string; runId?: string } {
  if (tail.length >= 3 && tail[tail.length - 2] === 'runs') return { id: tail.slice(0, -2).join('/'), action: 'run-detail', runId: tail[tail.length - 1] };
  return { id: tail.slice(0, -1).join('/'), action: tail[tail.length - 1] };
}

/** Routes an authenticated request (anything but /api/health). */
export async function route(ctx: ApiContext, r: Request): Promise<void> {
  const parts = r.url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== 'api') return send(r.res, 404, { error: 'Unknown path. See GET /api/pipelines.' });
  if (parts[1] === 'pipelines' && parts.length === 2 && r.req.method === 'GET') return listPipelines(ctx, r);
  if (parts[1] === 'pipelines' && parts.length >= 4) {
    const { id, action, runId } = pipelineTarget(parts.slice(2));
    const file = ctx.byId.get(id);
    if (!file) return send(r.res, 404, { error: `No pipeline "${id}". GET /api/pipelines lists them.` });
    const loaded = loadPipelineFile(file);
    const match = PIPELINE_ROUTES.find((x) => x.action === action && x.method === r.req.method);
    if (match) return match.handler(ctx, { ...r, file, loaded, runId });
  }
  send(r.res, 404, { error: NOT_FOUND });
}
