// Reliability: hostile object keys on every source kind (folder, S3 via mem-s3, GCS via the fake
// server, Azure via azurite): traversal in every spelling, control characters, very long names,
// Windows-reserved names, case and Unicode-normalisation collisions, a crafted collision-suffix
// name, folder markers, hidden and dots-only names. For each kind: sync into a fresh dataset and
// check that nothing is written outside the dataset folder (and no symlink leads out), every key is
// placed (in info.labels and on disk, bytes equal) or reported with a reason in the run record,
// no two keys share a path, and a second run changes nothing.
//
//   node out/test/reliability/hostileKeys.js
// Prints `RELIABILITY hostileKeys: <kind> keys N placed N reported N silently dropped N outside writes N shared paths N; ...`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, compareStates, compareTrees, log, readRuns, readState, readTree, startAzurite, startCli, tempRoot } from './common';
import { waitFor } from '../support/waitFor';
import { FakeGcsServer } from '../unit/fakes/gcs-server';
import { azuriteConnectionString, azuriteEndpoint } from '../support/azurite';

const PART = 'hostileKeys';
const sha8 = (s: string) => createHash('sha1').update(s, 'utf8').digest('hex').slice(0, 8);
const escapeTag = randomBytes(4).toString('hex');

/** The hostile keys (object names relative to the source root). */
function hostileKeys(): string[] {
  const longSeg = 'L'.repeat(300);
  let long = 'cars/';
  while (long.length < 4990) long += 'd'.repeat(60) + '/';
  long = (long + 'long.jpg').slice(0, 5000 - 8) + 'tail.jpg';
  return [
    // traversal
    '../x.png',
    'a/../../x.png',
    '..\\x.png',
    'cars\\..\\..\\x.png',
    '%2e%2e/x.png',
    'cars/%2e%2e%2f%2e%2e%2fx.png',
    './../x.png',
    '/abs/x.png',
    '//double-lead/x.png',
    'a//b.png',
    '.../x.png',
    `../../../../../../../../../../../../tmp/dsp-escape-${escapeTag}.png`,
    'cars/../../../x.png',
    // control characters
    'cars/nul\u0000byte.jpg',
    'cars/esc\u001b[31mred.jpg',
    'cars/cr\rline.jpg',
    'cars/lf\nline.jpg',
    'cars/tab\tbell\u0007.jpg',
    'cars/del\u007f.jpg',
    'cars/c1\u0085\u009b.jpg',
    'cars/rtl\u202egpj.exe.jpg',
    // long
    `cars/${longSeg}.jpg`,
    long,
    // Windows-reserved
    'CON.jpg',
    'cars/NUL.png',
    'cars/aux.jpg',
    'cars/com1.png',
    'cars/LPT9.txt',
    'CON/a.jpg',
    'cars/x:stream.jpg',
    'cars/<>|"?*.jpg',
    'cars./a.jpg',
    'cars /a.jpg',
    'cars/trail.jpg.',
    'cars/trail.jpg ',
    // collisions
    'cars/B.jpg',
    'cars/b.jpg',
    `cars/b~${sha8('cars/b.jpg')}.jpg`,
    `cars/b~${sha8('cars/b.jpg#1')}.jpg`,
    'Cars/b.jpg',
    'cars/caf\u00e9.jpg',
    'cars/cafe\u0301.jpg',
    'caf\u00e9/a.jpg',
    'cafe\u0301/a.jpg',
    // markers, hidden, dots
    'dir/',
    'cars/sub/',
    'cars/.x.jpg',
    '.hidden/a.jpg',
    '.dsp/state.json',
    '.dsp/runs/x.json',
    'info.labels.txt',
    '...',
    'cars/...',
    'cars/..',
    'cars/.',
    '..',
    '.',
  ];
}

const BODIES = new Map<string, Buffer>();

