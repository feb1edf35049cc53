// Generated manifests for a sharded run: a Kubernetes Indexed Job plus a finalize Job, and a GitHub
// Actions workflow with a matrix and a finalize job that needs it. Secrets only by reference. Each
// is validated against its published schema (test/support/manifest-validators.mjs), and checked
// for what a sharded run needs.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { githubWorkflow, kubernetesManifests, loadPipelineFile } from '../../src/core';
import { cronOf } from '../../src/core/export/manifests';
import { cli } from '../support/sharded';
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { tempDir, writePipeline } from './helpers';

function pipelineFile(): string {
  const dir = tempDir();
  return writePipeline(
    dir,
    { name: 'Bucket sync', intervalStr: '2h', dataset: 'ds', steps: [{ name: 'import', builtinTransformationBlock: { type: 's3-to-project', path: 's3://b/data/', endpoint: '${env:S3_ENDPOINT}', accessKey: '${env:S3_ACCESS_KEY}', secretKey: '${secret:S3_SECRET_KEY}' } }] },
    'sync.pipeline.json',
  );
}

interface Validators {
  validateJob(obj: unknown): void;
  workflowErrors(name: string, content: string): Promise<string[]>;
}

/** The validators, bundled for this CommonJS test (they are ESM and import JSON). */
function validators(): Validators {
  const out = path.join(tempDir(), 'manifest-validators.cjs');
  esbuild.buildSync({ entryPoints: [path.resolve(__dirname, '../../../test/support/manifest-validators.mjs')], bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'error' });
  return createRequire(__filename)(out) as Validators;
}

describe('export: manifests for a sharded run', function () {
  this.timeout(60_000);
  let v: Validators;
  before(() => {
    v = validators();
  });

  it('the validators refuse what the schemas refuse (they can fail)', async () => {
    assert.throws(() => v.validateJob({ apiVersion: 'batch/v1', kind: 'Job', spec: { completionMode: 7, template: { spec: { containers: [{ name: 'a' }] } } } }), /completionMode/);
    assert.match((await v.workflowErrors('w.yml', 'on: push\njobs:\n  a:\n    runs-on: x\n    stepz: []\n')).join('\n'), /Unexpected value 'stepz'/);
  });

  it('Kubernetes: an Indexed Job of N completions and a finalize Job on one shared volume, secrets as Secret references', async () => {
    process.env.S3_SECRET_KEY = 'not-to-be-seen-8841';
    try {
      const text = await kubernetesManifests(loadPipelineFile(pipelineFile()), { shards: 4, image: 'ghcr.io/me/dsp:1', volumeClaim: 'shared' });
      assert.ok(!text.includes('not-to-be-seen-8841'), 'no secret value');
      const docs = parseAllDocuments(text).map((d) => d.toJSON());
      assert.equal(docs.length, 2);
      for (const d of docs) v.validateJob(d); // Kubernetes' batch/v1 Job schema
      const [shards, finalize] = docs;
      assert.deepEqual([shards.apiVersion, shards.kind, finalize.kind], ['batch/v1', 'Job', 'Job']);
      assert.deepEqual([shards.spec.completionMode, shards.spec.completions, shards.spec.parallelism], ['Indexed', 4, 4]);
      const c = shards.spec.template.spec.containers[0];
      assert.deepEqual(c.command, ['data-pipelines', 'run', 'sync.pipeline.json', '--shards', '4'], 'JOB_COMPLETION_INDEX names the shard');
      assert.equal(c.image, 'ghcr.io/me/dsp:1');
      assert.deepEqual(c.env.find((e: { name: string }) => e.name === 'S3_SECRET_KEY').valueFrom, { secretKeyRef: { name: 'bucket-sync-secrets', key: 'S3_SECRET_KEY' } });
      assert.equal(c.env.find((e: { name: string }) => e.name === 'S3_ENDPOINT').valueFrom.configMapKeyRef.name, 'bucket-sync-env');
      assert.equal(shards.spec.template.spec.restartPolicy, 'Never');
      for (const j of docs) assert.equal(j.spec.template.spec.volumes[0].persistentVolumeClaim.claimName, 'shared');
      assert.deepEqual(finalize.spec.template.spec.containers[0].command, ['data-pipelines', 'finalize', 'sync.pipeline.json']);
      assert.deepEqual([shards.metadata.labels['data-pipelines/step'], finalize.metadata.labels['data-pipelines/step']], ['shards', 'finalize'], 'kubectl apply -l selects each');
    } finally {
      delete process.env.S3_SECRET_KEY;
    }
  });

  it('GitHub Actions: the schedule from intervalStr, a matrix over the shards, a finalize job that needs it', async () => {
    const text = await githubWorkflow(loadPipelineFile(pipelineFile()), { shards: 3 });
    assert.deepEqual(await v.workflowErrors('sync.yml', text), [], "GitHub's workflow parser and schema");
    const w = parse(text);
    assert.deepEqual(w.on.schedule, [{ cron: '0 */2 * * *' }]);
    assert.ok('workflow_dispatch' in w.on);
    assert.deepEqual(w.jobs.shard.strategy.matrix.shard, [1, 2, 3]);
    assert.equal(w.jobs.finalize.needs, 'shard');
    assert.match(w.jobs.shard.steps.at(-1).run, /^data-pipelines run .*sync\.pipeline\.json --shard \$\{\{ matrix\.shard \}\}\/3$/);
    assert.match(w.jobs.finalize.steps.at(-1).run, /^data-pipelines finalize /);
    assert.equal(w.jobs.shard.env.S3_SECRET_KEY, '${{ secrets.S3_SECRET_KEY }}');
    assert.equal(w.jobs.finalize.env.S3_ENDPOINT, '${{ vars.S3_ENDPOINT }}');
  });

  it('cron from the pipeline: its schedule as given, intervalStr rounded to what cron can say', () => {
    assert.equal(cronOf({ intervalStr: '15m' }), '*/15 * * * *');
    assert.equal(cronOf({ intervalStr: '1m' }), '*/5 * * * *', "GitHub's shortest interval");
    assert.equal(cronOf({ intervalStr: '1d' }), '0 0 */1 * *');
    assert.equal(cronOf({ schedule: '0 3 * * 1' }), '0 3 * * 1');
    assert.equal(cronOf({}), undefined);
  });

  it('the CLI prints them, and says what is missing', async () => {
    const file = pipelineFile();
    const ok = await cli(['export', 'github-actions', file, '--shards', '2'], process.env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(parse(ok.stdout).jobs.shard.strategy.matrix.shard, [1, 2]);
    const k = await cli(['export', 'k8s', file, '--shards', '2'], process.env);
    assert.equal(parseAllDocuments(k.stdout).length, 2);
    const bad = await cli(['export', 'k8s', file], process.env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /needs --shards N/);
    assert.equal(path.basename(file), 'sync.pipeline.json');
    assert.ok(fs.existsSync(file));
  });
});
