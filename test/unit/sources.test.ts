// The one Source contract (src/core/types.ts, src/core/sources/index.ts): every storage kind's
// factory makes a Source that explains its failures with a kind; a storage kind is one module and
// one line in the registry; and the helpers the sources share (sample files, endpoint checks, the
// kind of a failure) behave the same for all of them.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { envResolver } from '../../src/core/pipeline/refs';
import { IMPORT_TYPES, type ImportBlock } from '../../src/core/pipeline/model';
import { createSource, SOURCE_REGISTRY, type SourceContext } from '../../src/core/sources';
import { checkEndpoint, collectSampleFiles, errorKind, genericExplanation, isLoopbackHttp, VERIFY_SAMPLE } from '../../src/core/sources/common';
import { SourceError } from '../../src/core/sources/errors';
import { FolderSource } from '../../src/core/sources/folder';
import { silentLogger, type Source, type SourceErrorKind } from '../../src/core/types';
import { isRetryable, isThrottle, RetryableError } from '../../src/core/util/retry';
import { UserError } from '../../src/core/util/errors';
import { tempDir } from './helpers';

const SRC = path.resolve(__dirname, '../../../src');
const SOURCES = path.join(SRC, 'core/sources');
const KINDS: readonly SourceErrorKind[] = ['auth', 'denied', 'not-found', 'throttled', 'network', 'tls', 'invalid', 'other'];

/** A block of each kind that a factory accepts without touching the network (nothing listens at port 9). */
function blockOf(type: ImportBlock['type'], dir: string): ImportBlock {
  switch (type) {
    case 'folder-to-project':
      return { type, path: dir };
    case 's3-to-project':
      return { type, path: 's3://bkt/data/', endpoint: 'http://127.0.0.1:9', accessKey: 'AKIDEXAMPLE', secretKey: '${secret:S3_SECRET}' };
    case 'gcs-to-project':
      return { type, path: 'gs://bkt/data/', apiEndpoint: 'http://127.0.0.1:9', projectId: 'p' };
    case 'azure-to-project':
      return { type, path: 'az://cont/data/', endpoint: 'http://127.0.0.1:9/acct' };
  }
}

function ctxFor(dir: string): SourceContext {
  return { baseDir: dir, datasetDir: path.join(dir, 'dataset'), resolver: envResolver({ S3_SECRET: 'not-a-real-secret' }), logger: silentLogger, step: 'Fetch' };
}

const errno = (code: string) => Object.assign(new Error(`${code}: failed`), { code });

