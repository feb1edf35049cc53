// The data explorer end to end through the engine: a folder of generated images with planted
// problems (a leaked near-copy across training/testing, a near-duplicate, a red image in the blue
// folder, an odd-sized image, a rare label, a broken file), the map from image features and from a
// training's embeddings, determinism, the email's map attachment and `explore --json`.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadPipelineFile, runPipeline, readExplorer, explorerFiles, type ExplorerDoc, type RunRecord } from '../../src/core';
import { buildExplorer } from '../../src/core/explorer/explorer';
import { seeded } from '../../src/core/explorer/map';
import { SyncState } from '../../src/core/dataset/state';
import { sendEmail } from '../../src/core/notify/email';
import { runReport } from '../../src/core/notify/report';
import { makePng } from '../../src/demo/images';
import { explore } from '../../src/cli/commands/explore';
import { parseArgs } from '../../src/cli/args';
import { smtp } from '../support/peers';
import { snapshot, tempDir, writeFiles, writePipeline } from './helpers';

type RGB = [number, number, number];
const RED: RGB = [200, 50, 50];
const BLUE: RGB = [50, 50, 200];
const GREEN: RGB = [50, 200, 50];

/** A colour with a seeded 8×8 block texture of brightness (so every image has its own dHash); `flip` changes one pixel. */
function image(seed: number, base: RGB, o: { w?: number; h?: number; flip?: boolean } = {}): Buffer {
  const [w, h] = [o.w ?? 32, o.h ?? 32];
  const rnd = seeded(seed);
  const blocks = Array.from({ length: 64 }, () => Math.round(rnd() * 70 - 35));
  return makePng(w, h, (x, y) => {
    const b = blocks[Math.floor((y * 8) / h) * 8 + Math.floor((x * 8) / w)];
    const px = base.map((c) => Math.max(0, Math.min(255, c + b))) as RGB;
    return o.flip && x === 5 && y === 5 ? (px.map((c) => 255 - c) as RGB) : px;
  });
}

function plantedDataset(): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < 12; i++) files[`training/red/r${i}.png`] = image(100 + i, RED);
  for (let i = 0; i < 12; i++) files[`training/blue/b${i}.png`] = image(200 + i, BLUE);
  for (let i = 0; i < 4; i++) files[`testing/red/t${i}.png`] = image(300 + i, RED);
  for (let i = 0; i < 4; i++) files[`testing/blue/u${i}.png`] = image(400 + i, BLUE);
  files['testing/red/leak.png'] = image(100, RED, { flip: true }); // training/red/r0.png, one pixel changed
  files['training/blue/b0-copy.png'] = image(200, BLUE, { flip: true }); // training/blue/b0.png, one pixel changed
  files['training/blue/wrong.png'] = image(999, RED); // looks red, filed as blue
  files['training/red/wide.png'] = image(555, RED, { w: 128, h: 16 });
  files['training/green/g0.png'] = image(600, GREEN);
  files['training/green/g1.png'] = image(601, GREEN);
  return files;
}

/** A training command that writes a model and one 4-dimensional embedding per image, by its label folder. */
const TRAINER = String.raw`
const fs = require('fs'), path = require('path');
const e = process.env, out = [];
const walk = (rel) => { for (const d of fs.readdirSync(path.join(e.DATASET_DIR, rel), { withFileTypes: true })) {
  const r = rel ? rel + '/' + d.name : d.name;
  if (d.isDirectory()) { if (r !== '.dsp') walk(r); } else if (r.endsWith('.png')) out.push(r);
} };
walk('');
const axis = { red: 0, blue: 1, green: 2 };
fs.writeFileSync(path.join(e.MODEL_DIR, 'model.bin'), 'model');
fs.writeFileSync(e.METRICS_FILE, JSON.stringify({ validation: { accuracy: 0.9 } }));
fs.writeFileSync(e.EMBEDDINGS_FILE, out.map((p, i) => { const v = [0, 0, 0, (i % 7) / 10]; v[axis[p.split('/')[1]] ?? 0] = 1; return JSON.stringify({ path: p, vector: v }); }).join('\n') + '\n');
`;

function pipeline(dir: string, steps: object[]): string {
  writeFiles(path.join(dir, 'src'), plantedDataset());
  return writePipeline(dir, { name: 'Explore', steps: [{ name: 'import', builtinTransformationBlock: { type: 'folder-to-project', path: 'src' } }, ...steps] });
}

