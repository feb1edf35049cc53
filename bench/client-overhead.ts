// Where the time of a small-object download goes: the same 10,000 GETs from the in-memory
// endpoint, bodies read and dropped (no disk), through (a) the AWS SDK v3 S3Client and
// (b) the source's own SigV4 client, at the same number in flight. Also one full listing each.
//   node out/bench/client-overhead.js ENDPOINT BUCKET PREFIX [IN_FLIGHT] [ROUNDS]
import { S3Client as OwnClient } from '../src/core/sources/s3/client';

async function drain(s: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of s) void _;
}

async function pool<T>(items: T[], width: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (i < items.length) await fn(items[i++]);
  }));
}

async function main(): Promise<void> {
  const [endpoint, bucket, prefix, width = '32', rounds = '3'] = process.argv.slice(2);
  const n = Number(width);
  const creds = { accessKeyId: 'bench', secretAccessKey: 'bench-secret' };
  const own = new OwnClient({ endpoint, bucket, region: 'us-east-1', pathStyle: true, requesterPays: false }, { get: async () => creds, describe: () => 'bench', anonymous: () => false });
  const sdkMod = await import('@aws-sdk/client-s3');
  const { NodeHttpHandler } = await import('@smithy/node-http-handler');
  const http = await import('node:http');
  const sdk = new sdkMod.S3Client({
    endpoint, region: 'us-east-1', forcePathStyle: true, credentials: creds,
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, maxSockets: n }) }),
  });

  let t = Date.now();
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await own.listPage(prefix, { token });
    for (const o of page.objects) keys.push(o.key);
    token = page.truncated ? page.nextToken : undefined;
  } while (token);
  const ownList = Date.now() - t;
  t = Date.now();
  let sdkCount = 0;
  let st: string | undefined;
  do {
    const r = await sdk.send(new sdkMod.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: st, EncodingType: 'url' }));
    sdkCount += r.Contents?.length ?? 0;
    st = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (st);
  const sdkList = Date.now() - t;
  if (sdkCount !== keys.length) throw new Error(`listings differ: ${sdkCount} vs ${keys.length}`);

  const results: { client: string; ms: number }[] = [];
  for (let r = 0; r < Number(rounds); r++) {
    t = Date.now();
    await pool(keys, n, async (k) => drain((await own.getObject(k, undefined)) as AsyncIterable<unknown>));
    results.push({ client: 'own', ms: Date.now() - t });
    t = Date.now();
    await pool(keys, n, async (k) => {
      const r = await sdk.send(new sdkMod.GetObjectCommand({ Bucket: bucket, Key: k }));
      await drain(r.Body as AsyncIterable<unknown>);
    });
    results.push({ client: 'sdk', ms: Date.now() - t });
  }
  own.close();
  sdk.destroy();
  const med = (c: string) => results.filter((x) => x.client === c).map((x) => x.ms).sort((a, b) => a - b)[Math.floor(Number(rounds) / 2)];
  process.stdout.write(JSON.stringify({ objects: keys.length, inFlight: n, listOwnMs: ownList, listSdkMs: sdkList, getOwnMs: med('own'), getSdkMs: med('sdk'), runs: results }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
