// azure-to-project end to end through the engine against azurite, Microsoft's own Blob emulator:
// paging, tricky and hostile names, incremental sync, changes and removals, and verify's answers
// for each credential kind and failure.
import * as assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { ContainerClient } from '@azure/storage-blob';
import { envResolver, loadPipelineFile, runPipeline, verifyPipeline } from '../../src/core';
import { createSource, type SourceFactory } from '../../src/core/sources';
import { azureError, parseAzurePath } from '../../src/core/sources/azure';
import { isRetryable, isThrottle } from '../../src/core/util/errors';
import { snapshot, tempDir, waitFor, writePipeline } from './helpers';
import { AZURITE_ACCOUNT as ACCOUNT, AZURITE_KEY as KEY, azuriteConnectionString, azuriteEndpoint } from '../support/azurite';

const PAGE = 3;
const WRONG_KEY = Buffer.alloc(64, 7).toString('base64');

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('azure-to-project (azurite)', function () {
  this.timeout(30_000);
  let azurite: ChildProcess | undefined;
  let endpoint = '';
  let connectionString = '';
  let sdk: typeof import('@azure/storage-blob');
  let n = 0;
  const output: string[] = [];

  before(async () => {
    const port = await freePort();
    const bin = path.resolve(__dirname, '../../../node_modules/.bin/azurite-blob');
    azurite = spawn(bin, ['--inMemoryPersistence', '--disableTelemetry', '--blobHost', '127.0.0.1', '--blobPort', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    azurite.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
    azurite.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    let exited = false;
    azurite.once('exit', () => (exited = true));
    await waitFor(async () => exited || (await answers(port)), 'azurite to listen', 25_000, 25);
    if (exited) throw new Error(`azurite did not start: ${output.join('')}`);
    endpoint = azuriteEndpoint(port);
    connectionString = azuriteConnectionString(endpoint);
    sdk = await import('@azure/storage-blob');
  });

  after(async () => {
    if (azurite && azurite.exitCode === null) {
      const gone = new Promise((r) => azurite!.once('exit', r));
      azurite.kill();
      await gone;
    }
  });

  /** A new container (names are unique per test) with the given blobs. */
  async function container(blobs: Record<string, string>, access?: 'container'): Promise<{ name: string; client: ContainerClient }> {
    const name = `c${++n}-${Date.now().toString(36)}`;
    const client = sdk.BlobServiceClient.fromConnectionString(connectionString).getContainerClient(name);
    await client.create(access ? { access } : undefined);
    for (const [k, v] of Object.entries(blobs)) await client.getBlockBlobClient(k).upload(v, Buffer.byteLength(v));
    return { name, client };
  }

  function azPipeline(dir: string, block: object) {
    return writePipeline(dir, { name: 'A', steps: [{ name: 'import', builtinTransformationBlock: { type: 'azure-to-project', category: 'training', ...block } }] });
  }
  const env = (extra: Record<string, string> = {}) => envResolver({ AZ_CS: connectionString, AZ_KEY: KEY, ...extra });
  /** Small listing pages, through the source's context (SourceContext.pageSize). */
  const sourceFactory: SourceFactory = (block, ctx) => createSource(block, { ...ctx, pageSize: PAGE });
  const run = (file: string, extra: Record<string, string> = {}) => runPipeline(loadPipelineFile(file), { trigger: 'cli', resolver: env(extra), notify: false, sourceFactory });
  const verify = async (file: string, extra: Record<string, string> = {}) => (await verifyPipeline(loadPipelineFile(file), { resolver: env(extra), sourceFactory }))[0].result;

  it('loads no SDK when the module is imported', () => {
    const azJs = path.resolve(__dirname, '../../src/core/sources/azure.js');
    const out = execFileSync(process.execPath, ['-e', `require(${JSON.stringify(azJs)}); console.log(Object.keys(require.cache).filter((k) => k.includes('@azure')).length)`], { encoding: 'utf8' });
    assert.equal(out.trim(), '0');
  });

  it('parses az:// paths', () => {
    assert.deepEqual(parseAzurePath('az://c'), { bucket: 'c', prefix: '' });
    assert.deepEqual(parseAzurePath('az://c/x/y'), { bucket: 'c', prefix: 'x/y/' });
    assert.throws(() => parseAzurePath('gs://c/x'), /az:\/\/container\/prefix/);
  });

  it('maps throttling, server errors and resets to retryable errors, and the rest to final ones', () => {
    const busy = azureError({ statusCode: 503, code: 'ServerBusy', message: 'The server is busy.\nRequestId:x' }, 'downloading x');
    assert.ok(isRetryable(busy) && isThrottle(busy));
    assert.equal(busy.message, 'downloading x: The server is busy. [HTTP 503 ServerBusy]; slowing down');
    const many = azureError({ statusCode: 429, message: 'slow down' }, 'x');
    assert.ok(isRetryable(many) && isThrottle(many));
    const internal = azureError({ statusCode: 500, code: 'InternalError', message: 'oops' }, 'x');
    assert.ok(isRetryable(internal) && !isThrottle(internal));
    const reset = azureError({ code: 'ECONNRESET', message: 'socket hang up' }, 'x');
    assert.ok(isRetryable(reset) && !isThrottle(reset));
    for (const e of [{ statusCode: 404, code: 'BlobNotFound' }, { statusCode: 412, code: 'ConditionNotMet' }, { statusCode: 403, code: 'AuthenticationFailed' }, { code: 'ENOTFOUND' }]) {
      const m = azureError({ ...e, message: 'm' }, 'x');
      assert.ok(!isRetryable(m), JSON.stringify(e));
      assert.equal((m as { code?: string }).code, e.code);
    }
  });

  it('syncs many pages and tricky names, re-syncs nothing, then picks up a change and a removal', async () => {
    const names = [
      ...Array.from({ length: 12 }, (_, i) => `cars/${String(i).padStart(2, '0')}.txt`),
      'cars/with space.txt',
      'cars/plus+sign.txt',
      'cars/percent%20encoded.txt',
      'cars/caf\u00e9.txt',
      'cars/cafe\u0301.txt',
      'dogs/日本語 🐕.txt',
    ];
    const blobs: Record<string, string> = { 'other/outside.txt': 'not under the prefix' };
    for (const k of names) blobs[`data/${k}`] = `content of ${k}`;
    const { name, client } = await container(blobs);
    const dir = tempDir('dsp-az-');
    const file = azPipeline(dir, { path: `az://${name}/data/`, connectionString: '${secret:AZ_CS}' });

    const r1 = await run(file);
    assert.equal(r1.status, 'success', JSON.stringify(r1.steps[0].errors));
    assert.equal(r1.counts.new, names.length);
    const ds = (rel: string) => fs.readFileSync(path.join(dir, 'dataset', rel), 'utf8');
    assert.equal(ds('training/cars/with space.txt'), 'content of cars/with space.txt');
    assert.equal(ds('training/cars/plus+sign.txt'), 'content of cars/plus+sign.txt');
    assert.equal(ds('training/cars/percent%20encoded.txt'), 'content of cars/percent%20encoded.txt');
    assert.equal(ds('training/dogs/日本語 🐕.txt'), 'content of dogs/日本語 🐕.txt');
    const snap = snapshot(path.join(dir, 'dataset'));
    assert.equal(Object.keys(snap).filter((k) => k.normalize('NFC').startsWith('training/cars/caf')).length, 2, 'NFC and NFD names both kept');
    assert.equal(Object.keys(snap).filter((k) => k.endsWith('.txt') && k !== 'labels.txt').length, names.length);

    const r2 = await run(file);
    assert.equal(r2.status, 'success');
    assert.equal(r2.counts.new + r2.counts.changed, 0);
    assert.equal(r2.counts.unchanged, names.length);
    assert.equal(r2.counts.bytes, 0, 'nothing downloaded');
    assert.deepEqual(snapshot(path.join(dir, 'dataset')), snap);

    await client.getBlockBlobClient('data/cars/03.txt').upload('new content', 11);
    await client.deleteBlob('data/cars/04.txt');
    const r3 = await run(file);
    assert.equal(r3.counts.changed, 1);
    assert.equal(r3.counts.removed, 1);
    assert.equal(r3.counts.new, 0);
    assert.equal(r3.counts.bytes, 11);
    assert.equal(ds('training/cars/03.txt'), 'new content');
  });

  it('pages with a small page size: every blob exactly once', async () => {
    const blobs: Record<string, string> = {};
    for (let i = 0; i < 20; i++) blobs[`p/${i}.txt`] = `blob ${i}`;
    const { name } = await container(blobs);
    const { createAzureSource } = await import('../../src/core/sources/azure');
    const src = await createAzureSource({ type: 'azure-to-project', path: `az://${name}/p/`, connectionString: '${secret:AZ_CS}' }, { baseDir: '.', datasetDir: '.', resolver: env(), logger: { info() {}, warn() {}, error() {}, debug() {} }, step: 's', pageSize: PAGE });
    const keys: string[] = [];
    for await (const o of src.list()) keys.push(o.key);
    assert.deepEqual([...keys].sort(), Object.keys(blobs).sort());
  });

  it('rejects hostile names and writes nothing outside the dataset', async () => {
    const hostile = ['h/..', 'h/a\\b.txt', 'h/./dot.txt', 'h/a//double.txt', 'h//lead.txt', 'h/../up.txt', 'h/cars/../../up2.txt'];
    const { name, client } = await container({ 'h/cars/ok.txt': 'fine' });
    // The SDK and the service normalise some of these names away; whatever is stored must be rejected.
    for (const k of hostile) await client.getBlockBlobClient(k).upload(`evil ${k}`, 5 + k.length).catch(() => undefined);
    const listed: string[] = [];
    for await (const b of client.listBlobsFlat({ prefix: 'h/' })) listed.push(b.name);
    const stored = hostile.filter((k) => listed.includes(k));
    // The SDK turns '\\' into '/' and drops '.' and '..' segments before a request leaves; '//' survives.
    assert.ok(stored.includes('h//lead.txt') && stored.includes('h/a//double.txt'), `stored: ${listed.join(' | ')}`);
    const dir = tempDir('dsp-az-');
    const r = await run(azPipeline(dir, { path: `az://${name}/h/`, accountName: ACCOUNT, accountKey: '${secret:AZ_KEY}', endpoint }));
    assert.equal(r.counts.new, listed.length - stored.length);
    assert.equal(r.counts.rejected, stored.length);
    assert.deepEqual(r.steps[0].problems.map((p) => p.key).sort(), [...stored].sort());
    for (const k of Object.keys(snapshot(dir))) assert.ok(k === 'test.pipeline.json' || k.startsWith('dataset/'), `unexpected file ${k}`);
    assert.ok(!Object.keys(snapshot(path.join(dir, 'dataset'))).some((k) => /lead|double/.test(k)));
    assert.ok(!fs.existsSync(path.join(path.dirname(dir), 'up.txt')) && !fs.existsSync(path.join(path.dirname(dir), 'up2.txt')));
  });

  it('verify lists sample files and names the credential source, for each kind of credential', async () => {
    const { name } = await container({ 'v/cars/a.txt': 'aaaa', 'v/dogs/b.txt': 'bb' });
    const dir = tempDir('dsp-az-');
    const viaCs = await verify(azPipeline(dir, { path: `az://${name}/v/`, connectionString: '${secret:AZ_CS}' }));
    assert.equal(viaCs.ok, true, viaCs.detail);
    assert.match(viaCs.detail, /Listed az:\/\/c\d+-\w+\/v\/ at http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1: 2 blob/);
    assert.deepEqual(viaCs.sampleFiles, [
      { name: 'a.txt', size: 4, folder: 'cars' },
      { name: 'b.txt', size: 2, folder: 'dogs' },
    ]);
    assert.equal(viaCs.credentialSource, 'connection string ${secret:AZ_CS} (account devstoreaccount1)');

    const viaKey = await verify(azPipeline(dir, { path: `az://${name}/v/`, accountName: ACCOUNT, accountKey: '${secret:AZ_KEY}', endpoint }));
    assert.equal(viaKey.ok, true, viaKey.detail);
    assert.equal(viaKey.credentialSource, 'account key ${secret:AZ_KEY} for account devstoreaccount1');

    const cred = new sdk.StorageSharedKeyCredential(ACCOUNT, KEY);
    const expires = new Date(Date.now() + 3600_000);
    const sasRl = sdk.generateBlobSASQueryParameters({ containerName: name, permissions: sdk.ContainerSASPermissions.parse('rl'), expiresOn: expires }, cred).toString();
    const viaSas = await verify(azPipeline(dir, { path: `az://${name}/v/`, accountName: ACCOUNT, sasToken: '${secret:AZ_SAS}', endpoint }), { AZ_SAS: sasRl });
    assert.equal(viaSas.ok, true, viaSas.detail);
    assert.match(viaSas.credentialSource!, /^SAS token \$\{secret:AZ_SAS\} \(permissions rl, expires /);
    const r = await run(azPipeline(dir, { path: `az://${name}/v/`, accountName: ACCOUNT, sasToken: '${secret:AZ_SAS}', endpoint }), { AZ_SAS: sasRl });
    assert.equal(r.counts.new, 2, 'a read+list SAS syncs');

    const sasR = sdk.generateBlobSASQueryParameters({ containerName: name, permissions: sdk.ContainerSASPermissions.parse('r'), expiresOn: expires }, cred).toString();
    const noList = await verify(azPipeline(dir, { path: `az://${name}/v/`, accountName: ACCOUNT, sasToken: '${secret:AZ_SAS}', endpoint }), { AZ_SAS: sasR });
    assert.equal(noList.ok, false);
    assert.equal(noList.code, 'AuthorizationPermissionMismatch');
    assert.match(noList.detail, /list \(l\) permissions/);
    const deadEndpoint = `http://127.0.0.1:${await freePort()}/${ACCOUNT}`;
    const deadSas = await verify(azPipeline(dir, { path: `az://${name}/v/`, accountName: ACCOUNT, sasToken: '${secret:AZ_SAS}', endpoint: deadEndpoint }), { AZ_SAS: sasRl });
    assert.equal(deadSas.code, 'ECONNREFUSED');
    const deadRun = await run(azPipeline(tempDir('dsp-az-'), { path: `az://${name}/v/`, accountName: ACCOUNT, sasToken: '${secret:AZ_SAS}', endpoint: deadEndpoint }), { AZ_SAS: sasRl });
    assert.equal(deadRun.status, 'failed');
    assert.ok(!JSON.stringify([viaSas, noList, r, deadSas, deadRun]).includes(new URLSearchParams(sasRl).get('sig')!), 'the SAS signature is never shown');

    const pub = await container({ 'cars/p.txt': 'public' }, 'container');
    const anon = await verify(azPipeline(dir, { path: `az://${pub.name}`, endpoint }));
    assert.equal(anon.ok, true, anon.detail);
    assert.match(anon.credentialSource!, /^anonymous \(public container\)/);
  });

  it('verify explains a missing container, a wrong key, a private container and an unreachable endpoint; never shows a secret', async () => {
    const dir = tempDir('dsp-az-');
    const missing = await verify(azPipeline(dir, { path: 'az://no-such-container/x/', connectionString: '${secret:AZ_CS}' }));
    assert.equal(missing.ok, false);
    assert.equal(missing.code, 'ContainerNotFound');
    assert.match(missing.detail, /Container "no-such-container" does not exist/);

    const { name } = await container({ 'x/a.txt': 'a' });
    const wrong = await verify(azPipeline(dir, { path: `az://${name}/x/`, accountName: ACCOUNT, accountKey: '${secret:AZ_KEY}', endpoint }), { AZ_KEY: WRONG_KEY });
    assert.equal(wrong.ok, false);
    assert.match(wrong.code!, /^(AuthorizationFailure|AuthenticationFailed)$/);
    assert.match(wrong.detail, /rejected the key .*\$\{secret:AZ_KEY\}/);

    const wrongCs = connectionString.replace(KEY, WRONG_KEY);
    const wrongViaCs = await verify(azPipeline(dir, { path: `az://${name}/x/`, connectionString: '${secret:AZ_CS}' }), { AZ_CS: wrongCs });
    assert.equal(wrongViaCs.ok, false);
    assert.match(wrongViaCs.detail, /rejected the key/);

    const priv = await verify(azPipeline(dir, { path: `az://${name}/x/`, endpoint }));
    assert.equal(priv.ok, false);
    assert.match(priv.detail, /does not allow anonymous listing/);

    const dead = await verify(azPipeline(dir, { path: `az://${name}/x/`, accountName: ACCOUNT, accountKey: '${secret:AZ_KEY}', endpoint: `http://127.0.0.1:${await freePort()}/${ACCOUNT}` }));
    assert.equal(dead.ok, false);
    assert.equal(dead.code, 'ECONNREFUSED');
    assert.match(dead.detail, /Nothing answers at/);

    const badCs = await verify(azPipeline(dir, { path: `az://${name}/x/`, connectionString: '${secret:AZ_CS}' }), { AZ_CS: 'AccountKey=sekrit-value-123' });
    assert.equal(badCs.ok, false);

    const all = JSON.stringify([missing, wrong, wrongViaCs, priv, dead, badCs]);
    for (const secret of [KEY, WRONG_KEY, 'sekrit-value-123']) assert.ok(!all.includes(secret), 'no secret in any answer');
  });

  it('a run against a wrong key fails with the reason, not a crash', async () => {
    const { name } = await container({ 'x/a.txt': 'a' });
    const dir = tempDir('dsp-az-');
    const r = await run(azPipeline(dir, { path: `az://${name}/x/`, accountName: ACCOUNT, accountKey: '${secret:AZ_KEY}', endpoint }), { AZ_KEY: WRONG_KEY });
    assert.equal(r.status, 'failed');
    assert.match(r.error ?? '', /listing az:\/\/.*HTTP 403/);
    assert.ok(!JSON.stringify(r).includes(WRONG_KEY));
  });
});
