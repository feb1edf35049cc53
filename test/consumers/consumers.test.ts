// The real-consumer suite: datasets synced by the engine from folder sources must load in the tools
// people train with. torchvision runs for real (every sample decoded through a DataLoader); Hugging
// Face imagefolder, Keras image_dataset_from_directory and Edge Impulse's info.labels are checked
// against their published rules (see rules.ts).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { loadPipelineFile, runPipeline, type RunRecord } from '../../src/core';
import { generateDemo } from '../../src/demo/generate';
import { tempDir, writeFiles, writePipeline } from '../unit/helpers';
import { checkInfoLabels, hfImagefolder, kerasIndex, listFiles, pySorted, readLabelsTxt } from './rules';

const PYTHON = process.env.CONSUMERS_PYTHON ?? '/usr/bin/python3';
const CATEGORIES = ['training', 'validation', 'testing'] as const;
const HF_SPLIT: Record<string, string> = { training: 'train', validation: 'validation', testing: 'test' };

function torchvisionScript(): string {
  for (const p of [path.join(__dirname, 'torchvision_check.py'), path.resolve(__dirname, '../../../test/consumers/torchvision_check.py')]) if (fs.existsSync(p)) return p;
  throw new Error('torchvision_check.py not found next to the test or in test/consumers/');
}

// ------------------------------------------------------------------------------------- images

/** A real image with seeded noise, so every sample has distinct content (the engine dedupes by content). */
async function image(seed: number, format: 'png' | 'jpg' | 'gif', size = 16 + (seed % 11)): Promise<Buffer> {
  const raw = Buffer.alloc(size * size * 3);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < raw.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    raw[i] = s >>> 24;
  }
  const img = sharp(raw, { raw: { width: size, height: size, channels: 3 } });
  return format === 'png' ? img.png().toBuffer() : format === 'jpg' ? img.jpeg({ quality: 90 }).toBuffer() : img.gif().toBuffer();
}

/** The first part of a valid image: a header that parses, data that ends early. */
async function truncated(seed: number, format: 'png' | 'jpg'): Promise<Buffer> {
  const full = await image(seed, format, 64);
  return full.subarray(0, Math.floor(full.length * 0.6));
}

// ------------------------------------------------------------------------------------- fixtures

interface Fixture {
  name: string;
  dataset: string;
  runs: RunRecord[];
  /** Source keys (relative to the step path) that must be rejected and reported, not placed. */
  mustReject: string[];
  /** Labels the sources hold good samples for. */
  expectedLabels: string[];
  expectedUnlabeled: number;
  expectedLabeled: number;
  /** Categories the run must use. */
  expectedCategories: string[];
  /** A label torchvision's default ImageFolder cannot read: the run must warn about it, and torchvision must fail exactly so. */
  torchvisionUnreadable?: string;
  /** Labels too small for every category: the run must warn, and these categories list them not. */
  expectMissing?: Record<string, string[]>;
}

/** The labels a category may lack, after checking that the run warned about each. */
function missingIn(fx: Fixture, cat: string): string[] {
  const labels = fx.expectMissing?.[cat] ?? [];
  for (const label of labels) {
    const warned = fx.runs.some((run) => run.steps.some((st) => (st.warnings ?? []).some((w) => w.includes(`"${label}" (not in `) && w.includes(cat))));
    assert.ok(warned, `the run did not warn that label "${label}" is not in ${cat}: ${JSON.stringify(fx.runs.map((run) => run.steps.map((st) => st.warnings)))}`);
  }
  return labels;
}

async function syncFolder(root: string, files: Record<string, Buffer>, block: object): Promise<RunRecord> {
  writeFiles(path.join(root, 'src'), files);
  const file = writePipeline(root, { name: 'consumers', steps: [{ name: 'import', builtinTransformationBlock: { type: 'folder-to-project', path: 'src', ...block } }] });
  return runPipeline(loadPipelineFile(file), { trigger: 'cli' });
}