const refresh = { name: 'refresh', builtinTransformationBlock: { type: 'project-action', refreshDataExplorer: true } };
const run = (file: string) => runPipeline(loadPipelineFile(file), { trigger: 'cli' });
const withFinding = (doc: ExplorerDoc, f: string) => doc.points.filter((p) => p.findings.includes(f)).map((p) => p.path).sort();

describe('data explorer', function () {
  let dir: string;
  let file: string;
  let first: RunRecord;
  let doc: ExplorerDoc;

  before(async () => {
    dir = tempDir('dsp-explorer-');
    file = pipeline(dir, [refresh]);
    first = await run(file);
    assert.equal(first.status, 'success', JSON.stringify(first.steps.map((s) => [s.name, s.status, s.errors, s.warnings])));
    doc = readExplorer(path.join(dir, 'dataset'))!;
    assert.ok(doc, 'explorer.json is written');
  });

  it('maps every decodable sample from image features into [0, 1]', () => {
    assert.equal(doc.version, 1);
    assert.equal(doc.runId, first.id);
    assert.equal(doc.total, 38, 'the counts refreshExplorer always wrote are kept');
    assert.equal(doc.embedding.kind, 'image-features');
    assert.ok(doc.embedding.dims > 0);
    assert.equal(doc.points.length, 38);
    for (const p of doc.points) {
      assert.ok(p.x >= 0 && p.x <= 1 && p.y >= 0 && p.y <= 1, `${p.path}: ${p.x},${p.y}`);
      assert.equal(p.label, p.path.split('/')[1]);
      assert.equal(p.category, p.path.split('/')[0]);
      assert.equal(typeof p.source, 'string');
      assert.ok(p.key.endsWith(path.basename(p.path)));
    }
    const step = first.steps.find((s) => s.name === 'refresh')!;
    assert.match(step.message ?? '', /data explorer refreshed: 38 samples, map from image features; /);
    assert.equal(step.artifacts?.explorer, explorerFiles(path.join(dir, 'dataset')).png);
    const png = fs.readFileSync(explorerFiles(path.join(dir, 'dataset')).png);
    assert.equal(png.readUInt32BE(0), 0x89504e47);
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [800, 600]);
  });

  it('names exactly the planted samples', () => {
    const q = doc.quality;
    assert.deepEqual(q.leakage.map((l) => [...l.samples].sort()), [['testing/red/leak.png', 'training/red/r0.png']]);
    assert.ok(q.leakage[0].distance <= 5);
    assert.deepEqual(q.nearDuplicates.map((l) => [...l.samples].sort()), [['training/blue/b0-copy.png', 'training/blue/b0.png']]);
    assert.deepEqual(q.mislabeled.map((m) => [m.sample, m.label, m.suggested]), [['training/blue/wrong.png', 'blue', 'red']]);
    assert.ok(q.mislabeled[0].agreement >= 0.7);
    assert.deepEqual(q.imbalance, [{ category: 'training', label: 'green', count: 2, largest: 14 }]);
    assert.deepEqual(q.unusualSize, [{ sample: 'training/red/wide.png', width: 128, height: 16 }]);
    assert.deepEqual(q.undecodable, []);
    assert.deepEqual(withFinding(doc, 'leakage'), ['testing/red/leak.png', 'training/red/r0.png']);
    assert.deepEqual(withFinding(doc, 'near-duplicate'), ['training/blue/b0-copy.png', 'training/blue/b0.png']);
    assert.deepEqual(withFinding(doc, 'mislabeled'), ['training/blue/wrong.png']);
    assert.deepEqual(withFinding(doc, 'unusual-size'), ['training/red/wide.png']);
    assert.deepEqual(q.counts, { leakage: 2, 'near-duplicate': 2, mislabeled: 1, imbalance: 2, 'unusual-size': 1, undecodable: 0 });
    assert.deepEqual(runReport(first).quality, q.counts, 'the report (and so the webhook payload) carries the counts');
  });

  it('gives the same map for unchanged data, and moves nothing in the dataset', async () => {
    const before = snapshot(path.join(dir, 'dataset'));
    const again = await run(file);
    assert.equal(again.counts.new, 0);
    const doc2 = readExplorer(path.join(dir, 'dataset'))!;
    assert.notEqual(doc2.runId, doc.runId);
    assert.deepEqual(doc2.points, doc.points);
    assert.deepEqual(snapshot(path.join(dir, 'dataset')), before);
  });

  it('emails the map with a run that brought new data', async () => {
    const peer = await smtp();
    try {
      const r = await sendEmail({ host: '127.0.0.1', port: peer.port, secure: false, from: 'dsp@localhost' }, ['team@example.com'], first);
      assert.ok(r.ok, r.detail);
      const mail = peer.mails[0].data;
      assert.match(mail, /filename=data-explorer\.png/);
      assert.match(mail, /Content-Type: image\/png/i);
      assert.match(mail, /cid:data-explorer-map/);
      assert.match(mail, /Data quality: 2 leakage/);
      const quiet = await sendEmail({ host: '127.0.0.1', port: peer.port, secure: false, from: 'dsp@localhost' }, ['team@example.com'], { ...first, counts: { ...first.counts, new: 0 } });
      assert.ok(quiet.ok);
      assert.doesNotMatch(peer.mails[1].data, /data-explorer\.png/, 'no new data, no map');
    } finally {
      await peer.close();
    }
  });

  it('explore --json prints one document of points and findings', async () => {
    let printed = '';
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => ((printed += s), true)) as typeof process.stdout.write;
    const outPng = path.join(dir, 'out', 'map.png');
    let code: number;
    try {
      code = await explore({ args: parseArgs(['explore', file, '--json', '--png', outPng]), logger: { info() {}, warn() {}, error() {}, debug() {} }, signal: new AbortController().signal });
    } finally {
      process.stdout.write = write;
    }
    assert.equal(code, 0);
    const j = JSON.parse(printed) as { points: Record<string, unknown>[]; quality: ExplorerDoc['quality'] };
    assert.deepEqual(Object.keys(j).sort(), ['points', 'quality']);
    assert.equal(j.points.length, 38);
    assert.deepEqual(Object.keys(j.points[0]).sort(), ['category', 'label', 'path', 'x', 'y']);
    assert.deepEqual(j.quality.counts, doc.quality.counts);
    assert.deepEqual(j.points.map((p) => [p.x, p.y]), doc.points.map((p) => [p.x, p.y]), 'the same map as the run made');
    assert.equal(fs.readFileSync(outPng).readUInt32BE(0), 0x89504e47);
  });

  it('a sample that no longer decodes gets a finding and no point (last: it breaks a file)', async () => {
    const datasetDir = path.join(dir, 'dataset');
    const broken = Buffer.from(image(205, BLUE));
    broken.fill(0xff, 45, broken.length - 20); // every chunk in place, the compressed pixels garbage
    fs.writeFileSync(path.join(datasetDir, 'training/blue/b5.png'), broken);
    const d = await buildExplorer(datasetDir, SyncState.load(datasetDir), { runId: 'manual' });
    assert.deepEqual(d.quality.undecodable, ['training/blue/b5.png']);
    assert.equal(d.quality.counts.undecodable, 1);
    assert.equal(d.points.length, 37);
    assert.ok(!d.points.some((p) => p.path === 'training/blue/b5.png'));
    assert.equal(d.total, 38);
  });

  it("uses the last training's embeddings when they cover every sample", async () => {
    const d = tempDir('dsp-explorer-train-');
    fs.writeFileSync(path.join(d, 'trainer.js'), TRAINER);
    const f = pipeline(d, [{ name: 'retrain', builtinTransformationBlock: { type: 'project-action', retrainModel: true, trainCommand: `"${process.execPath}" trainer.js` } }, refresh]);
    const r = await run(f);
    assert.equal(r.status, 'success', JSON.stringify(r.steps.map((s) => [s.name, s.status, s.errors, s.warnings])));
    const e = readExplorer(path.join(d, 'dataset'))!;
    assert.deepEqual(e.embedding, { kind: 'training', runId: r.id, dims: 4 });
    assert.equal(e.points.length, 38);
    assert.match(r.steps.find((s) => s.name === 'refresh')!.message ?? '', new RegExp(`map from training embeddings of run ${r.id}`));
    assert.deepEqual(withFinding(e, 'leakage'), ['testing/red/leak.png', 'training/red/r0.png'], 'the hashes still come from the images');
  });
});