/** Real images (the checklist decodes them) or text, unique to the key. */
async function makeBodies(keys: string[]): Promise<void> {
  const sharp = (await import('sharp')).default;
  for (const key of [...keys, 'outside']) {
    if (key.endsWith('/')) {
      BODIES.set(key, Buffer.alloc(0));
      continue;
    }
    const h = createHash('sha256').update(key).digest();
    const name = key.slice(key.lastIndexOf('/') + 1);
    const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '';
    const img = () => sharp({ create: { width: 2, height: 2, channels: 3, background: { r: h[0], g: h[1], b: h[2] } } });
    if (ext === 'png') BODIES.set(key, await img().png().toBuffer());
    else if (ext === 'jpg') {
      const jpg = await img().jpeg().toBuffer();
      // A COM segment right after SOI makes the bytes unique to the key.
      const text = Buffer.from(h.toString('hex'));
      const com = Buffer.concat([Buffer.from([0xff, 0xfe, 0, text.length + 2]), text]);
      BODIES.set(key, Buffer.concat([jpg.subarray(0, 2), com, jpg.subarray(2)]));
    } else BODIES.set(key, Buffer.from(`${JSON.stringify(key)} ${h.toString('hex')}\n`));
  }
}

function bodyFor(key: string): Buffer {
  return BODIES.get(key)!;
}

/** Every entry under `dir` as rel -> "kind size mtime" (a change detector). */
function listing(dir: string, skip: (rel: string) => boolean): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string) => {
    let ents: fs.Dirent[];
    try {
      ents = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of ents) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (skip(r)) continue;
      const abs = path.join(d, e.name);
      const st = fs.lstatSync(abs);
      out.set(r, `${e.isDirectory() ? 'd' : e.isSymbolicLink() ? 'l' : 'f'} ${st.size} ${st.mtimeMs}`);
      if (e.isDirectory()) walk(abs, r);
    }
  };
  walk(dir, '');
  return out;
}

interface KindResult {
  kind: string;
  keys: number;
  notStorable: string[];
  placed: number;
  reported: number;
  dropped: string[];
  countOnly: string[];
  wrongBytes: string[];
  outside: string[];
  symlinks: string[];
  sharedPaths: string[];
  foldedShared: string[];
  secondRun: string[];
  jsonOutput: string[];
  extra: string[];
}

const show = (k: string) => JSON.stringify(k.length > 80 ? `${k.slice(0, 60)}…(${k.length} chars)` : k);

const roots: string[] = [];

