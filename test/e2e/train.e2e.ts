// Retrain, Compare versions and Restore version in a real VS Code (code-server 4.100.3): the
// "▶ Retrain" CodeLens runs the training command (the test trainer, test/support/testTrainer.ts),
// its metrics show in the Runs view beside the previous run's; versions are listed under the
// pipeline, "Compare with…" opens the report, and "Restore Version" asks first, then restores.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { listVersions } from '../../src/core/train/versions';
import { loadPipelineFile } from '../../src/core';
import { makePng } from '../../src/demo/images';
import { TEST_TRAINER_SCRIPT } from '../support/testTrainer';
import { waitFor } from '../support/waitFor';
import { clearNotifications, clickLens, openFile, POLL_MS, runCommand, screenshot, waitForNotification } from './harness';
import { snapshot } from '../unit/helpers';
import { useWorkbench } from './setup';

const QI = '.quick-input-widget';
const NAME = 'Train demo';

function png(seed: number): Buffer {
  return makePng(8, 8, (x, y) => [(x * 31 + seed * 17) % 256, (y * 29 + seed * 7) % 256, (seed * 53) % 256]);
}

function workspaceFiles(): Record<string, string | Buffer> {
  const files: Record<string, string | Buffer> = { 'test-trainer.js': TEST_TRAINER_SCRIPT };
  for (const label of ['cars', 'bikes']) for (let i = 0; i < 4; i++) files[`raw/${label}/${label}.${i}.png`] = png(label.length * 100 + i);
  files['train.pipeline.json'] =
    JSON.stringify(
      {
        name: NAME,
        steps: [
          { name: 'Fetch images', builtinTransformationBlock: { type: 'folder-to-project', path: './raw', labelStrategy: 'infer-from-folder-name', category: 'split' } },
          { name: 'Retrain', builtinTransformationBlock: { type: 'project-action', retrainModel: true, trainCommand: `"${process.execPath}" test-trainer.js`, env: { TRAINER_LOG: 'trainer-log.jsonl' }, createVersion: true, buildBinary: 'zip', buildBinaryModelType: 'int8' } },
        ],
      },
      null,
      2,
    ) + '\n';
  return files;
}

/** Picks the quick-pick row whose label starts with `label`, by filtering like a person. */
async function choose(p: Page, label: string): Promise<void> {
  await p.locator(`${QI} input.input`).waitFor({ state: 'visible', timeout: 30_000 });
  await p.locator(`${QI} input.input`).fill(label);
  await p.locator(`${QI} .monaco-list-row.focused .label-name`).filter({ hasText: label }).first().waitFor({ state: 'visible', timeout: 10_000 });
  await p.keyboard.press('Enter');
}

/** A row of the sidebar's Pipelines or Runs view, by its text. */
function treeRow(p: Page, view: 'Pipelines' | 'Runs', text: string | RegExp): Locator {
  const pane = p.locator('.part.sidebar .pane').filter({ has: p.locator('.pane-header').filter({ hasText: new RegExp(`^\\s*${view}`, 'i') }) });
  return pane.locator('.monaco-list-row').filter({ hasText: text }).first();
}

/** Clicks an inline action of a tree row (shown on hover), by its title. */
async function inlineAction(p: Page, row: Locator, title: string): Promise<void> {
  await row.hover();
  const action = row.locator(`.actions .action-label[aria-label^="${title}"]`).first();
  await action.waitFor({ state: 'visible', timeout: 10_000 });
  await action.click();
}