/** Folder names, rare labels, unlabeled samples, Edge Impulse names, truncated images, a validation/ folder, a 3-way split. */
async function mixedFixture(): Promise<Fixture> {
  const root = tempDir('dsp-consumers-mixed-');
  const files: Record<string, Buffer> = {};
  let seed = 1;
  for (let i = 0; i < 10; i++) files[`cars/cars.training.${i + 1}.jpg`] = await image(seed++, 'jpg');
  for (let i = 0; i < 10; i++) files[`unknown/unknown.test_${2500 + i}.png`] = await image(seed++, 'png');
  for (let i = 0; i < 2; i++) files[`rare2/rare2.${i}.png`] = await image(seed++, 'png');
  for (let i = 0; i < 3; i++) files[`rare3/rare3.${i}.jpg`] = await image(seed++, 'jpg');
  for (let i = 0; i < 3; i++) files[`unlabeled/sample.${i}.jpg`] = await image(seed++, 'jpg');
  for (let i = 0; i < 3; i++) files[`validation/cars/cars.validation.${i}.jpg`] = await image(seed++, 'jpg');
  for (let i = 0; i < 2; i++) files[`validation/unknown/unknown.val_${i}.png`] = await image(seed++, 'png');
  files['cars/cars.truncated.png'] = await truncated(seed++, 'png');
  files['unknown/unknown.truncated.jpg'] = await truncated(seed++, 'jpg');
  const run = await syncFolder(root, files, { category: 'split', labelStrategy: 'infer-from-folder-name', splitRatio: { training: 0.6, validation: 0.2, testing: 0.2 } });
  return {
    name: 'folder labels, rare labels, unlabeled, truncated images, validation/ folder, 60/20/20 split',
    dataset: path.join(root, 'dataset'),
    runs: [run],
    mustReject: ['cars/cars.truncated.png', 'unknown/unknown.truncated.jpg'],
    expectedLabels: ['cars', 'rare2', 'rare3', 'unknown'],
    expectedUnlabeled: 3,
    expectedLabeled: 10 + 10 + 2 + 3 + 3 + 2,
    expectedCategories: ['training', 'validation', 'testing'],
    // Two samples cannot be in three categories: training and testing get one each.
    expectMissing: { validation: ['rare2'] },
  };
}

/** Edge Impulse's flat layout: labels from file names (`cars.training.1.jpg`, `unknown.test_2500.png`), a testing/ folder, the default split. */
async function fileNameFixture(): Promise<Fixture> {
  const root = tempDir('dsp-consumers-names-');
  const files: Record<string, Buffer> = {};
  let seed = 500;
  for (let i = 0; i < 8; i++) files[`cars.training.${i + 1}.jpg`] = await image(seed++, 'jpg');
  for (let i = 0; i < 8; i++) files[`unknown.test_${2500 + i}.png`] = await image(seed++, 'png');
  for (let i = 0; i < 3; i++) files[`testing/cars.training.${100 + i}.jpg`] = await image(seed++, 'jpg');
  for (let i = 0; i < 3; i++) files[`testing/unknown.test_${3000 + i}.png`] = await image(seed++, 'png');
  files['cars.broken.jpg'] = await truncated(seed++, 'jpg');
  const run = await syncFolder(root, files, { category: 'split', labelStrategy: 'infer-from-file-name' });
  return {
    name: 'labels from Edge Impulse file names, testing/ folder, default 80/20 split',
    dataset: path.join(root, 'dataset'),
    runs: [run],
    mustReject: ['cars.broken.jpg'],
    expectedLabels: ['cars', 'unknown'],
    expectedUnlabeled: 0,
    expectedLabeled: 22,
    expectedCategories: ['training', 'testing'],
  };
}

