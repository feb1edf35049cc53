// data-pipelines serve [DIR|FILE…]: run pipelines on their schedules and serve the local API.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findPipelineFiles, generateApiKey, pipelineId, startApiServer } from '../../core/api/server';
import { smtpFromEnv } from '../../core/notify/email';
import type { Logger } from '../../core/types';
import { logEntry } from '../../core/util/format';
import { UsageError } from '../args';
import { EXIT } from '../exit';
import { out } from '../output';
import type { CommandContext } from './context';

/** DSP_API_KEY, else ~/.config/data-pipelines/api-key (created once, readable by the user only). */
export function apiKeyFor(env: NodeJS.ProcessEnv): { key: string; where: string } {
  if (env.DSP_API_KEY) return { key: env.DSP_API_KEY, where: 'the DSP_API_KEY environment variable' };
  const file = path.join(env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'data-pipelines', 'api-key');
  try {
    const key = fs.readFileSync(file, 'utf8').trim();
    if (key) return { key, where: file };
  } catch {
    /* created below */
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = generateApiKey();
  fs.writeFileSync(file, key + '\n', { mode: 0o600 });
  return { key, where: file };
}

export async function serve({ args: a, logger, signal }: CommandContext): Promise<number> {
  const roots = a.files.length ? a.files : ['.'];
  const files = findPipelineFiles(roots);
  if (!files.length) throw new UsageError(`no *.pipeline.json files found in ${roots.join(', ')}`);
  const root = fs.existsSync(roots[0]) && fs.statSync(roots[0]).isDirectory() ? path.resolve(roots[0]) : path.dirname(path.resolve(roots[0]));
  const { key, where } = apiKeyFor(process.env);
  const verbose: Logger = { ...logger, info: (m) => !a.quiet && process.stderr.write(`info  ${logEntry(m)}\n`) };
  const server = await startApiServer({ files, root, apiKey: key, host: a.host, port: a.port ?? 8787, schedule: a.schedule, logger: verbose, notify: { smtp: smtpFromEnv(process.env) } });
  const first = pipelineId(root, files[0]);
  out(`Serving ${files.length} pipeline(s) on ${server.url} (API key in ${where}).`);
  for (const e of server.scheduler?.list() ?? []) out(`  ${pipelineId(root, e.file)}: ${e.error ?? (e.nextRunAt ? `next run ${e.nextRunAt.toISOString()}` : 'no schedule')}`);
  out(`Run one from code:\n  curl -X POST -H "x-api-key: $KEY" '${server.url}/api/pipelines/${encodeURIComponent(first)}/run?wait=1'`);
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  await server.close();
  return EXIT.ok;
}