describe('training e2e: Retrain, Compare versions, Restore version', function () {
  this.timeout(300_000);
  const vsc = useWorkbench(this, {
    name: 'train',
    workspaceFiles: workspaceFiles(),
    settings: { 'dataPipelines.api.port': 0, 'dataPipelines.schedule.enabled': false },
  });
  const page = (): Page => vsc.page;
  const file = () => path.join(vsc.workspace, 'train.pipeline.json');

  let v1Files: Record<string, string> = {};

  it('"▶ Retrain" runs the training command; the metrics show in the Runs view beside the previous run', async function () {
    const p = page();
    await openFile(p, 'train.pipeline.json');
    await clickLens(p, '▶ Run pipeline');
    await waitForNotification(p, /Train demo: success .*validation\.accuracy 0\.625/, 120_000);
    const datasetDir = loadPipelineFile(file()).datasetDir;
    v1Files = snapshot(datasetDir);
    // New data arrives; the next run syncs it, retrains and keeps v2.
    fs.writeFileSync(path.join(vsc.workspace, 'raw', 'cars', 'cars.9.png'), png(999));
    await clearNotifications(p);
    await clickLens(p, '▶ Run pipeline');
    await waitForNotification(p, /Train demo: success .*1 new.*validation\.accuracy 0\.75 \(was 0\.625, \+0\.125\)/, 120_000);
    await clearNotifications(p);
    // The step's own lens: retrain (and version and zip) without syncing.
    await clickLens(p, '▶ Retrain');
    await waitForNotification(p, /Train demo: success .*validation\.accuracy 0\.875 \(was 0\.75, \+0\.125\)/, 120_000);
    await screenshot(p, 'train-retrain-notification');
    await runCommand(p, 'Data Pipelines: Focus on Runs View');
    const run = treeRow(p, 'Runs', NAME);
    await run.waitFor({ state: 'visible', timeout: 30_000 });
    await run.locator('.monaco-tl-twistie').click();
    const retrain = treeRow(p, 'Runs', /Retrain.*validation\.accuracy 0\.875/);
    await retrain.waitFor({ state: 'visible', timeout: 30_000 });
    await retrain.locator('.monaco-tl-twistie').click();
    await treeRow(p, 'Runs', 'validation.loss 0.3333 (was 0.5, -0.1667)').waitFor({ state: 'visible', timeout: 30_000 });
    await screenshot(p, 'train-runs-view-metrics');
    assert.deepEqual(listVersions(datasetDir).map((v) => v.counts.total), [8, 9, 9]);
  });

  it('versions are listed under the pipeline; "Compare with…" opens the report of the two', async function () {
    const p = page();
    await runCommand(p, 'Data Pipelines: Focus on Pipelines View');
    const versions = treeRow(p, 'Pipelines', /^Versions/);
    await versions.waitFor({ state: 'visible', timeout: 60_000 });
    await versions.click();
    const v3 = treeRow(p, 'Pipelines', /^v3/);
    await v3.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match((await v3.textContent()) ?? '', /9 samples · accuracy 0\.875/);
    await screenshot(p, 'train-versions-tree');
    await inlineAction(p, v3, 'Compare with');
    await choose(p, 'v1');
    const frame = p.frameLocator('iframe.webview.ready').last().frameLocator('#active-frame');
    await waitFor(async () => (await frame.locator('body').textContent({ timeout: 2_000 }).catch(() => ''))?.includes('v1 compared with v3'), 'the comparison report', 30_000, POLL_MS);
    const body = (await frame.locator('body').textContent()) ?? '';
    assert.match(body, /1 added, 0 removed, 0 relabeled/);
    assert.match(body, /cars\.9\.png/);
    assert.match(body, /validation\.accuracy/);
    await screenshot(p, 'train-compare-versions');
    await runCommand(p, 'View: Close All Editors');
  });

  it('"Restore Version" asks first; cancelling changes nothing; restoring keeps the current dataset as a new version', async function () {
    const p = page();
    const datasetDir = loadPipelineFile(file()).datasetDir;
    const v1 = treeRow(p, 'Pipelines', /^v1/);
    await v1.waitFor({ state: 'visible', timeout: 30_000 });
    await inlineAction(p, v1, 'Restore Version');
    const dialog = p.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match((await dialog.textContent()) ?? '', /Restore v1 .*kept as a new version first/s);
    await screenshot(p, 'train-restore-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
    assert.equal(listVersions(datasetDir).length, 3, 'cancel restores nothing');

    await inlineAction(p, v1, 'Restore Version');
    await dialog.waitFor({ state: 'visible', timeout: 30_000 });
    await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
    await waitForNotification(p, /The dataset is now v1 .*kept as v4/, 60_000);
    await treeRow(p, 'Pipelines', /^v4/).waitFor({ state: 'visible', timeout: 30_000 });
    await screenshot(p, 'train-restored');
    assert.deepEqual(listVersions(datasetDir).map((v) => v.id), ['v1', 'v2', 'v3', 'v4']);
    assert.deepEqual(snapshot(datasetDir), v1Files, 'the dataset is v1 again: without cars.9.png');
  });
});