/** Labels whose Python (code point) order differs from JavaScript's default (UTF-16) order. */
async function unicodeFixture(): Promise<Fixture> {
  const root = tempDir('dsp-consumers-unicode-');
  const labels = ['Zebra', 'apple', 'émile', 'ｃars', '🚗'];
  const files: Record<string, Buffer> = {};
  let seed = 900;
  for (const l of labels) {
    for (const cat of ['training', 'testing']) for (let i = 0; i < 3; i++) files[`${cat}/${l}/${i}.png`] = await image(seed++, 'png');
  }
  const run = await syncFolder(root, files, { category: 'split', labelStrategy: 'infer-from-folder-name' });
  return {
    name: 'non-ASCII labels (code point order differs from UTF-16 order)',
    dataset: path.join(root, 'dataset'),
    runs: [run],
    mustReject: [],
    expectedLabels: labels,
    expectedUnlabeled: 0,
    expectedLabeled: labels.length * 6,
    expectedCategories: ['training', 'testing'],
  };
}

/** A class whose samples are all GIF: accepted by the checklist, read by Keras and Hugging Face. */
async function gifFixture(): Promise<Fixture> {
  const root = tempDir('dsp-consumers-gif-');
  const files: Record<string, Buffer> = {};
  let seed = 1300;
  for (const cat of ['training', 'testing']) {
    for (let i = 0; i < 3; i++) files[`${cat}/cars/${i}.png`] = await image(seed++, 'png');
    for (let i = 0; i < 3; i++) files[`${cat}/anim/${i}.gif`] = await image(seed++, 'gif');
  }
  const run = await syncFolder(root, files, { category: 'split', labelStrategy: 'infer-from-folder-name' });
  return {
    name: 'a GIF-only class',
    dataset: path.join(root, 'dataset'),
    runs: [run],
    mustReject: [],
    expectedLabels: ['anim', 'cars'],
    expectedUnlabeled: 0,
    expectedLabeled: 12,
    expectedCategories: ['training', 'testing'],
    torchvisionUnreadable: 'anim',
  };
}

/** The demo workspace (`make demo`'s sources and pipelines), synced with the engine. */
async function demoFixtures(): Promise<Fixture[]> {
  const root = tempDir('dsp-consumers-demo-');
  const out: Fixture[] = [];
  for (const file of generateDemo(root)) {
    const pipeline = loadPipelineFile(file);
    const run = await runPipeline(pipeline, { trigger: 'cli' });
    const body = JSON.parse(fs.readFileSync(file, 'utf8'));
    const src = path.join(root, body.steps[0].builtinTransformationBlock.path);
    const keys = listFiles(src);
    const unlabeled = keys.filter((k) => k.split('/').includes('unlabeled')).length;
    out.push({
      name: `demo ${path.basename(file)}`,
      dataset: path.join(root, body.dataset),
      runs: [run],
      mustReject: [],
      expectedLabels: pySorted(new Set(keys.filter((k) => !k.split('/').includes('unlabeled')).map((k) => k.split('/').filter((s) => !['training', 'testing', 'validation'].includes(s))[0]))),
      expectedUnlabeled: unlabeled,
      expectedLabeled: keys.length - unlabeled,
      expectedCategories: ['training', 'testing'],
    });
  }
  return out;
}

// ------------------------------------------------------------------------------------- checks

/** Image files of the dataset: everything but the engine's .dsp and the root index files. */
function datasetImages(dir: string): string[] {
  return listFiles(dir).filter((f) => !f.startsWith('.dsp/') && f !== 'info.labels' && f !== 'labels.txt');
}

function categoriesPresent(dir: string): string[] {
  return CATEGORIES.filter((c) => fs.statSync(path.join(dir, c), { throwIfNoEntry: false })?.isDirectory());
}

