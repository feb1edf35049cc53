// The shipped bundles load: the CLI, the engine, and each on-demand vendor bundle (SDKs whose ESM
// needs import.meta.url must still load as CommonJS). The extension bundle holds the editor glue
// only: the engine comes from dist/core.js, loaded on first use (src/vscode/core.ts).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

const DIST = path.resolve(__dirname, '../../../dist');

describe('bundles', function () {
  this.timeout(60_000);

  it('every vendor bundle loads in a fresh process', () => {
    const vendors = fs.readdirSync(path.join(DIST, 'vendor')).filter((f) => f.endsWith('.js'));
    assert.ok(vendors.length >= 5, vendors.join(', '));
    for (const v of vendors) {
      // Loaded the way the bundles load it: a dynamic import() whose named exports must be there.
      const url = JSON.stringify(pathToFileURL(path.join(DIST, 'vendor', v)).href);
      const r = spawnSync(process.execPath, ['-e', `import(${url}).then((m) => process.exit(Object.keys(m).filter((k) => k !== 'default').length ? 0 : 3))`], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${v}: ${r.stderr}`);
    }
  });

  it('the CLI and the engine bundles do not carry the SDKs', () => {
    for (const f of ['cli.js', 'core.js', 'extension.js']) {
      const text = fs.readFileSync(path.join(DIST, f), 'utf8');
      assert.ok(!text.includes('var BlobServiceClient = class'), `${f} inlines the Azure SDK`);
      assert.ok(!text.includes('var Storage = class'), `${f} inlines the GCS SDK`);
    }
    const cli = fs.readFileSync(path.join(DIST, 'cli.js'), 'utf8');
    for (const v of ['azure-storage-blob', 'google-cloud-storage', 'aws-sdk-credential-providers', 'nodemailer', 'umap-js']) assert.ok(cli.includes(`import("./vendor/${v}.js")`), `cli.js loads ${v} on demand`);
    const core = spawnSync(process.execPath, ['-e', `const c = require(${JSON.stringify(path.join(DIST, 'core.js'))}); process.exit(typeof c.runPipeline === 'function' ? 0 : 3);`]);
    assert.equal(core.status, 0);
  });

  it('every vendor bundle the engine loads on demand ships in the .vsix (only the demo\'s S3 client stays out)', () => {
    const ignore = fs.readFileSync(path.join(DIST, '..', '.vscodeignore'), 'utf8').split('\n').map((l) => l.trim());
    const core = fs.readFileSync(path.join(DIST, 'core.js'), 'utf8');
    const loaded = [...core.matchAll(/import\("\.\/vendor\/([\w.-]+\.js)"\)/g)].map((m) => m[1]);
    assert.ok(loaded.includes('umap-js.js'), loaded.join(', '));
    for (const v of loaded) assert.ok(ignore.includes(`!dist/vendor/${v}`), `.vscodeignore ships dist/vendor/${v}`);
  });

  it('the preview webview\'s codicons are built from @vscode/codicons and ship (not copied into media/)', () => {
    const root = path.resolve(DIST, '..');
    const pkg = path.dirname(require.resolve('@vscode/codicons/package.json'));
    const ignore = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const f of ['codicon.css', 'codicon.ttf']) {
      const built = path.join(DIST, 'webview', 'codicons', f);
      assert.ok(fs.existsSync(built), `node esbuild.mjs writes dist/webview/codicons/${f}`);
      assert.ok(fs.readFileSync(built).equals(fs.readFileSync(path.join(pkg, 'dist', f))), `dist/webview/codicons/${f} is the package's`);
      assert.ok(ignore.includes(`!dist/webview/codicons/${f}`), `.vscodeignore ships dist/webview/codicons/${f}`);
    }
    assert.ok(!fs.existsSync(path.join(root, 'media', 'codicons')), 'no committed copy under media/codicons');
    const css = fs.readFileSync(path.join(DIST, 'webview', 'codicons', 'codicon.css'), 'utf8');
    assert.match(css, /url\("?\.\/codicon\.ttf/, 'the stylesheet finds the font next to it');
  });

  it('@aws-sdk/client-s3 is a dev dependency: no shipped bundle loads it', () => {
    const root = path.resolve(DIST, '..');
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    assert.equal(pkg.dependencies['@aws-sdk/client-s3'], undefined);
    assert.ok(pkg.devDependencies['@aws-sdk/client-s3']);
    for (const f of ['cli.js', 'core.js', 'extension.js']) assert.ok(!fs.readFileSync(path.join(DIST, f), 'utf8').includes('aws-sdk-client-s3'), `${f} does not load the client-s3 vendor bundle`);
    const ignore = fs.readFileSync(path.join(root, '.vscodeignore'), 'utf8');
    assert.ok(!ignore.includes('!dist/demo.js') && !ignore.includes('!dist/vendor/aws-sdk-client-s3.js'), 'the demo and its S3 client do not ship');
  });

  it('the extension bundle carries no core module: the engine loads from dist/core.js on first use', () => {
    // Written by esbuild.mjs from the extension build's metafile.
    const meta = JSON.parse(fs.readFileSync(path.join(DIST, 'extension.meta.json'), 'utf8')) as {
      inputs: Record<string, unknown>;
      outputs: Record<string, { inputs: Record<string, unknown>; imports: { path: string; kind: string; external?: boolean }[] }>;
    };
    const out = meta.outputs['dist/extension.js'];
    assert.ok(out, `no dist/extension.js in the metafile: ${Object.keys(meta.outputs).join(', ')}`);
    const inputs = [...new Set([...Object.keys(meta.inputs), ...Object.keys(out.inputs)])].map((i) => i.replace(/\\/g, '/'));
    assert.ok(inputs.includes('src/vscode/extension.ts'), 'the metafile is the extension build\'s');
    const fromCore = inputs.filter((i) => i.startsWith('src/core/') || i.includes('/src/core/'));
    assert.deepEqual(fromCore, [], `core modules bundled into dist/extension.js (import them through src/vscode/core.ts): ${fromCore.join(', ')}`);
    assert.ok(out.imports.some((i) => i.path === './core.js' && i.kind === 'dynamic-import' && i.external), 'dist/extension.js loads ./core.js with import()');
  });
});
