// Reliability: a canary secret through every supported credential route (S3 static keys and
// session token, the AWS environment chain, Azure SAS / account key / connection string, GCS
// key file and credentials JSON, a custom block's env), with runs that succeed and runs that fail
// every way the sources know (dead port, 403 / 500 from an endpoint that echoes the request's
// headers and URL back in its body, a TLS-to-plain-port mismatch, wrong keys, bad key files).
// After each `run`, `run --json`, `run --verbose`, `verify`, `verify --json`,
// every canary (raw, base64, percent-encoded, first 12 chars) is searched for in stdout, stderr,
// the whole route folder (dataset tree with .dsp/, HOME), the webhook bodies and the email bodies.
//
//   node out/test/reliability/secrets.js
// Prints `RELIABILITY secrets: routes N, runs N, places searched N, leaks N`; exits 1 on a leak.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { CLI, ROOT, freePort, log, startAzurite, startCli, tempRoot } from './common';
import { waitFor } from '../support/waitFor';
import { FakeGcsServer } from '../unit/fakes/gcs-server';
import { AZURITE_ACCOUNT as ACCOUNT, AZURITE_KEY as AZ_KEY, azuriteConnectionString, azuriteEndpoint } from '../support/azurite';

const PART = 'secrets';
const hex = () => randomBytes(6).toString('hex');
const canary = (route: string) => `CANARY-${route}-${hex()}`;

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

// ---------------------------------------------------------------------------------------------
// Places that receive data: webhook bodies, email bodies, and hostile echoing endpoints.

interface Place {
  where: string;
  text: string;
}
const webhookBodies: Place[] = [];
const emailBodies: Place[] = [];

function webhookServer(): http.Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      webhookBodies.push({ where: `webhook ${req.url}`, text: `${JSON.stringify(req.headers)}\n${Buffer.concat(chunks).toString('utf8')}` });
      res.writeHead(200, { 'content-length': 0 });
      res.end();
    });
  });
}

/** A minimal SMTP sink: accepts everything, records each message's DATA. */
function smtpSink(): net.Server {
  return net.createServer((sock) => {
    let buf = '';
    let inData = false;
    let data = '';
    sock.write('220 sink ESMTP\r\n');
    sock.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) {
            if (buf.startsWith('.\r\n')) {
              buf = buf.slice(3);
            } else return;
          } else {
            data += buf.slice(0, end);
            buf = buf.slice(end + 5);
          }
          inData = false;
          emailBodies.push({ where: 'email', text: data });
          data = '';
          sock.write('250 OK queued\r\n');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const cmd = line.slice(0, 4).toUpperCase();
        if (cmd === 'EHLO') sock.write('250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n');
        else if (cmd === 'HELO') sock.write('250 sink\r\n');
        else if (cmd === 'DATA') {
          inData = true;
          sock.write('354 go ahead\r\n');
        } else if (cmd === 'QUIT') {
          sock.end('221 bye\r\n');
          return;
        } else sock.write('250 OK\r\n');
      }
    });
    sock.on('error', () => {});
  });
}

