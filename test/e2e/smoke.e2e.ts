/**
 * Smoke test of the e2e infrastructure itself: a throwaway extension, installed into
 * a real code-server, activated in the real extension host, its command run from the
 * command palette in Chromium. Independent of the project's own extension.
 *
 * Needs scripts/setup-code-server.sh to have run.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  installExtension,
  openFile,
  openWorkbench,
  readExtHostLog,
  runCommand,
  screenshot,
  startCodeServer,
  waitForNotification,
  waitUntil,
  type CodeServer,
  type Workbench,
} from './harness';

const SMOKE_EXTENSION_PACKAGE = {
  name: 'e2e-smoke',
  displayName: 'E2E Smoke',
  publisher: 'e2e-test',
  version: '0.0.1',
  license: 'MIT',
  engines: { vscode: '^1.90.0' },
  main: './extension.js',
  activationEvents: ['onStartupFinished'],
  contributes: {
    commands: [{ command: 'e2eSmoke.hello', title: 'Hello', category: 'E2E Smoke' }],
  },
};

const SMOKE_EXTENSION_JS = `'use strict';
const vscode = require('vscode');
exports.activate = function activate(context) {
  const log = vscode.window.createOutputChannel('E2E Smoke', { log: true });
  context.subscriptions.push(log);
  log.info('e2e-smoke activated');
  context.subscriptions.push(
    vscode.commands.registerCommand('e2eSmoke.hello', () => {
      log.info('e2e-smoke hello command ran');
      return vscode.window.showInformationMessage('smoke ok');
    }),
  );
};
exports.deactivate = function deactivate() {};
`;

describe('e2e harness smoke: code-server + Chromium', function () {
  this.timeout(180_000);

  let tmp: string;
  let workspace: string;
  let server: CodeServer | undefined;
  let workbench: Workbench | undefined;

  before(async function () {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'dsp-e2e-smoke-'));
    workspace = path.join(tmp, 'workspace');
    await fs.mkdir(workspace, { recursive: true });
    await fs.writeFile(path.join(workspace, 'demo.pipeline.json'), JSON.stringify({ name: 'x', steps: [] }, null, 2) + '\n');

    const extSrc = path.join(tmp, 'smoke-extension');
    await fs.mkdir(extSrc, { recursive: true });
    await fs.writeFile(path.join(extSrc, 'package.json'), JSON.stringify(SMOKE_EXTENSION_PACKAGE, null, 2));
    await fs.writeFile(path.join(extSrc, 'extension.js'), SMOKE_EXTENSION_JS);

    const extensionsDir = path.join(tmp, 'extensions');
    const installed = await installExtension(extensionsDir, extSrc);
    assert.equal(path.basename(installed), 'e2e-test.e2e-smoke-0.0.1');

    server = await startCodeServer({
      workspace,
      extensionsDir,
      userDataDir: path.join(tmp, 'user-data'),
    });
    workbench = await openWorkbench(server.url, workspace, { trust: true });
  });

  function current(): { server: CodeServer; workbench: Workbench } {
    if (server === undefined || workbench === undefined) {
      throw new Error('before() did not finish starting code-server and the workbench');
    }
    return { server, workbench };
  }

  function dumpDiagnostics(): void {
    if (server !== undefined) {
      console.error(`--- extension host logs (${server.logsDir}) ---\n${readExtHostLog(server.logsDir)}`);
      console.error(`--- code-server output: ${server.serverLogFile} ---`);
    }
    if (workbench !== undefined && workbench.consoleErrors.length > 0) {
      console.error(`--- browser console errors ---\n${workbench.consoleErrors.join('\n')}`);
    }
  }

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') {
      if (workbench !== undefined) {
        await screenshot(workbench.page, `smoke-failed-${this.currentTest.title}`).catch(() => undefined);
      }
      dumpDiagnostics();
    }
  });

  after(async function () {
    if (workbench === undefined) {
      dumpDiagnostics(); // before() failed part-way
    }
    await workbench?.close();
    await server?.stop();
    if (tmp !== undefined && process.env.E2E_KEEP_TMP === undefined) {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });

  it('activates a real extension and runs its command from the palette', async function () {
    const { server, workbench } = current();
    const { page } = workbench;
    // onStartupFinished: the extension host logs the activation.
    await waitUntil(() => readExtHostLog(server.logsDir).includes('e2e-smoke activated'), {
      timeoutMs: 60_000,
      description: 'e2e-smoke activation in the extension host log',
    });

    await runCommand(page, 'E2E Smoke: Hello');
    await waitForNotification(page, 'smoke ok', 30_000);
    const shot = await screenshot(page, 'smoke-notification');
    assert.ok((await fs.stat(shot)).size > 10_000, 'screenshot should not be empty');

    await waitUntil(() => readExtHostLog(server.logsDir).includes('e2e-smoke hello command ran'), {
      timeoutMs: 30_000,
      description: 'command log line',
    });
  });

  it('opens a workspace file through quick open (ripgrep file search)', async function () {
    const { page } = current().workbench;
    await openFile(page, 'demo.pipeline.json');
    await page.locator('.monaco-editor .view-lines').filter({ hasText: '"steps"' }).first().waitFor({ state: 'visible' });
    await screenshot(page, 'smoke-open-file');
  });
});
