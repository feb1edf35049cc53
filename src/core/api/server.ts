// "Run the pipeline from code": a local HTTP API guarded by an API key, plus the scheduler.
// Binds to 127.0.0.1 by default. The key is compared in constant time and never logged (auth.ts).
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { NotifyOptions } from '../notify';
import type { Resolver } from '../pipeline/refs';
import type { Scheduler } from '../schedule/scheduler';
import type { Logger } from '../types';
import { apiKeyCheck } from './auth';
import { send, sendRequestFailure } from './http';
import { route, type ApiContext } from './routes';
import { PipelineRunner } from './runner';

export { generateApiKey } from './auth';

export interface ApiOptions {
  /** Pipeline files served; ids are their paths relative to `root` without `.pipeline.json`. */
  files: string[];
  root: string;
  apiKey: string;
  host?: string;
  port?: number;
  schedule?: boolean;
  logger: Logger;
  resolver?: Resolver;
  notify?: NotifyOptions;
}

export interface ApiServer {
  url: string;
  port: number;
  scheduler?: Scheduler;
  close(): Promise<void>;
}

const SKIP_DIRS = new Set(['node_modules', '.git', '.dsp', '.tools', 'dist', 'out']);

/** Finds *.pipeline.json files below a folder (or takes the given files as they are). */
export function findPipelineFiles(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 8) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of entries) {
      if (d.isDirectory() && !SKIP_DIRS.has(d.name) && !d.name.startsWith('.')) walk(path.join(dir, d.name), depth + 1);
      else if (d.isFile() && d.name.endsWith('.pipeline.json')) out.push(path.join(dir, d.name));
    }
  };
  for (const p of paths) {
    const abs = path.resolve(p);
    if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) walk(abs, 0);
    else out.push(abs);
  }
  return [...new Set(out)].sort();
}

export function pipelineId(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/').replace(/\.pipeline\.json$/, '');
}

/** Serves the API (health, then the key check, then the routes) and runs the schedule. */
export async function startApiServer(o: ApiOptions): Promise<ApiServer> {
  const authorized = apiKeyCheck(o.apiKey);
  const runner = new PipelineRunner(o);
  const ctx: ApiContext = { byId: new Map(o.files.map((f) => [pipelineId(o.root, f), f])), runner };
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/api/health') return send(res, 200, { ok: true });
      if (!authorized(req)) return send(res, 401, { error: 'Missing or wrong API key: send it as the x-api-key header (or Authorization: Bearer KEY).' });
      await route(ctx, { req, res, url });
    } catch (err) {
      sendRequestFailure(req, res, err);
    }
  });
  const port = await listen(server, o);
  return {
    url: `http://${o.host ?? '127.0.0.1'}:${port}`,
    port,
    scheduler: runner.scheduler,
    close: async () => {
      runner.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
    },
  };
}

async function listen(server: http.Server, o: ApiOptions): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // A deep accept queue: a burst of triggers (a CI fan-out) is answered 409, never reset.
    server.listen({ port: o.port ?? 8787, host: o.host ?? '127.0.0.1', backlog: 4096 }, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}