describe('the Source contract', () => {
  let dir: string;
  const made: Source[] = [];
  before(() => {
    dir = tempDir('dsp-sources-');
  });
  after(async () => {
    for (const s of made) await s.close?.();
  });

  async function make(type: ImportBlock['type']): Promise<Source> {
    const s = await createSource(blockOf(type, dir), ctxFor(dir));
    made.push(s);
    return s;
  }

  for (const type of IMPORT_TYPES) {
    it(`${type}: its factory makes a Source that implements explain() with a code, a detail and a kind`, async () => {
      const source = await make(type);
      assert.equal(typeof source.explain, 'function', `${type} has no explain()`);
      assert.equal(typeof source.list, 'function');
      assert.equal(typeof source.open, 'function');
      assert.equal(typeof source.verify, 'function');
      assert.ok(source.id && source.kind && source.defaultConcurrency > 0);
      for (const err of [errno('ECONNREFUSED'), errno('ENOENT'), new SourceError('x: denied', 'AccessDenied', 403), new RetryableError('x: slow down', true, 'SlowDown'), new Error('plain'), 'a string', null, undefined]) {
        const e = source.explain!(err);
        assert.equal(typeof e.code, 'string');
        assert.ok(e.code.length > 0);
        assert.equal(typeof e.detail, 'string');
        assert.ok(e.detail.length > 0);
        assert.ok(KINDS.includes(e.kind), `${type}: kind ${e.kind}`);
      }
      // The kind is the same whatever the store: read from the SourceError, the network code, throttling.
      assert.equal(source.explain!(new SourceError('x: denied', 'AccessDenied', 403)).kind, 'denied');
      assert.equal(source.explain!(new SourceError('x: no such thing', 'NotFound', 404)).kind, 'not-found');
      assert.equal(source.explain!(errno('ECONNREFUSED')).kind, 'network');
      assert.equal(source.explain!(new RetryableError('x: slow down', true, 'SlowDown')).kind, 'throttled');
      assert.equal(source.explain!(errno('DEPTH_ZERO_SELF_SIGNED_CERT')).kind, 'tls');
    });
  }

  it('cloud sources explain a store code in their own words, with the code kept', async () => {
    const s3 = await make('s3-to-project');
    const nb = s3.explain!(new SourceError('listing s3://bkt/data/: NoSuchBucket [HTTP 404]', 'NoSuchBucket', 404));
    assert.deepEqual([nb.code, nb.kind], ['NoSuchBucket', 'not-found']);
    assert.match(nb.detail, /Bucket "bkt" does not exist at http:\/\/127\.0\.0\.1:9/);
    const sig = s3.explain!(new SourceError('x', 'SignatureDoesNotMatch', 403));
    assert.deepEqual([sig.code, sig.kind], ['SignatureDoesNotMatch', 'auth']);
    assert.match(sig.detail, /\$\{secret:S3_SECRET\}/);
    assert.ok(!sig.detail.includes('not-a-real-secret'));

    const gcs = await make('gcs-to-project');
    const g = gcs.explain!(new SourceError('listing gs://bkt/data/: No such bucket [HTTP 404 notFound]', 'notFound', 404));
    assert.deepEqual([g.code, g.kind], ['notFound', 'not-found']);
    assert.match(g.detail, /Bucket "bkt" does not exist/);

    const az = await make('azure-to-project');
    const a = az.explain!(new SourceError('listing az://cont/data/: gone [HTTP 404 ContainerNotFound]', 'ContainerNotFound', 404));
    assert.deepEqual([a.code, a.kind], ['ContainerNotFound', 'not-found']);
    assert.match(a.detail, /Container "cont" does not exist/);
    assert.equal(az.explain!(new UserError('bad connection string', 'InvalidConnectionString')).kind, 'invalid');
  });

  it('the folder source explains ENOENT, EACCES, ENOTDIR with their kinds', async () => {
    const folder = new FolderSource(path.join(dir, 'nope'));
    const missing = folder.explain(errno('ENOENT'));
    assert.deepEqual([missing.code, missing.kind], ['ENOENT', 'not-found']);
    assert.match(missing.detail, /does not exist\. Fix the step's path/);
    const denied = folder.explain(errno('EACCES'));
    assert.deepEqual([denied.code, denied.kind], ['EACCES', 'denied']);
    assert.match(denied.detail, /cannot be read \(EACCES\)\. Check its permissions/);
    assert.equal(folder.explain(errno('EPERM')).kind, 'denied');
    const notDir = folder.explain(errno('ENOTDIR'));
    assert.deepEqual([notDir.code, notDir.kind], ['ENOTDIR', 'invalid']);
    assert.match(notDir.detail, /not a folder/);
  });

  it("verify's failures carry the kind of the error", async () => {
    const missing = await new FolderSource(path.join(dir, 'missing')).verify();
    assert.deepEqual([missing.ok, missing.code, missing.kind], [false, 'ENOENT', 'not-found']);
    const file = path.join(dir, 'a-file.txt');
    fs.writeFileSync(file, 'x');
    const notDir = await new FolderSource(file).verify();
    assert.deepEqual([notDir.ok, notDir.code, notDir.kind], [false, 'ENOTDIR', 'invalid']);
    const ok = await new FolderSource(dir).verify();
    assert.equal(ok.ok, true);
    assert.equal(ok.kind, undefined);
  });

  it('genericExplanation reads a SourceError kind, and calls anything else "other"', () => {
    assert.deepEqual(genericExplanation(new SourceError('listing x: nope', 'AccessDenied', 403)), { code: 'AccessDenied', detail: 'listing x: nope', kind: 'denied' });
    assert.deepEqual(genericExplanation('boom'), { code: 'Error', detail: 'boom', kind: 'other' });
  });
});

describe('the source registry: a storage kind is one module and one line', () => {
  const indexText = fs.readFileSync(path.join(SOURCES, 'index.ts'), 'utf8');

  it('has exactly one entry per import block type', () => {
    assert.deepEqual(Object.keys(SOURCE_REGISTRY).sort(), [...IMPORT_TYPES].sort());
  });

  it("every entry loads its module's create*Source", async () => {
    for (const [type, load] of Object.entries(SOURCE_REGISTRY)) {
      const factory = await load();
      assert.equal(typeof factory, 'function', type);
      assert.match(factory.name, /^create[A-Z][A-Za-z0-9]*Source$/, type);
    }
  });

  it('every entry is one line naming one module of its own (a folder or a file under src/core/sources)', () => {
    const modules = new Map<string, string>();
    for (const type of IMPORT_TYPES) {
      const lines = indexText.split('\n').filter((l) => l.includes(`'${type}'`));
      assert.equal(lines.length, 1, `${type}: ${lines.length} lines in the registry`);
      const m = /import\('\.\/([a-z0-9-]+)'\)\)\.(create[A-Za-z0-9]*Source)\b/.exec(lines[0]);
      assert.ok(m, `${type}: the line does not load ./<module> and its create*Source: ${lines[0]}`);
      const [, mod, factory] = m;
      assert.ok(!modules.has(mod), `${type} and ${modules.get(mod)} share module ./${mod}`);
      modules.set(mod, type);
      const asFolder = path.join(SOURCES, mod, 'index.ts');
      const asFile = path.join(SOURCES, `${mod}.ts`);
      const file = fs.existsSync(asFolder) ? asFolder : asFile;
      assert.ok(fs.existsSync(file), `${type}: no ${path.relative(SRC, asFolder)} or ${path.relative(SRC, asFile)}`);
      assert.match(fs.readFileSync(file, 'utf8'), new RegExp(`export (async )?function ${factory}\\b`), `${path.relative(SRC, file)} does not export ${factory}`);
    }
  });

  it('no module makes a Source without being in the registry, and nothing outside src/core/sources imports a source module', () => {
    const registered = new Set([...indexText.matchAll(/import\('\.\/([a-z0-9-]+)'\)/g)].map((m) => m[1]));
    const unregistered: string[] = [];
    for (const d of fs.readdirSync(SOURCES, { withFileTypes: true })) {
      const file = d.isDirectory() ? path.join(SOURCES, d.name, 'index.ts') : d.name.endsWith('.ts') ? path.join(SOURCES, d.name) : undefined;
      if (!file || !fs.existsSync(file)) continue;
      const mod = d.isDirectory() ? d.name : d.name.replace(/\.ts$/, '');
      if (/export (async )?function create[A-Z][A-Za-z0-9]*Source\b/.test(fs.readFileSync(file, 'utf8')) && !registered.has(mod)) unregistered.push(mod);
    }
    assert.deepEqual(unregistered, []);

    const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : e.name.endsWith('.ts') ? [path.join(d, e.name)] : []));
    const offenders = walk(SRC)
      .filter((f) => !f.startsWith(SOURCES + path.sep))
      .filter((f) => /from '[^']*sources\/(?!index')[^']+'|import\('[^']*sources\/(?!index')[^']+'\)/.test(fs.readFileSync(f, 'utf8')))
      .map((f) => path.relative(SRC, f));
    assert.deepEqual(offenders, [], 'the engine and the editor reach sources only through src/core/sources/index.ts');
  });

  it('an unknown block type is a UserError, even one named like an Object method', async () => {
    const ctx = ctxFor('.');
    for (const type of ['ftp-to-project', 'toString', '__proto__']) {
      await assert.rejects(createSource({ type } as unknown as ImportBlock, ctx), (e: Error) => e instanceof UserError && /Unknown import block type/.test(e.message));
    }
  });
});

