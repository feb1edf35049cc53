// gcs-to-project end to end through the engine, against a GCS JSON API server written from Google's
// reference (test/unit/fakes/gcs-server.ts): paging, tricky and hostile names, incremental sync
// counted in requests, changes and removals, throttling, and verify's answers for each failure.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { envResolver, loadPipelineFile, runPipeline, verifyPipeline } from '../../src/core';
import { createSource, type SourceFactory } from '../../src/core/sources';
import { gcsError, parseGcsPath } from '../../src/core/sources/gcs';
import { isRetryable, isThrottle } from '../../src/core/util/errors';
import { FakeGcsServer, fieldsFilter } from './fakes/gcs-server';
import { snapshot, tempDir, writePipeline } from './helpers';

const PAGE = 3;

function gcsPipeline(dir: string, server: FakeGcsServer, block: object = {}) {
  return writePipeline(dir, {
    name: 'G',
    steps: [{ name: 'import', builtinTransformationBlock: { type: 'gcs-to-project', path: 'gs://bkt/data/', projectId: 'test-project', apiEndpoint: server.endpoint, category: 'training', ...block } }],
  });
}

const env = (extra: Record<string, string> = {}) => envResolver({ ...extra });
/** Small listing pages, through the source's context (SourceContext.pageSize). */
const sourceFactory: SourceFactory = (block, ctx) => createSource(block, { ...ctx, pageSize: PAGE });
const run = (file: string, extra: Record<string, string> = {}) => runPipeline(loadPipelineFile(file), { trigger: 'cli', resolver: env(extra), notify: false, sourceFactory });
const verify = async (file: string, extra: Record<string, string> = {}) => (await verifyPipeline(loadPipelineFile(file), { resolver: env(extra), sourceFactory }))[0].result;

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('gcs-to-project', function () {
  this.timeout(30_000);
  let server: FakeGcsServer;

  beforeEach(async () => {
    server = new FakeGcsServer();
    await server.start();
  });
  afterEach(async () => {
    await server.stop();
  });

  it('loads no SDK when the module is imported', () => {
    const gcsJs = path.resolve(__dirname, '../../src/core/sources/gcs.js');
    const out = execFileSync(process.execPath, ['-e', `require(${JSON.stringify(gcsJs)}); console.log(Object.keys(require.cache).filter((k) => /@google-cloud|google-auth-library/.test(k)).length)`], { encoding: 'utf8' });
    assert.equal(out.trim(), '0');
  });

  it('parses gs:// paths', () => {
    assert.deepEqual(parseGcsPath('gs://b'), { bucket: 'b', prefix: '' });
    assert.deepEqual(parseGcsPath('gs://b/x/y'), { bucket: 'b', prefix: 'x/y/' });
    assert.throws(() => parseGcsPath('s3://b/x'), /gs:\/\/bucket\/prefix/);
  });

  it('maps throttling, server errors and resets to retryable errors, and the rest to final ones', () => {
    // A download stream's error carries GCS's JSON body as its message.
    const body = (code: number, reason: string) => ({ code, message: JSON.stringify({ error: { code, message: 'm', errors: [{ reason }] } }) });
    const limited = gcsError(body(429, 'rateLimitExceeded'), 'downloading x');
    assert.ok(isRetryable(limited) && isThrottle(limited));
    assert.equal(limited.message, 'downloading x: m [HTTP 429 rateLimitExceeded]; slowing down');
    assert.ok(isThrottle(gcsError(body(503, 'backendError'), 'x')));
    const internal = gcsError(body(500, 'internalError'), 'x');
    assert.ok(isRetryable(internal) && !isThrottle(internal));
    assert.ok(isRetryable(gcsError({ code: 'ECONNRESET', message: 'socket hang up' }, 'x')));
    assert.ok(isRetryable(gcsError({ code: 'CONTENT_DOWNLOAD_MISMATCH', message: 'bad' }, 'x')));
    for (const [status, reason] of [[404, 'notFound'], [403, 'forbidden'], [401, 'required'], [400, 'invalid']] as const) {
      const e = gcsError(body(status, reason), 'x');
      assert.ok(!isRetryable(e), reason);
      assert.equal((e as { code?: string }).code, reason);
    }
  });

  it('the fake server filters fields like GCS partial responses', () => {
    const f = fieldsFilter('items(name,size),nextPageToken');
    assert.deepEqual(f({ kind: 'k', items: [{ name: 'a', size: '1', md5Hash: 'x' }], nextPageToken: 't' }), { items: [{ name: 'a', size: '1' }], nextPageToken: 't' });
    assert.deepEqual(fieldsFilter('a/b,c')({ a: { b: 1, z: 2 }, c: 3, d: 4 }), { a: { b: 1 }, c: 3 });
  });

  it('syncs many pages and tricky names, re-syncs with listing requests only, then picks up a change and a removal', async () => {
    const names = [
      ...Array.from({ length: 14 }, (_, i) => `cars/${String(i).padStart(2, '0')}.txt`),
      'cars/with space.txt',
      'cars/plus+sign.txt',
      'cars/percent%20encoded.txt',
      'cars/caf\u00e9.txt', // NFC
      'cars/cafe\u0301.txt', // NFD: the same name to a person, kept apart by a suffix
      'dogs/日本語 🐕.txt',
      'dogs/deep/er/nest.txt',
    ];
    for (const n of names) server.put('bkt', `data/${n}`, `content of ${n}`);
    server.put('bkt', 'data/cars/', ''); // a folder marker
    server.put('bkt', 'other/not-in-prefix.txt', 'outside the prefix');
    const dir = tempDir('dsp-gcs-');
    const file = gcsPipeline(dir, server);

    const r1 = await run(file);
    assert.equal(r1.status, 'success', JSON.stringify(r1.steps[0].errors));
    assert.equal(r1.counts.new, names.length);
    assert.equal(server.count('media'), names.length, 'one download per object');
    const lists = server.requests.filter((r) => r.kind === 'list');
    assert.equal(lists.length, Math.ceil((names.length + 1) / PAGE), 'pages of 3');
    for (const l of lists) {
      assert.equal(l.query.prefix, 'data/');
      assert.equal(l.query.maxResults, String(PAGE));
      assert.match(l.query.fields, /^items\(name,size,generation/, 'asks only for the fields it needs');
    }
    assert.ok(lists.slice(1).every((l) => l.query.pageToken), 'later pages use pageToken');
    for (const m of server.requests.filter((r) => r.kind === 'media')) assert.match(m.query.generation, /^\d+$/, 'downloads the listed generation');

    const snap = snapshot(path.join(dir, 'dataset'));
    const ds = (rel: string) => fs.readFileSync(path.join(dir, 'dataset', rel), 'utf8');
    assert.equal(ds('training/cars/with space.txt'), 'content of cars/with space.txt');
    assert.equal(ds('training/cars/plus+sign.txt'), 'content of cars/plus+sign.txt');
    assert.equal(ds('training/cars/percent%20encoded.txt'), 'content of cars/percent%20encoded.txt');
    assert.equal(ds('training/dogs/日本語 🐕.txt'), 'content of dogs/日本語 🐕.txt');
    assert.equal(ds('training/dogs/nest.txt'), 'content of dogs/deep/er/nest.txt');
    const cafes = Object.keys(snap).filter((k) => k.normalize('NFC').startsWith('training/cars/caf'));
    assert.equal(cafes.length, 2, `NFC and NFD names both kept: ${cafes.join(', ')}`);
    assert.equal(Object.keys(snap).filter((k) => k.endsWith('.txt') && k !== 'labels.txt').length, names.length);

    // Unchanged bucket: listing requests only.
    const before = server.requests.length;
    const r2 = await run(file);
    assert.equal(r2.status, 'success');
    assert.equal(r2.counts.new + r2.counts.changed, 0);
    assert.equal(r2.counts.unchanged, names.length);
    const second = server.requests.slice(before);
    assert.deepEqual([...new Set(second.map((r) => r.kind))], ['list']);
    assert.deepEqual(snapshot(path.join(dir, 'dataset')), snap);

    // A new generation of one object, another deleted.
    server.put('bkt', 'data/cars/03.txt', 'new content of cars/03');
    server.delete('bkt', 'data/cars/04.txt');
    const mediaBefore = server.count('media');
    const r3 = await run(file);
    assert.equal(r3.counts.changed, 1);
    assert.equal(r3.counts.removed, 1);
    assert.equal(r3.counts.new, 0);
    assert.equal(server.count('media') - mediaBefore, 1, 'only the changed object is downloaded');
    assert.equal(ds('training/cars/03.txt'), 'new content of cars/03');
    assert.ok(fs.existsSync(path.join(dir, 'dataset', 'training/cars/04.txt')), 'removed objects are kept locally unless deleteRemoved');
  });

  it('rejects hostile names and writes nothing outside the dataset', async () => {
    const hostile = ['/leading.txt', '../up.txt', 'cars/../../up2.txt', 'cars//double.txt', 'cars\\back.txt', 'cars/./dot.txt', 'cars/..'];
    for (const n of hostile) server.put('hostile', n, `evil ${n}`);
    server.put('hostile', 'cars/ok.txt', 'fine');
    const dir = tempDir('dsp-gcs-');
    const file = gcsPipeline(dir, server, { path: 'gs://hostile' });
    const r = await run(file);
    assert.equal(r.counts.new, 1);
    assert.equal(r.counts.rejected, hostile.length);
    assert.equal(server.count('media'), 1, 'rejected names are never downloaded');
    const rejectedKeys = r.steps[0].problems.map((p) => p.key).sort();
    assert.deepEqual(rejectedKeys, [...hostile].sort());
    const everything = snapshot(dir);
    for (const k of Object.keys(everything)) assert.ok(k === 'test.pipeline.json' || k.startsWith('dataset/'), `unexpected file ${k}`);
    assert.deepEqual(Object.keys(snapshot(path.join(dir, 'dataset'))).filter((k) => k.endsWith('.txt') && k !== 'labels.txt'), ['training/cars/ok.txt']);
    assert.ok(!fs.existsSync(path.join(path.dirname(dir), 'up.txt')));
    assert.ok(!fs.existsSync(path.join(path.dirname(dir), 'up2.txt')));
  });

  it('retries throttled and reset downloads and listings, and ends with every file', async () => {
    for (let i = 0; i < 6; i++) server.put('bkt', `data/cars/${i}.txt`, `c${i}`);
    let throttled = 0;
    let resets = 0;
    let listFaults = 0;
    server.fault = (req) => {
      if (req.kind === 'list' && listFaults < 1) {
        listFaults++;
        return { status: 503, reason: 'backendError', message: 'Backend Error' };
      }
      if (req.kind !== 'media') return undefined;
      if (req.object === 'data/cars/1.txt' && throttled < 2) {
        throttled++;
        return { status: 429, reason: 'rateLimitExceeded', message: 'The project exceeded the rate limit.' };
      }
      if (req.object === 'data/cars/2.txt' && resets < 1) {
        resets++;
        return 'reset';
      }
      return undefined;
    };
    const dir = tempDir('dsp-gcs-');
    const r = await run(gcsPipeline(dir, server));
    assert.equal(r.status, 'success', JSON.stringify(r.steps[0].errors));
    assert.equal(r.counts.new, 6);
    assert.equal(throttled, 2);
    assert.equal(resets, 1);
    assert.equal(listFaults, 1);
    assert.equal(server.count('media'), 6 + 3);
  });

  it('reports a download that fails for good, without retrying it', async () => {
    server.put('bkt', 'data/cars/a.txt', 'a');
    server.put('bkt', 'data/cars/b.txt', 'b');
    server.fault = (req) => (req.kind === 'media' && req.object === 'data/cars/b.txt' ? { status: 403, reason: 'forbidden', message: 'caller does not have storage.objects.get access' } : undefined);
    const dir = tempDir('dsp-gcs-');
    const r = await run(gcsPipeline(dir, server));
    assert.equal(r.status, 'partial');
    assert.equal(r.counts.new, 1);
    assert.equal(server.requests.filter((q) => q.kind === 'media' && q.object === 'data/cars/b.txt').length, 1);
    assert.match(r.steps[0].problems[0].reason, /storage\.objects\.get.*HTTP 403 forbidden/);
  });

  it('verify lists sample files and names the credential source', async () => {
    server.put('bkt', 'data/cars/a.txt', 'aaaa');
    server.put('bkt', 'data/dogs/b.txt', 'bb');
    const dir = tempDir('dsp-gcs-');
    const res = await verify(gcsPipeline(dir, server));
    assert.equal(res.ok, true, res.detail);
    assert.match(res.detail, /Listed gs:\/\/bkt\/data\/ at http:\/\/127\.0\.0\.1:\d+ \(europe-west1\): 2 object/);
    assert.deepEqual(res.sampleFiles, [
      { name: 'a.txt', size: 4, folder: 'cars' },
      { name: 'b.txt', size: 2, folder: 'dogs' },
    ]);
    assert.match(res.credentialSource!, /^none \(requests to the local endpoint/);
    assert.equal(server.count('media'), 0, 'verify downloads nothing');
    assert.equal(server.count('bucket'), 1, 'verify checks the bucket');
  });

  it('verify suggests folders when the prefix is empty', async () => {
    server.put('bkt', 'images/cars/a.txt', 'a');
    server.put('bkt', 'audio/x.wav', 'a');
    const res = await verify(gcsPipeline(tempDir('dsp-gcs-'), server, { path: 'gs://bkt/imgs/' }));
    assert.equal(res.ok, true);
    assert.match(res.detail, /nothing is under prefix "imgs\/".*"audio\/", "images\/"/);
  });

  it('verify explains a missing bucket, denied access, rejected credentials and an unreachable endpoint', async () => {
    const dir = tempDir('dsp-gcs-');
    server.createBucket('bkt');
    const missing = await verify(gcsPipeline(dir, server, { path: 'gs://no-such-bucket/x/' }));
    assert.equal(missing.ok, false);
    assert.equal(missing.code, 'notFound');
    assert.match(missing.detail, /Bucket "no-such-bucket" does not exist .*HTTP 404/);

    server.denyAs = 'reader@test-project.iam.gserviceaccount.com';
    const denied = await verify(gcsPipeline(dir, server));
    assert.equal(denied.code, 'forbidden');
    assert.match(denied.detail, /Access denied \(HTTP 403\).*reader@test-project/);
    server.denyAs = undefined;

    server.requiredToken = 'a-token-this-client-does-not-have';
    const unauth = await verify(gcsPipeline(dir, server));
    assert.equal(unauth.ok, false);
    assert.equal(unauth.code, 'required');
    assert.match(unauth.detail, /HTTP 401.*invalid or expired/);
    server.requiredToken = undefined;

    const port = await closedPort();
    const dead = await verify(gcsPipeline(dir, server, { apiEndpoint: `http://127.0.0.1:${port}` }));
    assert.equal(dead.ok, false);
    assert.equal(dead.code, 'ECONNREFUSED');
    assert.match(dead.detail, /Nothing answers at http:\/\/127\.0\.0\.1:\d+/);
  });

  it('reads a service-account key from a secret and never shows it', async () => {
    server.put('bkt', 'data/cars/a.txt', 'a');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const key = JSON.stringify({ type: 'service_account', project_id: 'test-project', private_key_id: 'abc123', private_key: pem, client_email: 'sync@test-project.iam.gserviceaccount.com', client_id: '1', token_uri: 'https://oauth2.googleapis.com/token' });
    const dir = tempDir('dsp-gcs-');
    const file = gcsPipeline(dir, server, { credentials: '${secret:GCS_KEY}' });
    const ok = await verify(file, { GCS_KEY: key });
    assert.equal(ok.ok, true, ok.detail);
    assert.match(ok.credentialSource!, /service-account JSON from credentials \$\{secret:GCS_KEY\} \(sync@test-project\.iam\.gserviceaccount\.com\)/);
    const pemBody = pem.split('\n')[1];
    assert.ok(!JSON.stringify(ok).includes(pemBody));

    const bad = await verify(file, { GCS_KEY: 'not json but a secret-looking value s3cr3t' });
    assert.equal(bad.ok, false);
    assert.equal(bad.code, 'InvalidCredentials');
    assert.match(bad.detail, /credentials \(\$\{secret:GCS_KEY\}\) is not a JSON key/);
    assert.ok(!bad.detail.includes('s3cr3t'));

    const keyFile = path.join(dir, 'missing-key.json');
    const nofile = await verify(gcsPipeline(dir, server, { keyFile: 'missing-key.json' }));
    assert.equal(nofile.code, 'KeyFileNotFound');
    assert.ok(nofile.detail.includes(keyFile));

    fs.writeFileSync(keyFile, key);
    const withFile = await verify(gcsPipeline(dir, server, { keyFile: 'missing-key.json' }));
    assert.equal(withFile.ok, true, withFile.detail);
    assert.match(withFile.credentialSource!, /^service-account key file missing-key\.json \(sync@/);

    const r = await runPipeline(loadPipelineFile(file), { trigger: 'cli', resolver: env({ GCS_KEY: key }), notify: false, sourceFactory });
    assert.equal(r.counts.new, 1);
    assert.ok(!JSON.stringify(r).includes(pemBody));
    for (const q of server.requests) assert.equal(q.headers.authorization, undefined, 'no credentials go to a local emulator endpoint');
  });
});
