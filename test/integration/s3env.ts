// The S3 server the integration tests talk to (Ceph RGW started by scripts/test-integration.sh),
// and helpers to seed it with the AWS SDK (test side only; the product's source does not use it).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { S3Client as SdkClient } from '@aws-sdk/client-s3';

export interface S3Env {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  otherAccessKey: string;
  otherSecretKey: string;
}

/** From the environment (S3_*), or from the env file S3_ENV_FILE points at. */
export function s3Env(): S3Env {
  const env: Record<string, string | undefined> = { ...process.env };
  if (!env.S3_ENDPOINT && env.S3_ENV_FILE) {
    for (const line of fs.readFileSync(env.S3_ENV_FILE, 'utf8').split('\n')) {
      const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
      if (m) env[m[1]] = m[2];
    }
  }
  const need = (k: string) => {
    const v = env[k];
    if (!v) throw new Error(`${k} is not set: run the integration tests through scripts/test-integration.sh (make integration), or set S3_ENV_FILE to a running server's env file.`);
    return v;
  };
  return { endpoint: need('S3_ENDPOINT'), accessKey: need('S3_ACCESS_KEY'), secretKey: need('S3_SECRET_KEY'), region: env.S3_REGION || 'us-east-1', otherAccessKey: need('S3_OTHER_ACCESS_KEY'), otherSecretKey: need('S3_OTHER_SECRET_KEY') };
}

let sdk: typeof import('@aws-sdk/client-s3') | undefined;
async function loadSdk() {
  sdk ??= await import('@aws-sdk/client-s3');
  return sdk;
}

export async function adminClient(e: S3Env, keys: { accessKey: string; secretKey: string } = e): Promise<SdkClient> {
  const { S3Client } = await loadSdk();
  return new S3Client({
    endpoint: e.endpoint,
    region: e.region,
    forcePathStyle: true,
    credentials: { accessKeyId: keys.accessKey, secretAccessKey: keys.secretKey },
    // Ceph RGW (like several S3-compatible stores) rejects the SDK's newer default checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

let bucketSeq = 0;
export async function createBucket(c: SdkClient, hint: string): Promise<string> {
  const { CreateBucketCommand } = await loadSdk();
  const name = `${hint}-${process.pid}-${Date.now().toString(36)}-${bucketSeq++}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63);
  await c.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

export async function put(c: SdkClient, bucket: string, key: string, body: Buffer | string): Promise<void> {
  const { PutObjectCommand } = await loadSdk();
  await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: typeof body === 'string' ? Buffer.from(body) : body }));
}

export async function del(c: SdkClient, bucket: string, key: string): Promise<void> {
  const { DeleteObjectCommand } = await loadSdk();
  await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

/** Many objects, `width` PUTs in flight. */
export async function putMany(c: SdkClient, bucket: string, objects: { key: string; body: Buffer | string }[], width = 32): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (i < objects.length) {
        const o = objects[i++];
        await put(c, bucket, o.key, o.body);
      }
    }),
  );
}

/** A multipart upload: parts of 5 MiB, the last one shorter. */
export async function putMultipart(c: SdkClient, bucket: string, key: string, body: Buffer, partSize = 5 * 1024 * 1024): Promise<void> {
  const { CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand } = await loadSdk();
  const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const parts: { ETag: string; PartNumber: number }[] = [];
  for (let off = 0, n = 1; off < body.length; off += partSize, n++) {
    const r = await c.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: n, Body: body.subarray(off, off + partSize) }));
    parts.push({ ETag: r.ETag!, PartNumber: n });
  }
  await c.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
}

export function md5(b: Buffer | string): string {
  return createHash('md5').update(b).digest('hex');
}

/** A fresh folder under the OS temp dir, removed by the returned function. */
export function tempDir(hint: string): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `dsp-${hint}-`));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Every regular file under `root`, relative, '/'-separated (skips the .dsp state folder). */
export function filesUnder(root: string, skipMeta = true): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string) => {
    for (const d of fs.readdirSync(abs, { withFileTypes: true })) {
      if (skipMeta && rel === '' && d.name === '.dsp') continue;
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(path.join(abs, d.name), r);
      else out.push(r);
    }
  };
  if (fs.existsSync(root)) walk(root, '');
  return out.sort();
}

export interface StepSpec {
  name?: string;
  path: string;
  endpoint?: string;
  accessKey?: string;
  secretKey?: string;
  region?: string;
  extra?: Record<string, unknown>;
}

/** Writes a pipeline file with one s3-to-project step; keys come from ${env:…} references. */
export function writePipeline(dir: string, step: StepSpec, top: Record<string, unknown> = {}): string {
  const file = path.join(dir, 's3.pipeline.json');
  const block: Record<string, unknown> = {
    type: 's3-to-project',
    path: step.path,
    endpoint: step.endpoint ?? '${env:S3_ENDPOINT}',
    region: step.region ?? 'us-east-1',
    accessKey: step.accessKey ?? '${env:S3_ACCESS_KEY}',
    secretKey: step.secretKey ?? '${secret:S3_SECRET_KEY}',
    ...step.extra,
  };
  fs.writeFileSync(file, JSON.stringify({ name: 'S3 test', dataset: 'dataset', ...top, steps: [{ name: step.name ?? 'Fetch', builtinTransformationBlock: block }] }, null, 2));
  return file;
}
