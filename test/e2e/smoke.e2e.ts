/**
 * Smoke test: this project's built extension (dist/) installed into a real code-server, opened in
 * Chromium on a workspace with a pipeline file. It activates (its "Data Pipelines" output channel
 * logs the activation in the extension host's logs), every command package.json puts in the
 * command palette is there, and its activity-bar container opens the Pipelines and Runs views,
 * listing the workspace's pipeline. Quick: nothing is run.
 *
 * Needs scripts/setup-code-server.sh and the build (node esbuild.mjs); scripts/test-e2e.sh does both.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { waitFor } from '../support/waitFor';
import { openQuickInput, POLL_MS, projectRoot, runCommand, screenshot } from './harness';
import { useWorkbench } from './setup';

const PIPELINE_NAME = 'Smoke demo';

interface Manifest {
  displayName: string;
  contributes: {
    commands: { command: string; title: string; category?: string }[];
    menus?: { commandPalette?: { command: string; when?: string }[] };
    viewsContainers: { activitybar: { id: string; title: string }[] };
    views: Record<string, { id: string; name: string }[]>;
  };
}

const manifest = JSON.parse(fs.readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as Manifest;

/** "Category: Title" of each command the palette shows at start-up (not hidden by a `when` there). */
function paletteTitles(): string[] {
  const hidden = new Set((manifest.contributes.menus?.commandPalette ?? []).filter((m) => m.when !== undefined).map((m) => m.command));
  return manifest.contributes.commands.filter((c) => !hidden.has(c.command)).map((c) => (c.category ? `${c.category}: ${c.title}` : c.title));
}

describe('e2e smoke: this extension in code-server + Chromium', function () {
  this.timeout(180_000);
  const vsc = useWorkbench(this, {
    name: 'smoke',
    workspaceFiles: { 'demo.pipeline.json': JSON.stringify({ name: PIPELINE_NAME, steps: [{ name: 'Fetch images', builtinTransformationBlock: { type: 'folder-to-project', path: './raw' } }] }, null, 2) + '\n', 'raw/cars/.keep': '' },
    settings: { 'dataPipelines.api.port': 0, 'dataPipelines.schedule.enabled': false },
  });

  it('activates: its output channel logs the activation', async function () {
    // workspaceContains:**/*.pipeline.json activates it; the log line is in its output channel's file.
    const line = await waitFor(() => /activated in [\d.]+ ms \(trusted: (true|false)\)/.exec(vsc.extHostLog()), 'the extension\'s activation line in the extension host logs', 90_000, POLL_MS);
    assert.equal(line[1], 'true', 'activated in a trusted workspace');
    assert.doesNotMatch(vsc.extHostLog(), /Activating extension .*data-source-pipelines.* failed/i);
  });

  it('has its commands in the command palette', async function () {
    const p = vsc.page;
    const titles = paletteTitles();
    assert.ok(titles.length >= 10, `package.json contributes ${titles.length} palette commands`);
    await openQuickInput(p, 'F1', '>');
    const widget = p.locator('.quick-input-widget');
    const input = widget.locator('input.input');
    await input.waitFor({ state: 'visible' });
    const missing: string[] = [];
    for (const title of titles) {
      await input.fill(`>${title}`);
      const row = widget.locator('.monaco-list-row .label-name').filter({ hasText: new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) });
      await row.first().waitFor({ state: 'visible', timeout: 10_000 }).catch(() => missing.push(title));
    }
    await input.fill('>Data Pipelines:');
    await widget.locator('.monaco-list-row .label-name').filter({ hasText: /^Data Pipelines: / }).first().waitFor({ state: 'visible' });
    await screenshot(p, 'smoke-command-palette');
    await p.keyboard.press('Escape');
    await widget.waitFor({ state: 'hidden' });
    assert.deepEqual(missing, [], 'every command package.json puts in the palette is there');
  });

  it('shows its sidebar: the Data Pipelines container with the Pipelines and Runs views', async function () {
    const p = vsc.page;
    const container = manifest.contributes.viewsContainers.activitybar[0];
    const item = p.locator(`.part.activitybar .action-item [aria-label^="${container.title}"], .part.activitybar .action-item[aria-label^="${container.title}"]`);
    await item.first().waitFor({ state: 'visible', timeout: 60_000 });
    await item.first().click();
    const sidebar = p.locator('.part.sidebar');
    await sidebar.locator('.composite.title').filter({ hasText: new RegExp(container.title, 'i') }).first().waitFor({ state: 'visible', timeout: 30_000 });
    for (const view of manifest.contributes.views[container.id]) {
      await sidebar.locator('.pane-header').filter({ hasText: new RegExp(`^\\s*${view.name}`, 'i') }).first().waitFor({ state: 'visible', timeout: 30_000 });
    }
    // The Pipelines view lists the workspace's pipeline file by its name.
    await sidebar.locator('.monaco-list-row').filter({ hasText: PIPELINE_NAME }).first().waitFor({ state: 'visible', timeout: 60_000 });
    const shot = await screenshot(p, 'smoke-sidebar');
    assert.ok(fs.statSync(shot).size > 10_000, 'the screenshot is not empty');
  });

  it('exports the pipeline as a GitHub workflow and as a Kubernetes Job, each into a new editor', async function () {
    const p = vsc.page;
    const answer = async (title: string) => {
      await p.locator('.quick-input-widget .quick-input-title').filter({ hasText: title }).first().waitFor({ state: 'visible', timeout: 30_000 });
      await p.keyboard.press('Enter'); // the prefilled value
    };
    const editorShows = (text: string) => p.locator('.monaco-editor .view-lines').filter({ hasText: text }).first().waitFor({ state: 'visible', timeout: 30_000 });
    await runCommand(p, 'Data Pipelines: Export as GitHub workflow…');
    await answer('Shards');
    await editorShows('data-pipelines finalize');
    await screenshot(p, 'export-github-workflow');
    await runCommand(p, 'Data Pipelines: Export as Kubernetes Job…');
    await answer('Shards');
    await answer('Container image');
    await answer('Volume claim');
    await editorShows('completionMode: Indexed');
    await screenshot(p, 'export-kubernetes-job');
    // Both are unsaved new documents: close them unsaved, or the window's close asks about them.
    for (let i = 0; i < 2; i++) await runCommand(p, 'View: Revert and Close Editor');
    await waitFor(async () => (await p.locator('.tabs-container .tab').filter({ hasText: /Untitled/ }).count()) === 0, 'the exported documents to close', 30_000, POLL_MS);
  });
});
