// Sharded runs against the real S3 server (Ceph RGW): three shard processes at once, then
// finalize, give the single run's dataset (files, bytes, info.labels, state), with keys that
// collide by case and Unicode form and the same content under several keys.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { S3Client as SdkClient } from '@aws-sdk/client-s3';
import { assertSameDataset } from '../support/datasets';
import { cli, runSharded, shardFixture } from '../support/sharded';
import { adminClient, createBucket, putMany, s3Env, tempDir, writePipeline, type S3Env } from './s3env';

describe('sharded runs against a real S3 server', function () {
  this.timeout(180_000);
  let e: S3Env;
  let admin: SdkClient;
  const cleanups: (() => void)[] = [];
  before(async () => {
    e = s3Env();
    admin = await adminClient(e);
  });
  after(() => {
    cleanups.forEach((c) => c());
    admin?.destroy();
  });

  it('three shard processes at once, then finalize: the single run\'s dataset', async () => {
    const bucket = await createBucket(admin, 'shards');
    await putMany(admin, bucket, shardFixture(200));
    const t = tempDir('shards');
    cleanups.push(t.remove);
    const dir = t.dir;
    const env = { ...process.env, S3_ENDPOINT: e.endpoint, S3_ACCESS_KEY: e.accessKey, S3_SECRET_KEY: e.secretKey };
    const pipeline = (name: string) => {
      fs.mkdirSync(path.join(dir, name), { recursive: true });
      return writePipeline(path.join(dir, name), { path: `s3://${bucket}/data/` });
    };
    const one = await cli(['run', pipeline('single'), '--quiet'], env);
    assert.equal(one.code, 0, one.stderr);
    const r = await runSharded(pipeline('sharded'), 3, env);
    for (const s of r.shards) assert.equal(s.code, 0, s.stderr);
    assert.equal(r.finalize.code, 0, r.finalize.stderr);
    assertSameDataset(path.join(dir, 'single', 'dataset'), path.join(dir, 'sharded', 'dataset'), '3 shards on RGW');
  });
});
