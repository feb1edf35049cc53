// A sharded run on the engines users already have (shard.ts): a Kubernetes Indexed Job plus a
// finalize Job, or a GitHub Actions workflow with a matrix over the shards and a finalize job that
// needs them. The pipeline's ${secret:NAME} references become references to a Kubernetes Secret or
// to the repository's secrets, ${env:NAME} ones to a ConfigMap or to variables: no value is ever
// written into a manifest.
import * as path from 'node:path';
import { parseRef } from '../pipeline/refs';
import type { LoadedPipeline } from '../pipeline/validate';
import { parseInterval } from '../schedule/interval';
import { UserError } from '../util/errors';
import { MAX_SHARDS } from '../run/shard';

/** The YAML writer, loaded on first use (its own bundle: nothing else needs it). Plain YAML: no
 * anchors and aliases for repeated parts (not every reader of a workflow takes them). */
async function yamlWriter(): Promise<(v: unknown) => string> {
  const { stringify } = await import('yaml');
  return (v) => stringify(v, { aliasDuplicateObjects: false });
}

export interface ExportOptions {
  shards: number;
  /** Kubernetes: the image with the data-pipelines CLI on its PATH. */
  image?: string;
  /** Kubernetes: the PersistentVolumeClaim that holds the pipeline file and the dataset, shared by every pod. */
  volumeClaim?: string;
  /** GitHub: the pipeline file's path in the repository (default: relative to the working directory). */
  repoPath?: string;
}

/** Every ${secret:…} and ${env:…} the pipeline names, wherever it names them. */
export function pipelineRefs(loaded: LoadedPipeline): { secrets: string[]; env: string[] } {
  const secrets = new Set<string>();
  const env = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      const r = parseRef(v);
      if (r) (r.kind === 'secret' ? secrets : env).add(r.name);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(loaded.pipeline);
  return { secrets: [...secrets].sort(), env: [...env].sort() };
}

/** A name Kubernetes and GitHub accept: lower case letters, digits and dashes. */
export function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40)
      .replace(/-+$/, '') || 'pipeline'
  );
}

function checkShards(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_SHARDS) throw new UserError(`--shards takes the number of shards, 1 to ${MAX_SHARDS}.`, 'bad-shard');
}

function need(loaded: LoadedPipeline): NonNullable<LoadedPipeline['pipeline']> {
  if (!loaded.pipeline) throw new UserError(`The pipeline file has errors; fix them first (run "data-pipelines validate ${loaded.file}").`, 'invalid-pipeline');
  return loaded.pipeline;
}

/** The pipeline's schedule as a five-field cron for GitHub: its own `schedule`, or `intervalStr` rounded to what cron can say. */
export function cronOf(p: { schedule?: string; intervalStr?: string }): string | undefined {
  if (p.schedule?.trim()) return p.schedule.trim().split(/\s+/).slice(-5).join(' ');
  const ms = p.intervalStr ? parseInterval(p.intervalStr) : undefined;
  if (!ms) return undefined;
  const min = Math.max(5, Math.round(ms / 60_000)); // GitHub runs schedules at most every 5 minutes
  if (min < 60) return `*/${min} * * * *`;
  const h = Math.round(min / 60);
  if (h < 24) return `0 */${h} * * *`;
  return `0 0 */${Math.round(h / 24)} * *`;
}