describe('what the sources share', () => {
  it('collectSampleFiles: name, size and folder of the first files; no folder markers; stops early', async () => {
    const rows = ['', 'cars/', 'a.jpg', 'cars/b.jpg', 'x/y/c.png'].map((rel, i) => ({ rel, size: i }));
    assert.deepEqual(await collectSampleFiles(rows, (r) => r.rel, (r) => r.size), [
      { name: 'a.jpg', size: 2, folder: '' },
      { name: 'b.jpg', size: 3, folder: 'cars' },
      { name: 'c.png', size: 4, folder: 'x/y' },
    ]);
    let pulled = 0;
    async function* endless() {
      for (let i = 0; ; i++) {
        pulled++;
        yield { rel: `f/${i}.txt`, size: 1 };
      }
    }
    const sample = await collectSampleFiles(endless(), (r) => r.rel, (r) => r.size);
    assert.equal(sample.length, VERIFY_SAMPLE);
    assert.equal(pulled, VERIFY_SAMPLE);
  });

  it('checkEndpoint: http or https, no credentials, an optional query rule, the path kept without trailing slashes', () => {
    const spec = { where: 'step "S"', field: 'endpoint', examples: 'https://a.example or http://127.0.0.1:9000', noUserInfo: 'endpoint must not hold a user name or password.', noQuery: 'endpoint must not hold a query.' };
    assert.deepEqual(checkEndpoint('https://s3.example.com/base//', spec), { url: 'https://s3.example.com/base', secure: true, loopbackHttp: false });
    assert.deepEqual(checkEndpoint('http://127.0.0.1:9000', spec), { url: 'http://127.0.0.1:9000', secure: false, loopbackHttp: true });
    const fails = (raw: string, text: string) =>
      assert.throws(() => checkEndpoint(raw, spec), (e: Error) => e instanceof UserError && e.code === 'InvalidEndpoint' && e.message === text);
    fails('not a url', 'step "S": endpoint "not a url" is not a URL; write it like https://a.example or http://127.0.0.1:9000.');
    fails('ftp://x', 'step "S": endpoint must start with http:// or https://.');
    fails('https://u:p@x', 'step "S": endpoint must not hold a user name or password.');
    fails('https://x/?sig=1', 'step "S": endpoint must not hold a query.');
    assert.equal(checkEndpoint('https://x/p?a=1', { ...spec, noQuery: undefined }).url, 'https://x/p');
    assert.ok(isLoopbackHttp('http://localhost:4443') && isLoopbackHttp('http://[::1]:1') && !isLoopbackHttp('https://127.0.0.1') && !isLoopbackHttp('http://10.0.0.1'));
  });

  it('errorKind: the SourceError kind first, then throttling, codes, statuses', () => {
    assert.equal(errorKind(new SourceError('x', 'Whatever', 500, 'auth')), 'auth');
    assert.equal(errorKind(new RetryableError('x', true)), 'throttled');
    assert.equal(errorKind(errno('ECONNRESET')), 'network');
    assert.equal(errorKind(errno('UNABLE_TO_VERIFY_LEAF_SIGNATURE')), 'tls');
    assert.equal(errorKind({ statusCode: 403 }), 'denied');
    assert.equal(errorKind(new UserError('bad')), 'invalid');
    assert.equal(errorKind(new Error('?')), 'other');
  });

  it('isRetryable and isThrottle read the SourceError kind first', () => {
    assert.ok(isRetryable(new SourceError('x', 'SlowDown', 429)) && isThrottle(new SourceError('x', 'SlowDown', 429)));
    assert.ok(isRetryable(new SourceError('x', 'ECONNRESET')) && !isThrottle(new SourceError('x', 'ECONNRESET')));
    for (const kind of ['auth', 'denied', 'not-found', 'invalid', 'tls'] as const) assert.ok(!isRetryable(new SourceError('x', 'ECONNRESET', undefined, kind)), kind);
    assert.ok(!isRetryable(Object.assign(new SourceError('x', 'ECONNREFUSED'), { final: true })), 'final wins');
    assert.ok(!isRetryable(new SourceError('x', 'Odd', 418)));
  });
});