function checkRun(fx: Fixture): void {
  const run = fx.runs[fx.runs.length - 1];
  const problems = run.steps.flatMap((s) => s.problems);
  assert.ok(['success', 'partial'].includes(run.status), `run status ${run.status}: ${run.error ?? ''} ${JSON.stringify(run.steps.map((s) => s.errors))}`);
  for (const key of fx.mustReject) {
    const p = problems.find((x) => x.key === key || x.key.endsWith('/' + key));
    assert.ok(p, `${key} was not reported as a problem; problems: ${JSON.stringify(problems)}`);
    assert.match(p!.reason, /checklist/, `${key} reported, but not by the checklist: ${p!.reason}`);
  }
  assert.equal(run.counts.checklistFailed, fx.mustReject.length, `checklistFailed: ${JSON.stringify(problems)}`);
  const info = JSON.parse(fs.readFileSync(path.join(fx.dataset, 'info.labels'), 'utf8'));
  for (const key of fx.mustReject) {
    const listed = info.files.filter((f: any) => f.metadata?.key === key || String(f.metadata?.key ?? '').endsWith('/' + key));
    assert.deepEqual(listed, [], `${key} must not be in info.labels`);
    const base = path.posix.basename(key);
    const placed = datasetImages(fx.dataset).filter((f) => path.posix.basename(f) === base);
    assert.deepEqual(placed, [], `${key} must not be placed in the dataset`);
  }
  const labeled = info.files.filter((f: any) => f.label?.type === 'label').length;
  const unlabeled = info.files.filter((f: any) => f.label?.type === 'unlabeled').length;
  assert.equal(labeled, fx.expectedLabeled, 'labeled samples in info.labels');
  assert.equal(unlabeled, fx.expectedUnlabeled, 'unlabeled samples in info.labels');
  assert.deepEqual(categoriesPresent(fx.dataset), fx.expectedCategories, 'categories in the dataset');
  assert.deepEqual(readLabelsTxt(fx.dataset), pySorted(fx.expectedLabels), 'labels.txt: every label, sorted');
}