/** `export k8s`: an Indexed Job over the shards and a finalize Job, as YAML documents. */
export async function kubernetesManifests(loaded: LoadedPipeline, o: ExportOptions): Promise<string> {
  const stringify = await yamlWriter();
  const pipeline = need(loaded);
  checkShards(o.shards);
  const name = slug(pipeline.name);
  const file = path.basename(loaded.file);
  const { secrets, env } = pipelineRefs(loaded);
  const envVars = [
    ...secrets.map((s) => ({ name: s, valueFrom: { secretKeyRef: { name: `${name}-secrets`, key: s } } })),
    ...env.map((e) => ({ name: e, valueFrom: { configMapKeyRef: { name: `${name}-env`, key: e, optional: true } } })),
  ];
  const container = (command: string[]) => ({
    name: 'data-pipelines',
    image: o.image ?? 'data-pipelines:latest',
    workingDir: '/work',
    command,
    ...(envVars.length ? { env: envVars } : {}),
    volumeMounts: [{ name: 'work', mountPath: '/work' }],
  });
  const job = (suffix: string, spec: Record<string, unknown>, command: string[]) => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `${name}-${suffix}`, labels: { 'app.kubernetes.io/name': 'data-pipelines', 'data-pipelines/pipeline': name, 'data-pipelines/step': suffix } },
    spec: { ...spec, template: { metadata: { labels: { 'data-pipelines/pipeline': name } }, spec: { restartPolicy: 'Never', containers: [container(command)], volumes: [{ name: 'work', persistentVolumeClaim: { claimName: o.volumeClaim ?? `${name}-data` } }] } } },
  });
  // Each pod is one shard: JOB_COMPLETION_INDEX (set by Kubernetes) with --shards N names it.
  const shards = job('shards', { completionMode: 'Indexed', completions: o.shards, parallelism: o.shards, backoffLimit: o.shards * 3 }, ['data-pipelines', 'run', file, '--shards', String(o.shards)]);
  const finalize = job('finalize', { completions: 1, backoffLimit: 3 }, ['data-pipelines', 'finalize', file]);
  const head = [
    `# ${pipeline.name}: ${o.shards} shards as a Kubernetes Indexed Job, then one finalize Job.`,
    `# Generated by: data-pipelines export k8s ${file} --shards ${o.shards}`,
    `# The volume claim ${o.volumeClaim ?? `${name}-data`} holds ${file} at /work (the dataset folder is resolved from it) and is shared by every pod.`,
    ...(secrets.length ? [`# Secrets, by reference only: kubectl create secret generic ${name}-secrets ${secrets.map((s) => `--from-literal=${s}=…`).join(' ')}`] : []),
    ...(env.length ? [`# Environment: kubectl create configmap ${name}-env ${env.map((e) => `--from-literal=${e}=…`).join(' ')}`] : []),
    `# Start the shards, wait for them, then finalize (finalize refuses while a shard is not done):`,
    `#   kubectl apply -f THIS_FILE -l data-pipelines/step=shards`,
    `#   kubectl wait --for=condition=complete --timeout=24h job/${name}-shards`,
    `#   kubectl apply -f THIS_FILE -l data-pipelines/step=finalize`,
  ];
  return `${head.join('\n')}\n${stringify(shards)}---\n${stringify(finalize)}`;
}

/** `export github-actions`: a workflow with a matrix job over the shards and a finalize job that needs it. */
export async function githubWorkflow(loaded: LoadedPipeline, o: ExportOptions): Promise<string> {
  const stringify = await yamlWriter();
  const pipeline = need(loaded);
  checkShards(o.shards);
  const file = o.repoPath ?? (path.relative(process.cwd(), path.resolve(loaded.file)).split(path.sep).join('/') || path.basename(loaded.file));
  const { secrets, env } = pipelineRefs(loaded);
  const jobEnv: Record<string, string> = {};
  for (const s of secrets) jobEnv[s] = `\${{ secrets.${s} }}`;
  for (const e of env) jobEnv[e] = `\${{ vars.${e} }}`;
  const cron = cronOf(pipeline as { schedule?: string; intervalStr?: string });
  const steps = (run: string) => [{ uses: 'actions/checkout@v4' }, { name: run.split(' ')[1] === 'finalize' ? 'Finalize' : 'Sync this shard', run }];
  const workflow = {
    name: `${pipeline.name} (${o.shards} shards)`,
    on: { ...(cron ? { schedule: [{ cron }] } : {}), workflow_dispatch: {} },
    concurrency: { group: `data-pipelines-${slug(pipeline.name)}`, 'cancel-in-progress': false },
    jobs: {
      shard: {
        // Every runner must see the same dataset folder (a shared volume on self-hosted runners).
        'runs-on': 'self-hosted',
        strategy: { 'fail-fast': false, matrix: { shard: Array.from({ length: o.shards }, (_, i) => i + 1) } },
        ...(Object.keys(jobEnv).length ? { env: jobEnv } : {}),
        steps: steps(`data-pipelines run ${file} --shard \${{ matrix.shard }}/${o.shards}`),
      },
      finalize: {
        needs: 'shard',
        'runs-on': 'self-hosted',
        ...(Object.keys(jobEnv).length ? { env: jobEnv } : {}),
        steps: steps(`data-pipelines finalize ${file}`),
      },
    },
  };
  return `# ${pipeline.name}: ${o.shards} shards as a matrix, then one finalize job.\n# Generated by: data-pipelines export github-actions ${path.basename(loaded.file)} --shards ${o.shards}\n${stringify(workflow)}`;
}
