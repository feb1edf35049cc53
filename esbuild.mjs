// Bundles the CLI and the extension. Cloud SDKs stay in the bundle but load lazily (dynamic import).
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';

const { editorSchema } = createRequire(import.meta.url)('./scripts/editor-schema.cjs');
// The pipeline schema's validator, compiled ahead (rewritten only when the schema changed).
createRequire(import.meta.url)('node:child_process').execFileSync(process.execPath, ['scripts/gen-schema-validator.cjs'], { stdio: 'inherit' });

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

// What the engine's code is, for the no-op memo (src/core/run/noopMemo.ts): a memo another build
// planned is never reused, so a changed contract always plans in full. A digest of src/core.
function engineBuild() {
  const h = createRequire(import.meta.url)('node:crypto').createHash('sha256');
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else h.update(`${p}\0`).update(fs.readFileSync(p));
    }
  };
  walk('src/core');
  walk('schemas');
  return `${JSON.parse(fs.readFileSync('package.json', 'utf8')).version}+${h.digest('hex').slice(0, 16)}`;
}

const common = {
  define: { __DSP_VERSION__: JSON.stringify(engineBuild()) },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  legalComments: 'none',
  logLevel: 'warning',
  mainFields: ['module', 'main'],
  // Native (libvips): resolved from node_modules at run time; without it the checklist falls back
  // to header and end-marker checks and says so.
  external: ['sharp'],
};

// Cloud SDKs and the mailer are loaded with await import() on first use. Each gets a bundle of
// its own in dist/vendor/, so starting the CLI or the engine parses none of them.
// @aws-sdk/client-s3 is a devDependency: only the demo generator (dist/demo.js, not shipped: see
// .vscodeignore) and the tests use it; the engine signs its own S3 requests.
// umap-js (with ml-matrix, 240 KB) only for the data explorer: the CLI's start no longer parses it.
// yaml (the manifests of `export`) and yazl (deployment zips): 290 KB the CLI's start no longer parses.
const VENDOR = ['@aws-sdk/client-s3', '@aws-sdk/credential-providers', '@azure/storage-blob', '@google-cloud/storage', 'nodemailer', 'umap-js', 'yaml', 'yazl'];
const vendorFile = (name) => `vendor/${name.replace(/^@/, '').replace(/\//g, '-')}.js`;
const vendorOnDemand = {
  name: 'vendor-on-demand',
  setup(build) {
    const filter = new RegExp(`^(${VENDOR.map((v) => v.replace(/[/.]/g, '\\$&')).join('|')})$`);
    build.onResolve({ filter }, (args) => (args.kind === 'dynamic-import' ? { path: `./${vendorFile(args.path)}`, external: true } : undefined));
  },
};
common.plugins = [vendorOnDemand];

const builds = [
  // Some SDKs ship ESM that asks for import.meta.url (createRequire); give the CommonJS bundle one.
  ...VENDOR.map((name) => ({
    ...common,
    plugins: [],
    entryPoints: [name],
    outfile: `dist/${vendorFile(name)}`,
    define: { 'import.meta.url': '__importMetaUrl' },
    banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  })),
  { ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  // S3 fetches on worker threads (src/core/sources/s3/fetchPool.ts), next to cli.js and core.js.
  { ...common, entryPoints: ['src/core/sources/s3/fetchWorker.ts'], outfile: 'dist/s3-fetch-worker.js' },
  { ...common, entryPoints: ['src/demo/generate.ts'], outfile: 'dist/demo.js' },
];
// The extension loads the engine on first use from its own file, so activation parses only the glue.
const coreOnDemand = {
  name: 'core-on-demand',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/core$/ }, (args) => (args.importer.endsWith('src/vscode/core.ts') ? { path: './core.js', external: true } : undefined));
  },
};
if (fs.existsSync('src/vscode/extension.ts')) {
  builds.push({ ...common, entryPoints: ['src/core/index.ts'], outfile: 'dist/core.js' });
  builds.push({ ...common, entryPoints: ['src/vscode/extension.ts'], outfile: 'dist/extension.js', external: ['vscode', 'sharp'], metafile: true, plugins: [coreOnDemand, vendorOnDemand] });
}
if (fs.existsSync('src/webview/preview.ts')) {
  builds.push({ ...common, platform: 'browser', target: 'es2022', format: 'iife', entryPoints: ['src/webview/preview.ts'], outfile: 'dist/webview/preview.js' });
  builds.push({ ...common, platform: 'browser', target: 'es2022', format: 'iife', entryPoints: ['src/webview/explorer.ts'], outfile: 'dist/webview/explorer.js' });
}

// The preview webview's icons come from @vscode/codicons at build time (no copy in the repository):
// dist/webview/codicons/ is in the webview's localResourceRoots and in .vscodeignore's shipped list.
const CODICON_FILES = ['codicon.css', 'codicon.ttf'];
function copyCodicons() {
  const from = path.dirname(createRequire(import.meta.url).resolve('@vscode/codicons/dist/codicon.css'));
  fs.mkdirSync('dist/webview/codicons', { recursive: true });
  for (const f of CODICON_FILES) fs.copyFileSync(path.join(from, f), path.join('dist/webview/codicons', f));
}

// The trainer templates (init-trainer, predict.py in deployment zips) ship as files.
function copyTemplates() {
  fs.mkdirSync('dist/templates/trainer', { recursive: true });
  for (const f of fs.readdirSync('templates/trainer')) fs.copyFileSync(path.join('templates/trainer', f), path.join('dist/templates/trainer', f));
}

if (watch) {
  copyCodicons();
  copyTemplates();
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  const results = await Promise.all(builds.map((b) => esbuild.build(b)));
  // VS Code's JSON service gets an assist-only schema: completion and hover, no problems of its own.
  fs.writeFileSync('dist/pipeline.editor.schema.json', JSON.stringify(editorSchema(JSON.parse(fs.readFileSync('schemas/pipeline.schema.json', 'utf8')))));
  fs.chmodSync('dist/cli.js', 0o755);
  copyCodicons();
  copyTemplates();
  for (const r of results) {
    if (r.metafile) fs.writeFileSync('dist/extension.meta.json', JSON.stringify(r.metafile));
  }
}