async function syncAndCheck(kind: string, root: string, block: object, keys: string[], sourceBytes: (k: string) => Buffer, notStorable: string[], env: NodeJS.ProcessEnv): Promise<KindResult> {
  roots.push(root);
  const res: KindResult = { kind, keys: keys.length, notStorable, placed: 0, reported: 0, dropped: [], countOnly: [], wrongBytes: [], outside: [], symlinks: [], sharedPaths: [], foldedShared: [], secondRun: [], jsonOutput: [], extra: [] };
  const dataset = path.join(root, 'dataset');
  const file = path.join(root, 'p.pipeline.json');
  fs.writeFileSync(file, JSON.stringify({ name: `hostile-${kind}`, dataset: 'dataset', steps: [{ name: 'import', builtinTransformationBlock: { category: 'training', ...block } }] }, null, 2));
  const inDataset = (r: string) => r === 'dataset' || r.startsWith('dataset/');
  const before = listing(root, inDataset);
  const tmpBefore = new Set(fs.readdirSync(os.tmpdir()));
  const home = path.join(os.tmpdir(), `dsp-rel-hk-home-${kind}-${escapeTag}`);
  fs.mkdirSync(home, { recursive: true });
  const cliEnv = { HOME: home, ...env };

  const run = async () => {
    const ex = await startCli(['run', file, '--json'], cliEnv, root).done;
    if (ex.code !== 0 && ex.code !== 3) res.extra.push(`run exited ${ex.code}: ${ex.stderr.slice(0, 300)}`);
    try {
      return { ex, rec: JSON.parse(ex.stdout) as Record<string, any> };
    } catch (err) {
      // A product failure: --json must print one JSON document. Carry on with the saved run record.
      const at = Number(/position (\d+)/.exec((err as Error).message)?.[1] ?? 0);
      res.jsonOutput.push(`run --json printed invalid JSON (${(err as Error).message}) near ${JSON.stringify(ex.stdout.slice(Math.max(0, at - 40), at + 40))}`);
      const runs = readRuns(dataset).sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1));
      if (!runs.length) throw new Error(`${kind}: no run record after run --json (exit ${ex.code}): ${ex.stderr.slice(0, 500)}`);
      return { ex, rec: runs[0] };
    }
  };
  const first = await run();
  if (first.rec.status === 'failed') res.extra.push(`first run failed: ${first.rec.error ?? JSON.stringify(first.rec.steps?.[0]?.errors)}`);

  // Outside writes: anything new or changed next to the dataset, or in the temp dir.
  const after = listing(root, inDataset);
  for (const [r, v] of after) if (before.get(r) !== v) res.outside.push(`${path.join(root, r)}`);
  for (const n of fs.readdirSync(os.tmpdir())) if (!tmpBefore.has(n) && (n.includes(escapeTag) ? !n.startsWith('dsp-rel-hk-home-') : /^(x\.png|x|b\.png|abs|a)$/.test(n))) res.outside.push(path.join(os.tmpdir(), n));
  // Symlinks in the dataset, and files whose real path leaves it.
  const realDs = fs.realpathSync(dataset);
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const abs = path.join(d, e.name);
      if (e.isSymbolicLink()) res.symlinks.push(abs);
      else if (e.isDirectory()) walk(abs);
      const real = fs.realpathSync(abs);
      if (real !== realDs && !real.startsWith(realDs + path.sep)) res.outside.push(`${abs} -> ${real}`);
    }
  };
  walk(dataset);

  // Placed / reported / dropped.
  const state = readState(dataset);
  const byKey = new Map<string, Record<string, unknown>>();
  for (const e of state.entries.values()) byKey.set(String(e.key), e);
  const info = JSON.parse(fs.readFileSync(path.join(dataset, 'info.labels'), 'utf8')) as { files: { path: string }[] };
  const infoPaths = new Set(info.files.map((f) => f.path));
  const step = first.rec.steps?.[0] ?? { problems: [], warnings: [] };
  const problemKeys = new Set<string>((step.problems ?? []).map((p: { key: string; reason: string }) => (p.reason ? p.key : '\u0000no-reason')));
  const warnings: string[] = step.warnings ?? [];
  // Hidden keys are reported as a count only ("N hidden file(s) or folder(s) skipped.").
  const hiddenWarned = warnings.some((w) => /^\d+ hidden file\(s\) or folder\(s\) skipped/.test(w));
  // What `preview --json` says about each key (skipped items carry their reason there).
  const previewReasons = new Map<string, { status: string; reason?: string }>();
  {
    const pv = await startCli(['preview', file, '--json'], cliEnv, root).done;
    try {
      const doc = JSON.parse(pv.stdout) as { steps: { items: { key: string; status: string; reason?: string }[] }[] };
      for (const it of doc.steps?.[0]?.items ?? []) previewReasons.set(it.key, { status: it.status, reason: it.reason });
    } catch (err) {
      res.jsonOutput.push(`preview --json printed invalid JSON (${(err as Error).message})`);
      // For the diagnostics below only: read it with "\xNN" taken as "\u00NN".
      try {
        const doc = JSON.parse(pv.stdout.replace(/(?<!\\)\\x([0-9a-fA-F]{2})/g, '\\u00$1')) as { steps: { items: { key: string; status: string; reason?: string }[] }[] };
        for (const it of doc.steps?.[0]?.items ?? []) previewReasons.set(it.key, { status: it.status, reason: it.reason });
      } catch {
        /* no diagnostics then */
      }
    }
  }
  for (const k of keys) {
    const e = byKey.get(k);
    const p = e?.path as string | null | undefined;
    if (p && fs.existsSync(path.join(dataset, p)) && infoPaths.has(p)) {
      const got = fs.readFileSync(path.join(dataset, p));
      if (got.equals(sourceBytes(k))) res.placed++;
      else res.wrongBytes.push(`${show(k)} -> ${show(p)} (${got.length} bytes, source ${sourceBytes(k).length})`);
      continue;
    }
    if (problemKeys.has(k) || warnings.some((w) => w.includes(k))) {
      res.reported++;
      continue;
    }
    if (hiddenWarned && k.split('/').some((seg) => seg.startsWith('.'))) {
      res.countOnly.push(k);
      continue;
    }
    const pv = previewReasons.get(k);
    res.dropped.push(`${show(k)}: ${pv !== undefined ? `not in the run record; preview --json says ${pv.status}${pv.reason ? ` "${pv.reason}"` : ''}; ` : ''}${e ? `state status ${e.status}${e.reason ? ` reason "${e.reason}"` : ''}, path ${JSON.stringify(p)}${p ? `, on disk ${fs.existsSync(path.join(dataset, p))}, in info.labels ${infoPaths.has(p)}` : ''}` : 'no state entry, not in problems or warnings'}`);
  }
  // Keys the product saw that the test did not put there (a renamed or mangled key).
  for (const k of byKey.keys()) if (!keys.includes(k)) res.extra.push(`state holds unknown key ${show(k)}`);

  // Shared paths.
  const owners = new Map<string, string[]>();
  const folded = new Map<string, string[]>();
  for (const e of state.entries.values()) {
    const p = e.path as string | null;
    if (!p) continue;
    owners.set(p, [...(owners.get(p) ?? []), String(e.key)]);
    const f = p.normalize('NFC').toLowerCase();
    folded.set(f, [...(folded.get(f) ?? []), String(e.key)]);
  }
  for (const [p, ks] of owners) if (ks.length > 1) res.sharedPaths.push(`${show(p)}: ${ks.map(show).join(', ')}`);
  for (const [p, ks] of folded) if (ks.length > 1) res.foldedShared.push(`${show(p)}: ${ks.map(show).join(', ')}`);

  // A second run changes nothing.
  const tree1 = readTree(dataset);
  const second = await run();
  const c = second.rec.counts ?? {};
  if ((c.new ?? 0) + (c.changed ?? 0) + (c.removed ?? 0) > 0) res.secondRun.push(`counts new ${c.new} changed ${c.changed} removed ${c.removed}`);
  if ((c.bytes ?? 0) > 0) res.secondRun.push(`downloaded ${c.bytes} bytes again`);
  const t = compareTrees(tree1, readTree(dataset));
  res.secondRun.push(...t.mismatches.slice(0, 10));
  const s = compareStates(state, readState(dataset));
  res.secondRun.push(...s.mismatches.slice(0, 10));
  const after2 = listing(root, inDataset);
  for (const [r, v] of after2) if (after.get(r) !== v) res.outside.push(`(second run) ${path.join(root, r)}`);
  fs.rmSync(home, { recursive: true, force: true });
  return res;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const keys = hostileKeys();
  await makeBodies(keys);
  const children: ChildProcess[] = [];
  const results: KindResult[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    // ---- folder: what Linux can hold.
    {
      const root = tempRoot('hk-folder');
      const src = path.join(root, 'src');
      fs.mkdirSync(src);
      const notStorable: string[] = [];
      const stored: string[] = [];
      for (const k of keys) {
        const segs = k.split('/');
        const ok = !k.includes('\u0000') && !k.startsWith('/') && path.posix.normalize(k) === k.replace(/\/$/, '') + (k.endsWith('/') ? '/' : '') && !segs.some((s) => s === '.' || s === '..' || Buffer.byteLength(s) > 255) && Buffer.byteLength(k) < 4000 && !k.endsWith('/');
        if (!ok) {
          notStorable.push(k);
          continue;
        }
        try {
          fs.mkdirSync(path.dirname(path.join(src, k)), { recursive: true });
          fs.writeFileSync(path.join(src, k), bodyFor(k));
          stored.push(k);
        } catch (err) {
          notStorable.push(`${k} (${(err as NodeJS.ErrnoException).code})`);
        }
      }
      // Folder markers on a file system are empty folders; a symlink that leads outside must not be followed.
      fs.mkdirSync(path.join(src, 'dir'), { recursive: true });
      fs.mkdirSync(path.join(root, 'outside'));
      fs.writeFileSync(path.join(root, 'outside', 'secret.jpg'), bodyFor('outside'));
      fs.symlinkSync(path.join(root, 'outside', 'secret.jpg'), path.join(src, 'cars', 'link-out.jpg'));
      fs.symlinkSync(path.join(root, 'outside'), path.join(src, 'linkdir'));
      // The links are keys too (41 in all): they must be reported, never followed.
      stored.push('cars/link-out.jpg', 'linkdir');
      const r = await syncAndCheck('folder', root, { type: 'folder-to-project', path: './src' }, stored, (k) => (fs.statSync(path.join(src, k)).isFile() ? fs.readFileSync(path.join(src, k)) : Buffer.alloc(0)), notStorable, {});
      // The links are keys too: they must not be placed with the outside content.
      const st = readState(path.join(root, 'dataset'));
      for (const e of st.entries.values()) if (String(e.key).startsWith('linkdir') || String(e.key) === 'cars/link-out.jpg') if (e.path && e.status === 'synced') r.outside.push(`symlink leading outside was followed: ${e.key} -> ${e.path}`);
      results.push(r);
    }

    // ---- S3 via mem-s3.
    {
      const mem = spawn(process.execPath, [path.join(ROOT, 'out/bench/mem-s3.js'), '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(mem);
      let out = '';
      mem.stdout!.on('data', (c: Buffer) => (out += c));
      await waitFor(() => out.includes('\n') || mem.exitCode !== null, 'mem-s3 to listen', 20_000, 2);
      const port = Number(out.trim());
      const req = (method: string, p: string, body?: Buffer) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const r = http.request({ host: '127.0.0.1', port, method, path: p }, (res) => {
            const ch: Buffer[] = [];
            res.on('data', (c: Buffer) => ch.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(ch).toString('utf8') }));
          });
          r.on('error', reject);
          r.end(body);
        });
      await req('PUT', '/hk');
      for (const k of keys) await req('PUT', `/hk/${encodeURIComponent(k)}`, bodyFor(k));
      // What the bucket really holds (mem-s3's URL parsing may fold "." and ".." keys).
      const listed = await req('GET', '/hk?list-type=2&encoding-type=url&max-keys=1000');
      const held = [...listed.body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => decodeURIComponent(m[1].replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"')));
      const notStorable = keys.filter((k) => !held.includes(k));
      const extra = held.filter((k) => !keys.includes(k));
      const bodies = new Map<string, Buffer>();
      for (const k of held) bodies.set(k, keys.includes(k) ? bodyFor(k) : Buffer.alloc(0));
      for (const k of extra) {
        const g = await new Promise<Buffer>((resolve, reject) => {
          http.get({ host: '127.0.0.1', port, path: `/hk/${encodeURIComponent(k)}` }, (res) => {
            const ch: Buffer[] = [];
            res.on('data', (c: Buffer) => ch.push(c));
            res.on('end', () => resolve(Buffer.concat(ch)));
          }).on('error', reject);
        });
        bodies.set(k, g);
      }
      const root = tempRoot('hk-s3');
      const r = await syncAndCheck('s3', root, { type: 's3-to-project', path: 's3://hk/', endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', accessKey: 'AKIDHOSTILE', secretKey: '${secret:HK_S3_SECRET}' }, held, (k) => bodies.get(k)!, notStorable.map((k) => `${k} (mem-s3 stored it under another key)`), { HK_S3_SECRET: 'not-checked-by-mem-s3' });
      if (extra.length) r.extra.push(`mem-s3 stored ${extra.length} key(s) under other names: ${extra.map(show).join(', ')}`);
      results.push(r);
      mem.kill();
    }

    // ---- GCS via the fake server.
    {
      const fake = new FakeGcsServer();
      await fake.start();
      cleanups.push(() => fake.stop());
      const held = keys.filter((k) => !k.endsWith('/') || true);
      for (const k of held) fake.put('hk', k, bodyFor(k));
      const root = tempRoot('hk-gcs');
      const r = await syncAndCheck('gcs', root, { type: 'gcs-to-project', path: 'gs://hk/', apiEndpoint: fake.endpoint }, held, bodyFor, [], {});
      results.push(r);
    }

    // ---- Azure via azurite.
    {
      const { child: az, port } = await startAzurite();
      children.push(az);
      const endpoint = azuriteEndpoint(port);
      const cs = azuriteConnectionString(endpoint);
      const sdk = await import('@azure/storage-blob');
      const container = sdk.BlobServiceClient.fromConnectionString(cs, { retryOptions: { maxTries: 1 } }).getContainerClient('hostile');
      await container.create();
      const refused: string[] = [];
      const uploaded = new Set<string>();
      for (const k of keys) {
        const b = bodyFor(k);
        try {
          await container.getBlockBlobClient(k).upload(b, b.length);
          // Keep only names azurite itself lists back unchanged (some break its listing with HTTP
          // 500, some it lists under another name, e.g. CR as "&#xD;").
          try {
            const names: string[] = [];
            for await (const x of container.listBlobsFlat()) names.push(x.name);
            const fresh = names.filter((n) => !uploaded.has(n));
            if (fresh.length !== 1 || fresh[0] !== k) {
              await container.getBlockBlobClient(k).delete().catch(() => undefined);
              refused.push(`${k} (azurite lists it as ${fresh.map(show).join(', ') || 'nothing'})`);
            } else uploaded.add(k);
          } catch (err) {
            await container.getBlockBlobClient(k).delete().catch(() => undefined);
            refused.push(`${k} (azurite cannot list it: ${(err as { statusCode?: number }).statusCode ?? (err as Error).message.slice(0, 40)})`);
          }
        } catch (err) {
          refused.push(`${k} (azurite: ${(err as { code?: string; statusCode?: number }).code ?? (err as { statusCode?: number }).statusCode ?? (err as Error).message.slice(0, 60)})`);
        }
      }
      let held: string[] = [];
      const azNotes: string[] = [];
      try {
        for await (const b of container.listBlobsFlat()) held.push(b.name);
      } catch (err) {
        // azurite cannot list some names; take what was uploaded as the truth.
        azNotes.push(`azurite's own listing failed (${(err as Error).message.split('\n')[0]}): using the uploaded names`);
        held = keys.filter((k) => !refused.some((r) => r.startsWith(`${k} (`)));
      }
      const notStorable = [...refused, ...keys.filter((k) => !held.includes(k) && !refused.some((r) => r.startsWith(`${k} (`))).map((k) => `${k} (azurite stored it under another name)`)];
      const extra = held.filter((k) => !keys.includes(k));
      const bodies = new Map<string, Buffer>();
      for (const k of held) {
        if (keys.includes(k)) bodies.set(k, bodyFor(k));
        else
          bodies.set(
            k,
            await container
              .getBlockBlobClient(k)
              .downloadToBuffer()
              .catch((err: Error) => (azNotes.push(`azurite cannot serve its own listed blob ${show(k)} (${err.message.split('\n')[0]})`), Buffer.alloc(0))),
          );
      }
      const root = tempRoot('hk-azure');
      const r = await syncAndCheck('azure', root, { type: 'azure-to-project', path: 'az://hostile/', connectionString: '${secret:HK_AZ_CS}' }, held, (k) => bodies.get(k)!, notStorable, { HK_AZ_CS: cs });
      r.extra.push(...azNotes);
      if (extra.length) r.extra.push(`azurite stored ${extra.length} key(s) under other names: ${extra.map(show).join(', ')}`);
      results.push(r);
    }
  } finally {
    for (const c of cleanups) await c();
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  }

  let failed = false;
  for (const r of results) {
    const bad = r.dropped.length + r.wrongBytes.length + r.outside.length + r.symlinks.length + r.sharedPaths.length + r.foldedShared.length + r.secondRun.length + r.jsonOutput.length;
    if (bad) failed = true;
    for (const [what, list] of [
      ['not storable in the source (not counted)', r.notStorable],
      ['SILENTLY DROPPED', r.dropped],
      ['reported by count only (hidden; key not named)', r.countOnly],
      ['WRONG BYTES', r.wrongBytes],
      ['OUTSIDE WRITE', r.outside],
      ['SYMLINK in dataset', r.symlinks],
      ['SHARED PATH', r.sharedPaths],
      ['SHARED PATH after case folding / NFC', r.foldedShared],
      ['SECOND RUN CHANGED', r.secondRun],
      ['BAD --json OUTPUT', r.jsonOutput],
      ['note', r.extra],
    ] as [string, string[]][])
      for (const x of list) log(PART, `${r.kind}: ${what}: ${what.startsWith('not storable') ? show(x) : x}`);
  }
  const figures = results.map((r) => `${r.kind} keys ${r.keys} placed ${r.placed} reported ${r.reported} (+${r.countOnly.length} hidden, count only) silently dropped ${r.dropped.length} wrong bytes ${r.wrongBytes.length} outside writes ${r.outside.length + r.symlinks.length} shared paths ${r.sharedPaths.length} (folded ${r.foldedShared.length}) second run changes ${r.secondRun.length} invalid --json ${r.jsonOutput.length} (not storable ${r.notStorable.length})`);
  process.stdout.write(`RELIABILITY ${PART}: ${figures.join('; ')}; ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  process.exitCode = failed ? 1 : 0;
  if (failed) log(PART, `kept for inspection: ${roots.join(' ')}`);
  else for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    process.stderr.write(`${PART}: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
