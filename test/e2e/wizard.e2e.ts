// "Add data source…" clicked through like a person in a real VS Code (code-server + Chromium):
// from a workspace with no pipeline file to a synced dataset without typing JSON, for a local
// folder and for an S3-compatible store (a real Ceph RGW when S3_ENDPOINT is set), plus the
// literal-secret quick fix from the lightbulb. Screenshots go to test-results/e2e/wizard-*.png.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { loadPipelineFile } from '../../src/core';
import type { InfoLabelsFile } from '../../src/core/dataset/infoLabels';
import { makePng } from '../../src/demo/images';
import { waitFor } from '../support/waitFor';
import { clickLens, POLL_MS, S3_ENV, seedBucket, openFile, runCommand, screenshot, waitForNotification } from './harness';
import { useWorkbench } from './setup';

const S3 = S3_ENV;
const BUCKET = 'e2e-wizard';
const S3_KEYS = ['animals/cats/c1.png', 'animals/cats/c2.png', 'animals/dogs/d1.png', 'animals/dogs/d2.png', 'animals/dogs/d3.png'];

const QI = '.quick-input-widget';

/** A small real PNG, different per seed (the dataset de-duplicates identical content). */
function png(seed: number): Buffer {
  return makePng(8, 8, (x, y) => [(x * 31 + seed * 17) % 256, (y * 29 + seed * 7) % 256, (seed * 53) % 256]);
}

