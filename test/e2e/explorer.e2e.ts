// The Data Explorer in a real VS Code (code-server 4.100.3): it opens from the CodeLens on a
// refreshDataExplorer step and shows every sample; a person clicks an unlabeled sample on the
// map, gives it a label, and the file moves; the next run keeps that label. Screenshots in
// test-results/e2e.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { loadPipelineFile } from '../../src/core';
import { makePng } from '../../src/demo/images';
import { waitFor } from '../support/waitFor';
import { clearNotifications, clickLens, openFile, POLL_MS, screenshot, waitForNotification } from './harness';
import { useWorkbench } from './setup';

const NAME = 'Explore demo';

function png(seed: number, base: [number, number, number]): Buffer {
  return makePng(12, 12, (x, y) => [(base[0] + seed * 3 + x) % 256, (base[1] + y * 2) % 256, (base[2] + seed) % 256]);
}

function workspaceFiles(): Record<string, string | Buffer> {
  const files: Record<string, string | Buffer> = {};
  for (let i = 0; i < 8; i++) files[`raw/cars/car-${i}.png`] = png(i, [200, 30, 30]);
  for (let i = 0; i < 8; i++) files[`raw/bikes/bike-${i}.png`] = png(i, [30, 30, 200]);
  files['raw/unlabeled/mystery.png'] = png(50, [30, 30, 200]);
  files['explore.pipeline.json'] =
    JSON.stringify(
      {
        name: NAME,
        steps: [
          { name: 'Fetch images', builtinTransformationBlock: { type: 'folder-to-project', path: './raw', labelStrategy: 'infer-from-folder-name', category: 'training' } },
          { name: 'Refresh data explorer', builtinTransformationBlock: { type: 'project-action', refreshDataExplorer: true } },
        ],
      },
      null,
      2,
    ) + '\n';
  return files;
}

function explorerFrame(p: Page): FrameLocator {
  return p.frameLocator('iframe.webview.ready').last().frameLocator('#active-frame');
}

interface Doc {
  points: { path: string; x: number; y: number; label: string | null }[];
}

describe('data explorer e2e', function () {
  this.timeout(300_000);
  const vsc = useWorkbench(this, { name: 'explorer', workspaceFiles: workspaceFiles(), settings: { 'dataPipelines.api.port': 0, 'dataPipelines.schedule.enabled': false } });
  const page = (): Page => vsc.page;
  const datasetDir = () => loadPipelineFile(path.join(vsc.workspace, 'explore.pipeline.json')).datasetDir;

  it('opens from the CodeLens and shows every sample; clicking the unlabeled one and assigning a label moves its file', async function () {
    const p = page();
    await openFile(p, 'explore.pipeline.json');
    await clickLens(p, '▶ Run pipeline');
    await waitForNotification(p, /Explore demo: success/, 120_000);
    await clickLens(p, 'Open data explorer');
    const frame = explorerFrame(p);
    await waitFor(async () => /17 samples/.test((await frame.locator('#subtitle').textContent({ timeout: 2_000 }).catch(() => '')) ?? ''), 'the explorer with 17 samples', 60_000, POLL_MS);
    await waitFor(async () => Number((await frame.locator('#map').getAttribute('data-paints', { timeout: 2_000 }).catch(() => '0')) ?? 0) > 0, 'the map painted', 30_000, POLL_MS);
    await screenshot(p, 'explorer-map');

    // Where the unlabeled sample is on screen: its map position through the page's view transform.
    const doc = JSON.parse(fs.readFileSync(path.join(datasetDir(), '.dsp', 'explorer.json'), 'utf8')) as Doc;
    const mystery = doc.points.find((x) => x.label === null)!;
    assert.ok(mystery.path.includes('mystery.png'), JSON.stringify(mystery));
    const v = JSON.parse((await frame.locator('#map').getAttribute('data-view'))!) as { pad: number; w: number; h: number; scale: number; tx: number; ty: number };
    const box = (await frame.locator('#map').boundingBox())!;
    const sx = (v.pad + mystery.x * (v.w - 2 * v.pad)) * v.scale + v.tx;
    const sy = (v.pad + mystery.y * (v.h - 2 * v.pad)) * v.scale + v.ty;
    await p.mouse.move(box.x + sx, box.y + sy);
    await frame.locator('#tip-path').filter({ hasText: 'mystery.png' }).waitFor({ state: 'visible', timeout: 10_000 });
    await screenshot(p, 'explorer-hover');
    await p.mouse.click(box.x + sx, box.y + sy);
    await frame.locator('#selected-count').filter({ hasText: '1 selected' }).waitFor({ timeout: 10_000 });
    await frame.locator('#label-input input').fill('bikes');
    await frame.locator('#assign').click();
    await frame.locator('#message').filter({ hasText: '1 sample labeled "bikes"' }).waitFor({ timeout: 30_000 });
    await screenshot(p, 'explorer-labeled');
    const moved = path.join(datasetDir(), 'training', 'bikes', 'mystery.png');
    assert.ok(fs.existsSync(moved), `${moved} exists`);
    const info = JSON.parse(fs.readFileSync(path.join(datasetDir(), 'info.labels'), 'utf8')) as { files: { path: string; label: { type: string; label?: string } }[] };
    assert.deepEqual(info.files.find((f) => f.path.endsWith('mystery.png'))?.label, { type: 'label', label: 'bikes' });
  });

  it('the next run keeps the label a person gave', async function () {
    const p = page();
    await openFile(p, 'explore.pipeline.json');
    await clearNotifications(p);
    await clickLens(p, '▶ Run pipeline');
    await waitForNotification(p, /Explore demo: success/, 120_000);
    assert.ok(fs.existsSync(path.join(datasetDir(), 'training', 'bikes', 'mystery.png')));
    assert.ok(!fs.existsSync(path.join(datasetDir(), 'training', 'unlabeled', 'mystery.png')) && !fs.readdirSync(datasetDir(), { recursive: true }).some((f) => String(f).includes('unlabeled') && String(f).endsWith('mystery.png')));
    await screenshot(p, 'explorer-after-rerun');
  });
});