/** What the hostile endpoints echo back: method, URL, every header, the body. */
function echoOf(req: http.IncomingMessage, body: string): string {
  return `${req.method} ${req.url} ${Object.entries(req.headers)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`)
    .join(' | ')} ${body}`;
}

const xmlEsc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

type EchoKind = 's3' | 'azure' | 'gcs';
/**
 * S3: the bucket name picks the answer: "sig" 403 SignatureDoesNotMatch, "key" 403
 * InvalidAccessKeyId, anything else 500 InternalError. Azure: 403 AuthenticationFailed. GCS: 403.
 * Every answer echoes the request (Authorization, x-amz-security-token, the SAS in the URL).
 */
function echoServer(kind: EchoKind): http.Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const echo = echoOf(req, Buffer.concat(chunks).toString('utf8'));
      let status = 403;
      let body: string;
      let type = 'application/xml';
      const extra: http.OutgoingHttpHeaders = {};
      if (kind === 's3') {
        const bucket = (req.url ?? '/').split('/')[1]?.split('?')[0];
        const code = bucket === 'sig' ? 'SignatureDoesNotMatch' : bucket === 'key' ? 'InvalidAccessKeyId' : 'InternalError';
        if (code === 'InternalError') status = 500;
        body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xmlEsc(`We echo your request: ${echo}`)}</Message><AWSAccessKeyId>${xmlEsc(String(req.headers.authorization ?? ''))}</AWSAccessKeyId><StringToSign>${xmlEsc(echo)}</StringToSign><CanonicalRequest>${xmlEsc(echo)}</CanonicalRequest><RequestId>R1</RequestId></Error>`;
      } else if (kind === 'azure') {
        extra['x-ms-error-code'] = 'AuthenticationFailed';
        body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>${xmlEsc(`Server failed to authenticate the request. ${echo}`)}</Message><AuthenticationErrorDetail>${xmlEsc(echo)}</AuthenticationErrorDetail></Error>`;
      } else {
        type = 'application/json';
        const message = `caller does not have storage.objects.list access. ${echo}`;
        body = JSON.stringify({ error: { code: 403, message, errors: [{ message, domain: 'global', reason: 'forbidden' }] } });
      }
      if (req.method === 'HEAD') body = '';
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra });
      res.end(body);
    });
  });
}

/** An OAuth token endpoint: hands out `token`, or (echo) refuses with invalid_grant echoing the request. */
function tokenServer(token: string | undefined): http.Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const echo = echoOf(req, Buffer.concat(chunks).toString('utf8'));
      const body = token ? JSON.stringify({ access_token: token, expires_in: 3600, token_type: 'Bearer' }) : JSON.stringify({ error: 'invalid_grant', error_description: `Invalid JWT Signature. ${echo}` });
      res.writeHead(token ? 200 : 400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Routes.

interface Route {
  id: string;
  what: string;
  /** The secrets of this route: none may appear anywhere. */
  canaries: string[];
  /** Import step block (or custom-block steps). */
  steps: object[];
  env: Record<string, string>;
  /** Files the test itself wrote into the route folder holding the secret (key files): not searched. */
  own?: (dir: string) => Record<string, string>;
  expect: 'success' | 'failure';
  hasVerify: boolean;
}

const imp = (block: object) => ({ name: 'import', builtinTransformationBlock: { category: 'training', ...block } });

interface Leak {
  route: string;
  canaryRoute: string;
  form: string;
  where: string;
  context: string;
}

function variants(c: string): { form: string; s: string }[] {
  const out: { form: string; s: string }[] = [{ form: 'raw', s: c }];
  const pe = encodeURIComponent(c);
  if (pe !== c) out.push({ form: 'percent-encoded', s: pe });
  const pe2 = encodeURIComponent(pe);
  if (pe2 !== pe) out.push({ form: 'percent-encoded twice', s: pe2 });
  for (let shift = 0; shift < 3; shift++) {
    for (const enc of ['base64', 'base64url'] as const) {
      const b = Buffer.from('x'.repeat(shift) + c).toString(enc);
      // Drop the characters that depend on the bytes around the canary.
      const inner = b.slice(shift ? 4 : 0, b.length - 4);
      if (inner.length >= 12 && !out.some((o) => o.s === inner)) out.push({ form: `${enc}${shift ? `(+${shift})` : ''}`, s: inner });
    }
  }
  out.push({ form: 'first 12 chars', s: c.slice(0, 12) });
  return out;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const work = tempRoot('secrets');
  const servers: net.Server[] = [];
  const children: ChildProcess[] = [];
  const cleanup = async () => {
    for (const s of servers) {
      (s as http.Server).closeAllConnections?.();
      s.close();
    }
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  };
  try {
    const start = async (s: net.Server) => {
      servers.push(s);
      return listen(s);
    };
    const hookPort = await start(webhookServer());
    const smtpPort = await start(smtpSink());
    const s3Echo = await start(echoServer('s3'));
    const azEcho = await start(echoServer('azure'));
    const gcsEcho = await start(echoServer('gcs'));
    const dead = await freePort();

    // mem-s3 (no auth) with two objects.
    const memS3 = spawn(process.execPath, [path.join(ROOT, 'out/bench/mem-s3.js'), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(memS3);
    let memOut = '';
    memS3.stdout!.on('data', (c: Buffer) => (memOut += c));
    await waitFor(() => memOut.includes('\n') || memS3.exitCode !== null, 'mem-s3 to listen', 20_000, 2);
    const memPort = Number(memOut.trim());
    if (!memPort) throw new Error('mem-s3 did not start');
    const put = (p: string, body: string) =>
      new Promise<void>((resolve, reject) => {
        const r = http.request({ host: '127.0.0.1', port: memPort, method: 'PUT', path: p }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        });
        r.on('error', reject);
        r.end(body);
      });
    await put('/bkt', '');
    await put('/bkt/cars/1.txt', 'car one');
    await put('/bkt/dogs/1.txt', 'dog one');

    // azurite with a container of two blobs.
    const { child: azurite, port: azPort } = await startAzurite();
    children.push(azurite);
    const azEndpoint = azuriteEndpoint(azPort);
    const azCs = (key: string, endpoint = azEndpoint) => azuriteConnectionString(endpoint, key);
    const sdk = await import('@azure/storage-blob');
    const container = sdk.BlobServiceClient.fromConnectionString(azCs(AZ_KEY)).getContainerClient('secrets');
    await container.create();
    for (const [k, v] of Object.entries({ 'cars/1.txt': 'car one', 'dogs/1.txt': 'dog one' })) await container.getBlockBlobClient(k).upload(v, v.length);
    const sas = sdk.generateBlobSASQueryParameters({ containerName: 'secrets', permissions: sdk.ContainerSASPermissions.parse('rl'), expiresOn: new Date(Date.now() + 3600_000) }, new sdk.StorageSharedKeyCredential(ACCOUNT, AZ_KEY)).toString();
    const sasSig = new URLSearchParams(sas).get('sig')!;

    // GCS: the fake server, a token endpoint that hands out a canary token, one that echoes.
    const gcsToken = canary('gtk');
    const fake = new FakeGcsServer();
    await fake.start();
    fake.put('bkt', 'cars/1.txt', 'car one');
    fake.put('bkt', 'dogs/1.txt', 'dog one');
    const fakeAuthed = new FakeGcsServer();
    await fakeAuthed.start();
    fakeAuthed.requiredToken = gcsToken;
    fakeAuthed.put('bkt', 'cars/1.txt', 'car one');
    fakeAuthed.put('bkt', 'dogs/1.txt', 'dog one');
    const tokOk = await start(tokenServer(gcsToken));
    const tokEcho = await start(tokenServer(undefined));
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const pemBody = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
    // Pieces of the private key: any of them showing up means the key leaked.
    const pemCanaries = [pemBody.slice(40, 72), pemBody.slice(Math.floor(pemBody.length / 2), Math.floor(pemBody.length / 2) + 32), pemBody.slice(-60, -28)];
    const saKey = (tokenPort: number, extra: Record<string, string> = {}) => JSON.stringify({ type: 'service_account', project_id: 'canary-project', private_key_id: 'kid-1', private_key: pem, client_email: 'sync@canary-project.iam.gserviceaccount.com', client_id: '1', token_uri: `http://127.0.0.1:${tokenPort}/token`, ...extra });
    // 0.0.0.0 is not a loopback name to the product, so credentials are sent (and reach the local server).
    const nonLoop = (port: number) => `http://0.0.0.0:${port}`;

    const s3 = (endpoint: string, bucket: string, sk: string, st?: string): object =>
      imp({ type: 's3-to-project', path: `s3://${bucket}/`, endpoint, region: 'us-east-1', accessKey: 'AKIDRELIABILITYTEST', secretKey: '${secret:DSP_CANARY_SK}', ...(st ? { sessionToken: '${secret:DSP_CANARY_ST}' } : {}) });
    const routes: Route[] = [];
    const addS3 = (id: string, what: string, endpoint: string, bucket: string, withToken: boolean, expect: Route['expect']) => {
      const sk = canary(`${id}k`);
      const st = canary(`${id}t`);
      routes.push({ id, what, canaries: withToken ? [sk, st] : [sk], steps: [s3(endpoint, bucket, sk, withToken ? st : undefined)], env: { DSP_CANARY_SK: sk, ...(withToken ? { DSP_CANARY_ST: st } : {}) }, expect, hasVerify: true });
    };
    const memEp = `http://127.0.0.1:${memPort}`;
    const s3EchoEp = `http://127.0.0.1:${s3Echo}`;
    addS3('s1', 'S3 accessKey+secretKey, mem-s3', memEp, 'bkt', false, 'success');
    addS3('s2', 'S3 accessKey+secretKey+sessionToken, mem-s3', memEp, 'bkt', true, 'success');
    addS3('s3', 'S3 keys+token, dead port', `http://127.0.0.1:${dead}`, 'bkt', true, 'failure');
    addS3('s4', 'S3 keys+token, 403 SignatureDoesNotMatch echoing headers', s3EchoEp, 'sig', true, 'failure');
    addS3('s5', 'S3 keys+token, 403 InvalidAccessKeyId echoing headers', s3EchoEp, 'key', true, 'failure');
    addS3('s6', 'S3 keys+token, 500 echoing headers', s3EchoEp, 'err', true, 'failure');
    addS3('s7', 'S3 keys+token, https to a plain-HTTP port', `https://127.0.0.1:${s3Echo}`, 'sig', true, 'failure');
    {
      const sk = canary('s8k');
      const st = canary('s8t');
      routes.push({ id: 's8', what: 'S3 AWS env chain (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), 403 echoing headers', canaries: [sk, st], steps: [imp({ type: 's3-to-project', path: 's3://sig/', endpoint: s3EchoEp, region: 'us-east-1' })], env: { AWS_ACCESS_KEY_ID: 'AKIDRELIABILITYENV', AWS_SECRET_ACCESS_KEY: sk, AWS_SESSION_TOKEN: st }, expect: 'failure', hasVerify: true });
    }
    {
      const sk = canary('s9k');
      const st = canary('s9t');
      routes.push({
        id: 's9',
        what: 'S3 AWS profile (shared credentials file), 500 echoing headers',
        canaries: [sk, st],
        steps: [imp({ type: 's3-to-project', path: 's3://err/', endpoint: s3EchoEp, region: 'us-east-1', profile: 'canary' })],
        env: {},
        own: () => ({ 'home/.aws/credentials': `[canary]\naws_access_key_id = AKIDRELIABILITYPROF\naws_secret_access_key = ${sk}\naws_session_token = ${st}\n` }),
        expect: 'failure',
        hasVerify: true,
      });
    }

    const az = (endpoint: string, auth: object) => imp({ type: 'azure-to-project', path: 'az://secrets/', ...auth, ...(endpoint ? { endpoint } : {}) });
    const azEchoEp = azuriteEndpoint(azEcho);
    const azDeadEp = azuriteEndpoint(dead);
    const wrongKey = () => {
      const c = canary('awk');
      return Buffer.concat([Buffer.from(c), randomBytes(Math.max(0, 64 - c.length))]).toString('base64');
    };
    const fakeSas = () => `sv=2022-11-02&sr=c&sp=rl&se=2030-01-01T00%3A00%3A00Z&sig=${encodeURIComponent(Buffer.from(canary('asg')).toString('base64'))}`;
    const addAz = (id: string, what: string, kind: 'sas' | 'key' | 'cs', endpoint: string, secret: string, expect: Route['expect'], canaries: string[]) => {
      const auth = kind === 'sas' ? { accountName: ACCOUNT, sasToken: '${secret:DSP_CANARY_AZ}' } : kind === 'key' ? { accountName: ACCOUNT, accountKey: '${secret:DSP_CANARY_AZ}' } : { connectionString: '${secret:DSP_CANARY_AZ}' };
      routes.push({ id, what, canaries, steps: [az(kind === 'cs' ? '' : endpoint, auth)], env: { DSP_CANARY_AZ: secret }, expect, hasVerify: true });
    };
    const b64Text = (k: string) => [k, Buffer.from(k, 'base64').toString('latin1').slice(0, 20)];
    addAz('a1', 'Azure SAS token, azurite', 'sas', azEndpoint, sas, 'success', [sasSig]);
    addAz('a2', 'Azure account key, azurite', 'key', azEndpoint, AZ_KEY, 'success', [AZ_KEY]);
    addAz('a3', 'Azure connection string, azurite', 'cs', azEndpoint, azCs(AZ_KEY), 'success', [AZ_KEY]);
    {
      const k = wrongKey();
      addAz('a4', 'Azure wrong account key, azurite', 'key', azEndpoint, k, 'failure', b64Text(k));
    }
    {
      const s = fakeSas();
      addAz('a5', 'Azure wrong SAS token, azurite', 'sas', azEndpoint, s, 'failure', [decodeURIComponent(new URLSearchParams(s).get('sig')!), Buffer.from(decodeURIComponent(new URLSearchParams(s).get('sig')!), 'base64').toString()]);
    }
    {
      const k = wrongKey();
      addAz('a6', 'Azure connection string with a wrong key, azurite', 'cs', azEndpoint, azCs(k), 'failure', b64Text(k));
    }
    {
      const k = wrongKey();
      addAz('a7', 'Azure account key, dead endpoint', 'key', azDeadEp, k, 'failure', b64Text(k));
    }
    {
      const k = wrongKey();
      addAz('a8', 'Azure connection string, dead endpoint', 'cs', azDeadEp, azCs(k, azDeadEp), 'failure', b64Text(k));
    }
    {
      // Its own SAS (another expiry, so another signature), so a leak is attributed to this route.
      const sas9 = sdk.generateBlobSASQueryParameters({ containerName: 'secrets', permissions: sdk.ContainerSASPermissions.parse('rl'), expiresOn: new Date(Date.now() + 7200_000) }, new sdk.StorageSharedKeyCredential(ACCOUNT, AZ_KEY)).toString();
      addAz('a9', 'Azure SAS token, endpoint echoing the request', 'sas', azEchoEp, sas9, 'failure', [new URLSearchParams(sas9).get('sig')!]);
    }
    {
      const k = wrongKey();
      addAz('a10', 'Azure account key, endpoint echoing the request', 'key', azEchoEp, k, 'failure', b64Text(k));
    }
    {
      const k = wrongKey();
      addAz('a11', 'Azure connection string, endpoint echoing the request', 'cs', azEchoEp, azCs(k, azEchoEp), 'failure', b64Text(k));
    }

    const gcs = (endpoint: string, auth: object) => imp({ type: 'gcs-to-project', path: 'gs://bkt/', apiEndpoint: endpoint, ...auth });
    const keyFileRoute = (id: string, what: string, endpoint: string, key: string, expect: Route['expect'], canaries: string[]) =>
      routes.push({ id, what, canaries, steps: [gcs(endpoint, { keyFile: 'sa-key.json' })], env: {}, own: () => ({ 'sa-key.json': key }), expect, hasVerify: true });
    keyFileRoute('g1', 'GCS key file, fake server (loopback: not sent)', fake.endpoint, saKey(tokOk), 'success', [...pemCanaries, gcsToken]);
    // With credentials sent (a non-loopback endpoint), google-auth-library asks Google's own token
    // endpoint (a fixed URL, not the key file's token_uri), which this sandbox cannot reach: these
    // routes fail at the token exchange, so a bearer token never reaches the echoing endpoints.
    keyFileRoute('g2', 'GCS key file, credentials sent: token endpoint unreachable', nonLoop(fakeAuthed.port), saKey(tokOk), 'failure', [...pemCanaries, gcsToken]);
    keyFileRoute('g3', 'GCS key file, storage endpoint echoing the request', nonLoop(gcsEcho), saKey(tokEcho), 'failure', [...pemCanaries, gcsToken]);
    keyFileRoute('g5', 'GCS key file, dead endpoint', nonLoop(dead), saKey(tokOk), 'failure', [...pemCanaries]);
    {
      const c = canary('gbk');
      keyFileRoute('g6', 'GCS bad key file (private_key not a key)', nonLoop(fakeAuthed.port), saKey(tokOk, { private_key: `-----BEGIN PRIVATE KEY-----\n${c}\n-----END PRIVATE KEY-----\n` }), 'failure', [c]);
    }
    {
      const c = canary('gbj');
      keyFileRoute('g7', 'GCS bad key file (not JSON)', nonLoop(fakeAuthed.port), `{"type": "service_account", "private_key": "${c}", oops`, 'failure', [c]);
    }
    {
      routes.push({ id: 'g8', what: 'GCS credentials ${secret:} JSON, credentials sent: token endpoint unreachable', canaries: [...pemCanaries, gcsToken], steps: [gcs(nonLoop(fakeAuthed.port), { credentials: '${secret:DSP_CANARY_GCS}' })], env: { DSP_CANARY_GCS: saKey(tokOk) }, expect: 'failure', hasVerify: true });
      const c = canary('gbc');
      routes.push({ id: 'g9', what: 'GCS credentials ${secret:} not JSON', canaries: [c], steps: [gcs(nonLoop(fakeAuthed.port), { credentials: '${secret:DSP_CANARY_GCS}' })], env: { DSP_CANARY_GCS: `not json ${c}` }, expect: 'failure', hasVerify: true });
      routes.push({ id: 'g10', what: 'GCS credentials ${secret:} JSON, storage endpoint echoing the request', canaries: [...pemCanaries, gcsToken], steps: [gcs(nonLoop(gcsEcho), { credentials: '${secret:DSP_CANARY_GCS}' })], env: { DSP_CANARY_GCS: saKey(tokOk) }, expect: 'failure', hasVerify: true });
    }
    {
      const c1 = canary('tb1');
      const c2 = canary('tb2');
      // The command prints the variable's name and fails; the product must not log the values.
      const cmd = `node -e "console.log('MY_TOKEN and MY_PASS are set: ' + (process.env.MY_TOKEN.length > 0) + ' ' + (process.env.MY_PASS.length > 0)); console.error('failing on purpose (MY_TOKEN)'); process.exit(7)"`;
      routes.push({
        id: 't1',
        what: 'custom transformation block env (${env:} and ${secret:}), failing command',
        canaries: [c1, c2],
        steps: [imp({ type: 'folder-to-project', path: './src' }), { name: 'custom', transformationBlock: { command: cmd, env: { MY_TOKEN: '${env:DSP_CANARY_TB1}', MY_PASS: '${secret:DSP_CANARY_TB2}' } } }],
        env: { DSP_CANARY_TB1: c1, DSP_CANARY_TB2: c2 },
        own: () => ({ 'src/cars/1.txt': 'car one', 'src/dogs/1.txt': 'dog one' }),
        expect: 'failure',
        hasVerify: true,
      });
    }

    // -----------------------------------------------------------------------------------------
    const places: Place[] = [];
    let runs = 0;
    const setupProblems: string[] = [];
    const smtpEnv = { DSP_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, DSP_SMTP_FROM: 'dsp@example.com' };

    const runRoute = async (r: Route) => {
      const dir = path.join(work, r.id);
      const home = path.join(dir, 'home');
      fs.mkdirSync(home, { recursive: true });
      const own = r.own?.(dir) ?? {};
      for (const [rel, text] of Object.entries(own)) {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.writeFileSync(path.join(dir, rel), text);
      }
      const file = path.join(dir, 'p.pipeline.json');
      fs.writeFileSync(file, JSON.stringify({ name: `secrets-${r.id}`, dataset: 'dataset', notificationWebhook: `http://127.0.0.1:${hookPort}/${r.id}`, emailRecipients: ['ops@example.com'], whenToEmail: 'always', steps: r.steps }, null, 2));
      const base: NodeJS.ProcessEnv = { HOME: home, USERPROFILE: home, XDG_CONFIG_HOME: path.join(home, '.config'), AWS_SHARED_CREDENTIALS_FILE: path.join(home, '.aws/credentials'), AWS_CONFIG_FILE: path.join(home, '.aws/config'), AWS_EC2_METADATA_DISABLED: 'true', GOOGLE_APPLICATION_CREDENTIALS: '', NO_COLOR: '1', ...smtpEnv, ...r.env };
      // Keep the parent's AWS/Google credentials out of it.
      const env: NodeJS.ProcessEnv = { ...base };
      for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) if (!(k in r.env)) env[k] = '';
      // --verbose (debug lines) where the server's own text or the block's output comes back: the
      // echoing endpoints, the custom block, and the successful runs.
      const verbose = r.expect === 'success' || /echo|custom/.test(r.what);
      const cmds: string[][] = [['run', file], ['run', file, '--json'], ...(verbose ? [['run', file, '--verbose']] : []), ...(r.hasVerify ? [['verify', file], ['verify', file, '--json']] : [])];
      const codes: string[] = [];
      const began = Date.now();
      for (const args of cmds) {
        const cli = startCli(args, env, dir);
        const limit = setTimeout(() => cli.kill(), 50_000);
        const ex = await cli.done;
        clearTimeout(limit);
        runs++;
        const tag = `${r.id} \`${args[0]}${args.slice(2).length ? ' ' + args.slice(2).join(' ') : ''}\``;
        codes.push(`${args[0]}${args.slice(2).join('')}=${ex.code ?? ex.signal}`);
        places.push({ where: `${tag} stdout`, text: ex.stdout }, { where: `${tag} stderr`, text: ex.stderr });
        if (ex.signal) setupProblems.push(`${tag}: killed after 50 s`);
        if (args[0] === 'run' && args[2] === '--json') {
          try {
            const rec = JSON.parse(ex.stdout) as { status: string; counts: { unchanged: number; new: number } };
            const ok = rec.status === 'success' || rec.status === 'partial';
            if (r.expect === 'success' && !ok) setupProblems.push(`${r.id} (${r.what}): expected the run to succeed, got ${rec.status}: ${ex.stdout.slice(0, 300)}`);
            if (r.expect === 'failure' && rec.status === 'success' && r.id !== 't1') setupProblems.push(`${r.id} (${r.what}): expected the run to fail, it succeeded`);
          } catch {
            setupProblems.push(`${tag}: stdout is not one JSON document: ${ex.stdout.slice(0, 200)}`);
          }
        }
      }
      // Everything the product wrote under the route folder (dataset with .dsp/, HOME, ...).
      const skip = new Set([file, ...Object.keys(own).map((rel) => path.join(dir, rel))]);
      const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          const abs = path.join(d, e.name);
          if (e.isDirectory()) walk(abs);
          else if (e.isFile() && !skip.has(abs)) places.push({ where: `${r.id} file ${path.relative(work, abs)}`, text: fs.readFileSync(abs).toString('utf8') });
        }
      };
      walk(dir);
      log(PART, `${r.id} ${r.what}: ${codes.join(' ')} (${((Date.now() - began) / 1000).toFixed(1)} s)`);
    };

    const queue = [...routes];
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let r = queue.shift(); r; r = queue.shift()) await runRoute(r);
      }),
    );
    // Deliveries are awaited by the CLI before it exits; collect them now.
    // Email bodies are quoted-printable (soft line breaks could split a canary): search them decoded too.
    const qpDecode = (t: string) => t.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    places.push(...webhookBodies, ...emailBodies, ...emailBodies.map((e) => ({ where: 'email (quoted-printable decoded)', text: qpDecode(e.text) })));

    const leaks: Leak[] = [];
    const all = routes.flatMap((r) => r.canaries.map((c) => ({ route: r.id, c, vs: variants(c) })));
    const mask = (s: string) => {
      let out = s;
      for (const a of all) for (const v of a.vs) out = out.split(v.s).join(`<CANARY ${a.route} ${v.form}>`);
      return out;
    };
    for (const p of places)
      for (const a of all)
        for (const v of a.vs) {
          const i = p.text.indexOf(v.s);
          if (i < 0) continue;
          const from = Math.max(0, i - 80);
          leaks.push({ route: p.where.split(' ')[0], canaryRoute: a.route, form: v.form, where: p.where, context: mask(p.text.slice(from, from + 200 + v.s.length)).slice(0, 200).replace(/\s+/g, ' ') });
          break;
        }
    const emailNote = emailBodies.length ? `email ${emailBodies.length} bodies (raw and decoded)` : 'email: not covered (no message reached the SMTP sink)';
    for (const l of leaks) log(PART, `LEAK of ${l.canaryRoute}'s secret (${l.form}) in ${l.where}: ${l.context}`);
    for (const s of setupProblems) log(PART, `SETUP: ${s}`);
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    process.stdout.write(`RELIABILITY ${PART}: routes ${routes.length}, runs ${runs}, canaries ${all.length}, places searched ${places.length} (stdout/stderr ${runs * 2}, files ${places.length - runs * 2 - webhookBodies.length - 2 * emailBodies.length}, webhook bodies ${webhookBodies.length}, ${emailNote}), leaks ${leaks.length}, setup problems ${setupProblems.length}, ${secs} s\n`);
    await fake.stop();
    await fakeAuthed.stop();
    await cleanup();
    process.exitCode = leaks.length || setupProblems.length ? 1 : 0;
    if (process.exitCode) log(PART, `kept for inspection: ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  } catch (err) {
    await cleanup();
    throw err;
  }
}

void CLI;
main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    process.stderr.write(`${PART}: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