/** The wizard's steps share one quick-input widget: wait until it shows the step with this title. */
async function waitForStep(p: Page, title: string): Promise<void> {
  try {
    await p.locator(`${QI} .quick-input-title`).filter({ hasText: title }).first().waitFor({ state: 'visible', timeout: 60_000 });
  } catch (err) {
    // Say where the wizard is instead (e.g. a value the previous step rejected).
    const shown = await p.locator(QI).filter({ visible: true }).textContent({ timeout: 1_000 }).catch(() => '(no quick input)');
    throw new Error(`The step "${title}" did not show up. Quick input shows: ${shown}\n${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}

/** Types into an InputBox step (or keeps its proposed value) and accepts it. */
async function answer(p: Page, title: string, value?: string, shot?: string): Promise<void> {
  await waitForStep(p, title);
  if (value !== undefined) await p.locator(`${QI} input.input`).fill(value);
  if (shot) await screenshot(p, shot);
  // A value the step's validation rejects keeps the step open: the next waitForStep reports it.
  await p.keyboard.press('Enter');
}

/** Picks the row whose label contains `label` in a QuickPick step, by filtering like a person. */
async function choose(p: Page, title: string, label: string, shot?: string): Promise<void> {
  await waitForStep(p, title);
  await p.locator(`${QI} input.input`).fill(label);
  await p.locator(`${QI} .monaco-list-row.focused .label-name`).filter({ hasText: label }).first().waitFor({ state: 'visible', timeout: 10_000 });
  if (shot) await screenshot(p, shot);
  await p.keyboard.press('Enter');
}

/** The multi-select post-sync step: check the wanted rows (and only those), then OK. */
async function chooseMany(p: Page, title: string, labels: string[], shot?: string): Promise<void> {
  await waitForStep(p, title);
  const rows = p.locator(`${QI} .monaco-list-row`);
  await rows.first().waitFor({ state: 'visible' });
  for (const row of await rows.all()) {
    const name = ((await row.locator('.label-name').textContent()) ?? '').trim();
    const want = labels.includes(name);
    if (((await row.getAttribute('aria-checked')) === 'true') !== want) {
      await row.locator('.quick-input-list-label').click();
      await waitFor(async () => ((await row.getAttribute('aria-checked')) === 'true') === want, `"${name}" ${want ? 'checked' : 'unchecked'}`, 5_000, POLL_MS);
    }
  }
  if (shot) await screenshot(p, shot);
  await p.locator(QI).getByRole('button', { name: 'OK', exact: true }).click();
}

/** File name → label in info.labels, for the samples whose source key matches (pipelines of one workspace share its dataset). */
function readInfoLabels(datasetDir: string, fromKey: (key: string) => boolean = () => true): Map<string, string> {
  const info = JSON.parse(readFileSync(path.join(datasetDir, 'info.labels'), 'utf8')) as InfoLabelsFile;
  return new Map(info.files.filter((f) => fromKey(f.metadata.key ?? '')).map((f) => [path.basename(f.path), f.label.type === 'label' ? f.label.label : '(unlabeled)']));
}

describe('"Add data source…" wizard and secret quick fix (real VS Code)', function () {
  this.timeout(300_000);
  // No pipeline file: only a folder of images in class folders. (A failed step can leave a quick
  // input open: useWorkbench presses Escape after a failed test so the next one starts clean.)
  const photos: Record<string, Buffer> = {};
  let seed = 0;
  for (const [label, n] of [['cats', 3], ['dogs', 2], ['birds', 2]] as const) {
    for (let i = 0; i < n; i++) photos[`photos/${label}/${label}-${i}.png`] = png(seed++);
  }
  const vsc = useWorkbench(this, { name: 'wizard', workspaceFiles: photos, settings: { 'dataPipelines.api.port': 0, 'dataPipelines.schedule.enabled': false } });
  const page = (): Page => vsc.page;

  it('goes from "Add Data Source…" to a synced folder dataset without typing JSON', async function () {
    const p = page();
    await runCommand(p, 'Data Pipelines: Add Data Source…');
    await answer(p, 'new pipeline file', 'photos.pipeline.json');
    await answer(p, 'pipeline name', 'Photo classes');
    await choose(p, 'storage', 'Local folder', 'wizard-1-storage');
    await answer(p, 'folder', './photos', 'wizard-2-folder');
    // The wizard checks the folder before going on, and says what it found.
    await waitForNotification(p, /✓ \.\/photos: /, 60_000);
    await choose(p, 'labels', 'Infer from folder name', 'wizard-3-labels');
    await choose(p, 'category', 'Training');
    await chooseMany(p, 'post-sync actions', ['Refresh data explorer'], 'wizard-4-actions');
    await answer(p, 'step name', 'Fetch photos');

    const file = path.join(vsc.workspace, 'photos.pipeline.json');
    const added = await waitForNotification(p, /Added "Fetch photos"/, 30_000);
    // Opened pinned (not in italics as a preview tab the next file would replace).
    const tab = p.locator('.tabs-container .tab.active').filter({ hasText: /^photos\.pipeline\.json/ });
    await tab.waitFor({ state: 'visible' });
    assert.ok(!(await tab.getAttribute('class'))?.includes('preview'), 'the new pipeline opens in a pinned tab');
    await screenshot(p, 'wizard-5-pipeline-written');
    const json = JSON.parse(await fs.readFile(file, 'utf8')) as { name: string; steps: { name: string; builtinTransformationBlock: Record<string, unknown> }[] };
    assert.equal(json.name, 'Photo classes');
    assert.deepEqual(json.steps[0], { name: 'Fetch photos', builtinTransformationBlock: { type: 'folder-to-project', path: './photos', labelStrategy: 'infer-from-folder-name', category: 'training' } });
    assert.deepEqual(json.steps[1].builtinTransformationBlock, { type: 'project-action', refreshDataExplorer: true });
    // No problems in the written file.
    await p.locator('.editor-group-container.active .codelens-decoration a').filter({ hasText: '▶ Run pipeline' }).first().waitFor({ state: 'visible', timeout: 60_000 });
    assert.equal(await p.locator('.editor-group-container.active .squiggly-error').count(), 0, 'the written pipeline has no errors');

    // Run it from the notification's own button, as a person would.
    await added.getByRole('button', { name: 'Run Pipeline' }).click();
    await waitForNotification(p, /Photo classes: success/, 120_000);
    await p.locator('.notification-toast').filter({ hasText: 'Running Photo classes' }).waitFor({ state: 'hidden', timeout: 30_000 });
    await screenshot(p, 'wizard-6-synced');
    const datasetDir = loadPipelineFile(file).datasetDir;
    const labels = readInfoLabels(datasetDir);
    assert.deepEqual(
      [...labels].sort(),
      [['birds-0.png', 'birds'], ['birds-1.png', 'birds'], ['cats-0.png', 'cats'], ['cats-1.png', 'cats'], ['cats-2.png', 'cats'], ['dogs-0.png', 'dogs'], ['dogs-1.png', 'dogs']],
    );
    for (const [name, label] of labels) assert.ok(existsSync(path.join(datasetDir, 'training', label, name)), `${name} is in training/${label}`);
    await runCommand(p, 'View: Close All Editors');
  });

  it('restores the preview webview after a window reload', async function () {
    const p = page();
    const frame = () => p.frameLocator('iframe.webview.ready').last().frameLocator('#active-frame');
    await openFile(p, 'photos.pipeline.json');
    await clickLens(p, 'Preview labels & split');
    await frame().locator('#total-objects').filter({ hasText: '7' }).waitFor({ state: 'visible', timeout: 60_000 });
    await runCommand(p, 'Developer: Reload Window');
    await p.locator('.monaco-workbench').first().waitFor({ state: 'visible', timeout: 90_000 });
    // The serializer reopens the panel and previews the same pipeline again.
    await p.locator('.tabs-container .tab').filter({ hasText: 'Preview: photos.pipeline.json' }).first().waitFor({ state: 'visible', timeout: 60_000 });
    await frame().locator('#total-objects').filter({ hasText: '7' }).waitFor({ state: 'visible', timeout: 60_000 });
    await p.locator('.notification-toast').filter({ hasText: 'Previewing' }).waitFor({ state: 'hidden', timeout: 30_000 });
    await screenshot(p, 'wizard-preview-restored-after-reload');
    await runCommand(p, 'View: Close All Editors');
  });

  describe('S3-compatible store (real S3 server)', function () {
    before(async function () {
      if (!S3) {
        console.warn('S3_ENDPOINT is not set (run through scripts/test-e2e.sh): skipping the S3 wizard tests');
        this.skip();
      }
      let seed = 100;
      await seedBucket(BUCKET, Object.fromEntries(S3_KEYS.map((k) => [k, png(seed++)])));
    });

    it('walks through S3-compatible, verifies the keys, writes ${secret:…} and syncs', async function () {
      const p = page();
      const s3 = S3!;
      await runCommand(p, 'Data Pipelines: Add Data Source…');
      // A pipeline exists now: the wizard asks which file gets the step.
      await choose(p, 'pipeline file', 'New pipeline file…');
      await answer(p, 'new pipeline file', 'bucket.pipeline.json');
      await answer(p, 'pipeline name', 'Bucket animals');
      await choose(p, 'storage', 'S3-compatible');
      await answer(p, 'location', `s3://${BUCKET}/animals/`);
      await answer(p, 'endpoint', s3.endpoint);
      await answer(p, 'region', s3.region);
      await answer(p, 'access key', s3.accessKey);
      await waitForStep(p, 'secret key');
      assert.equal(await p.locator(`${QI} input.input`).getAttribute('type'), 'password', 'the secret key box hides what is typed');
      await answer(p, 'secret key', s3.secretKey, 'wizard-s3-1-secret-key');
      await answer(p, 'secret name', 'WIZARD_S3_SECRET');
      const verified = await waitForNotification(p, /✓ s3:\/\/e2e-wizard\/animals\/: /, 60_000);
      assert.match((await verified.textContent()) ?? '', /c1\.png|d1\.png/);
      await screenshot(p, 'wizard-s3-2-verified');
      await choose(p, 'labels', 'Infer from folder name');
      await choose(p, 'category', 'Split automatically');
      await chooseMany(p, 'post-sync actions', ['Refresh data explorer']);
      await answer(p, 'step name');
      await waitForNotification(p, /Added "Fetch data from s3:\/\/e2e-wizard\/animals\/"/, 30_000);

      const file = path.join(vsc.workspace, 'bucket.pipeline.json');
      const text = await fs.readFile(file, 'utf8');
      assert.ok(!text.includes(s3.secretKey), 'the literal secret is not in the pipeline file');
      const block = (JSON.parse(text) as { steps: { builtinTransformationBlock: Record<string, unknown> }[] }).steps[0].builtinTransformationBlock;
      assert.deepEqual(block, { type: 's3-to-project', path: `s3://${BUCKET}/animals/`, endpoint: s3.endpoint, region: s3.region, accessKey: s3.accessKey, secretKey: '${secret:WIZARD_S3_SECRET}', labelStrategy: 'infer-from-folder-name', category: 'split' });

      await clickLens(p, '▶ Run pipeline');
      await waitForNotification(p, /Bucket animals: success/, 120_000);
    await p.locator('.notification-toast').filter({ hasText: 'Running Bucket animals' }).waitFor({ state: 'hidden', timeout: 30_000 });
      await screenshot(p, 'wizard-s3-3-synced');
      const labels = readInfoLabels(loadPipelineFile(file).datasetDir, (key) => key.startsWith('animals/'));
      assert.deepEqual([...labels].sort(), [['c1.png', 'cats'], ['c2.png', 'cats'], ['d1.png', 'dogs'], ['d2.png', 'dogs'], ['d3.png', 'dogs']]);
      assert.ok(!vsc.extHostLog().includes(s3.secretKey), 'the secret never reaches the log');
      await runCommand(p, 'View: Close All Editors');
    });
  });

  // After the S3 tests (mocha runs a describe's own tests before its nested describes): the
  // bucket the quick-fixed step verifies against exists by then.
  describe('secret quick fix', function () {
    it('moves a literal secretKey to Secret Storage from the lightbulb', async function () {
      const p = page();
      const secret = S3?.secretKey ?? 'literal-secret-value-0123456789';
      const file = path.join(vsc.workspace, 'literal.pipeline.json');
      await fs.writeFile(
        file,
        JSON.stringify(
          {
            name: 'Literal secret',
            steps: [{ name: 'Fetch animals', builtinTransformationBlock: { type: 's3-to-project', path: `s3://${BUCKET}/animals/`, endpoint: S3?.endpoint ?? 'http://127.0.0.1:9', region: S3?.region ?? 'us-east-1', accessKey: S3?.accessKey ?? 'AKIAEXAMPLE', secretKey: secret } }],
          },
          null,
          2,
        ) + '\n',
      );
      await openFile(p, 'literal.pipeline.json');
      await p.locator('.editor-group-container.active .squiggly-error').first().waitFor({ state: 'visible', timeout: 60_000 });
      // Put the cursor on the secret and open the quick fixes with Ctrl+.
      await p.locator('.editor-group-container.active .view-line span').filter({ hasText: secret }).last().click();
      await p.keyboard.press('Control+.');
      const fix = p.locator('.action-widget .monaco-list-row').filter({ hasText: 'Move secretKey to Secret Storage' }).first();
      await fix.waitFor({ state: 'visible', timeout: 30_000 });
      await screenshot(p, 'wizard-quickfix-1-lightbulb');
      // The preferred fix comes focused: Enter applies it, as the widget's own hint says.
      await p.locator('.action-widget .monaco-list-row.focused').filter({ hasText: 'Move secretKey to Secret Storage' }).waitFor({ state: 'visible' });
      await p.keyboard.press('Enter');
      await answer(p, 'Move secretKey to Secret Storage', 'LITERAL_S3_SECRET', 'wizard-quickfix-2-name');
      await waitForNotification(p, /\$\{secret:LITERAL_S3_SECRET\}/, 30_000);
      // The fix saves the file: the secret leaves the disk, not only the editor.
      const text = await waitFor(async () => {
        const t = await fs.readFile(file, 'utf8');
        return t.includes('"secretKey": "${secret:LITERAL_S3_SECRET}"') ? t : undefined;
      }, 'the file on disk to say ${secret:LITERAL_S3_SECRET}', 30_000, POLL_MS);
      assert.ok(!text.includes(secret), 'no literal secret left in the file');
      await waitFor(async () => (await p.locator('.editor-group-container.active .squiggly-error').count()) === 0, 'the diagnostic to go away', 30_000, POLL_MS);
      await screenshot(p, 'wizard-quickfix-3-fixed');
      if (S3) {
        // The stored value is the one that was in the file: the keys still work.
        await clickLens(p, 'Verify credentials');
        await waitForNotification(p, /✓ Fetch animals/, 60_000);
      }
      await runCommand(p, 'View: Close All Editors');
    });
  });
});