function checkTorchvision(fx: Fixture): void {
  const expect = Object.keys(fx.expectMissing ?? {}).flatMap((cat) => ['--expect-missing', `${cat}=${missingIn(fx, cat).join(',')}`]);
  const r = spawnSync(PYTHON, [torchvisionScript(), ...expect, fx.dataset], { encoding: 'utf8', timeout: 240_000 });
  if (r.error) throw new Error(`could not run ${PYTHON}: ${r.error.message} (install python3-torchvision python3-pil: scripts/test-consumers.sh does)`);
  if (r.status === 2) throw new Error(`torchvision is not importable by ${PYTHON}, so this consumer was NOT checked: ${r.stderr.trim()}`);
  if (fx.torchvisionUnreadable) {
    // The run said so before anyone trained: the warning is true, torchvision fails on that class.
    const label = fx.torchvisionUnreadable;
    const warned = fx.runs.some((run) => run.steps.some((st) => (st.warnings ?? []).some((w) => w.includes(`Label "${label}"`) && w.includes('torchvision'))));
    assert.ok(warned, `the run did not warn that torchvision cannot read label "${label}": ${JSON.stringify(fx.runs.map((run) => run.steps.map((st) => st.warnings)))}`);
    assert.notEqual(r.status, 0, 'torchvision read the class the run warned about');
    assert.match(r.stderr, new RegExp(`Found no valid file for the classes ${label}`));
    return;
  }
  assert.equal(r.status, 0, `torchvision ImageFolder/DataLoader failed on ${fx.dataset}:\n${r.stderr.trim()}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  const labels = readLabelsTxt(fx.dataset);
  const info = JSON.parse(fs.readFileSync(path.join(fx.dataset, 'info.labels'), 'utf8'));
  for (const cat of categoriesPresent(fx.dataset)) {
    const c = out.categories[cat];
    assert.ok(c, `torchvision output has no ${cat}`);
    assert.deepEqual(c.classes, labels.filter((l) => !missingIn(fx, cat).includes(l)));
    const inInfo = info.files.filter((f: any) => f.category === cat && f.label?.type === 'label').length;
    assert.equal(c.count, inInfo, `${cat}: samples decoded by torchvision vs labeled samples in info.labels`);
  }
}

function checkHuggingFace(fx: Fixture): void {
  const hf = hfImagefolder(fx.dataset);
  const labels = readLabelsTxt(fx.dataset);
  const present = categoriesPresent(fx.dataset);
  assert.equal(hf.why, 'split in dir name', `splits inferred from: ${hf.why}`);
  assert.deepEqual(Object.keys(hf.splits).sort(), present.map((c) => HF_SPLIT[c]).sort(), 'inferred splits');
  const seen = new Map<string, string>();
  for (const [split, files] of Object.entries(hf.splits)) {
    for (const f of files) {
      assert.ok(!seen.has(f), `${f} is in both ${seen.get(f)} and ${split}`);
      seen.set(f, split);
      assert.ok(!f.startsWith('.'), `${f}: a hidden file was picked up`);
    }
  }
  for (const cat of present) {
    const expected = listFiles(path.join(fx.dataset, cat)).map((f) => `${cat}/${f}`);
    assert.deepEqual(hf.splits[HF_SPLIT[cat]], expected, `split ${HF_SPLIT[cat]} must be exactly ${cat}/`);
  }
  assert.ok(hf.labels, `imagefolder adds no label column (labels found: ${JSON.stringify(labels)}; needs more than one label at one depth)`);
  assert.deepEqual(hf.labels, labels, 'ClassLabel names vs labels.txt');
  const unl = listFiles(fx.dataset).filter((f) => f.startsWith('.unlabeled/'));
  for (const u of unl) assert.ok(!seen.has(u), `unlabeled ${u} picked up`);
}

function checkKeras(fx: Fixture): void {
  const labels = readLabelsTxt(fx.dataset);
  for (const cat of categoriesPresent(fx.dataset)) {
    const k = kerasIndex(path.join(fx.dataset, cat));
    const missing = missingIn(fx, cat);
    assert.deepEqual(k.classNames, labels.filter((l) => !missing.includes(l)), `${cat}: inferred class_names vs labels.txt${missing.length ? ` without ${missing.join(', ')}` : ''}`);
    const empty = k.classNames.filter((c) => k.perClass[c].length === 0);
    assert.deepEqual(empty, [], `${cat}: classes with no image Keras reads`);
    assert.deepEqual(k.ignored, [], `${cat}: files Keras does not read`);
  }
}

function checkEdgeImpulse(fx: Fixture): void {
  const { problems, entries } = checkInfoLabels(fx.dataset, datasetImages(fx.dataset));
  assert.deepEqual(problems, [], 'info.labels as Edge Impulse reads it');
  for (const e of entries) {
    const parts = e.path.split('/');
    if (e.label.type === 'unlabeled') assert.deepEqual([parts[0], parts[1]], ['.unlabeled', e.category], `${e.path}: unlabeled path`);
    else assert.equal(parts[0], e.category, `${e.path}: category ${e.category} vs its folder`);
  }
}

// ------------------------------------------------------------------------------------- suite

const FIXTURES: [string, () => Promise<Fixture | Fixture[]>][] = [
  ['mixed', mixedFixture],
  ['file names', fileNameFixture],
  ['unicode', unicodeFixture],
  ['gif', gifFixture],
  ['demo', demoFixtures],
];

describe('real consumers: the synced dataset loads in torchvision, Hugging Face, Keras and Edge Impulse', function () {
  this.timeout(300_000);
  for (const [key, build] of FIXTURES) {
    describe(`fixture: ${key}`, () => {
      let fixtures: Fixture[] = [];
      before(async function () {
        const f = await build();
        fixtures = Array.isArray(f) ? f : [f];
      });
      const each = (what: string, check: (fx: Fixture) => void) =>
        it(what, () => {
          assert.ok(fixtures.length > 0, 'fixture was not built');
          const failures: string[] = [];
          for (const fx of fixtures) {
            try {
              check(fx);
            } catch (e) {
              failures.push(`[${fx.name}] ${(e as Error).message}`);
            }
          }
          if (failures.length) assert.fail(failures.join('\n\n'));
        });
      each('the run places good samples and rejects and reports truncated images', checkRun);
      each('torchvision ImageFolder + DataLoader decode every sample, classes == labels.txt', checkTorchvision);
      each('Hugging Face imagefolder: splits train/validation/test, ClassLabel == labels.txt', checkHuggingFace);
      each('Keras image_dataset_from_directory: class_names == labels.txt, no empty class', checkKeras);
      each('Edge Impulse info.labels: valid, every image listed once', checkEdgeImpulse);
    });
  }
});

// The rules themselves, on layouts whose outcome Hugging Face's and Keras' documentation states.
describe('real consumers: rule self-check', () => {
  const layout = (files: string[]) => {
    const dir = tempDir('dsp-consumers-rules-');
    writeFiles(dir, Object.fromEntries(files.map((f) => [f, 'x'])));
    return dir;
  };
  it('Hugging Face: split dirs win over split words in file names; hidden parts are ignored', () => {
    const hf = hfImagefolder(layout(['train/cat/test.1.png', 'train/dog/b.png', 'test/cat/c.png', 'test/dog/d.png', '.hidden/x.png', 'train/.x/e.png']));
    assert.equal(hf.why, 'split in dir name');
    assert.deepEqual(hf.splits, { train: ['train/cat/test.1.png', 'train/dog/b.png'], test: ['test/cat/c.png', 'test/dog/d.png'] });
    assert.deepEqual(hf.labels, ['cat', 'dog']);
  });
  it('Hugging Face: split words in file names, then everything is train; one label or mixed depths gives no label column', () => {
    const byName = hfImagefolder(layout(['cats.train.1.png', 'dogs_test_2.png', 'my-valid-3.png']));
    assert.equal(byName.why, 'split in file name');
    assert.deepEqual(byName.splits, { train: ['cats.train.1.png'], validation: ['my-valid-3.png'], test: ['dogs_test_2.png'] });
    const flat = hfImagefolder(layout(['cats/a.png', 'cats/b.png', 'x/y/c.png']));
    assert.equal(flat.why, 'everything is train');
    assert.equal(flat.labels, null);
  });
  it('Keras: hidden dirs are not classes, only bmp/gif/jpeg/jpg/png are read', () => {
    const k = kerasIndex(layout(['b/1.PNG', 'a/2.webp', 'a/sub/3.gif', '.unlabeled/4.png', 'top.png']));
    assert.deepEqual(k.classNames, ['a', 'b']);
    assert.deepEqual(k.perClass, { a: ['a/sub/3.gif'], b: ['b/1.PNG'] });
    assert.deepEqual(k.ignored, ['.unlabeled/4.png', 'a/2.webp', 'top.png']);
  });
  it('Python sort order is by code point', () => {
    assert.deepEqual(pySorted(['🚗', 'ｃ', 'b', 'B']), ['B', 'b', 'ｃ', '🚗']);
  });
});

// The README's PyTorch snippet, as a user copies it, on a dataset with a class too rare for validation.
describe('real consumers: the README snippets', function () {
  this.timeout(300_000);
  it("README's PyTorch snippet loads every category, indexed as labels.txt", async () => {
    const readme = fs.readFileSync(path.resolve(__dirname, '../../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('PyTorch (torchvision):'));
    const m = /```python\n([\s\S]*?)```/.exec(section);
    assert.ok(m, 'no python block after "PyTorch (torchvision):" in README.md');
    const fx = await mixedFixture();
    const check = `\nprint(__import__("json").dumps({"n": [len(train), len(val), len(test)], "classes": len(classes), "targets": sorted(set(int(y) for _, y in val) | set(int(y) for _, y in test) | set(int(y) for _, y in train))}))\n`;
    const r = spawnSync(PYTHON, ['-c', m[1] + check], { cwd: path.dirname(fx.dataset), encoding: 'utf8', timeout: 240_000 });
    if (r.status === 2 || /No module named 'torch/.test(r.stderr)) throw new Error(`torchvision is not importable by ${PYTHON}: ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const labels = readLabelsTxt(fx.dataset);
    assert.equal(out.classes, labels.length);
    assert.deepEqual(out.targets, labels.map((_, i) => i), 'every label index is used, as labels.txt numbers them');
    assert.equal(out.n[0] + out.n[1] + out.n[2], fx.expectedLabeled);
  });
});
