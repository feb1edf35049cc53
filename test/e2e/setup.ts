/**
 * The e2e suites' one set-up: a temporary workspace with the given files, this project's built
 * extension installed, code-server started on it and a Chromium workbench open, for a mocha
 * suite; torn down after it. On a failed test: a screenshot, Escape (a half-done quick input
 * would spoil the next test), and the extension host log and browser console errors on stderr.
 *
 *   describe('…', function () {
 *     this.timeout(300_000);
 *     const vsc = useWorkbench(this, { name: 'ext', workspaceFiles: { 'a.pipeline.json': '…' } });
 *     it('…', async () => { await openFile(vsc.page, 'a.pipeline.json'); });
 *   });
 *
 * E2E_KEEP_TMP=1 keeps the temporary folder (workspace, user data with logs, extensions).
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { installExtension, openWorkbench, projectRoot, readExtHostLog, screenshot, startCodeServer, type CodeServer, type Workbench } from './harness';

export interface WorkbenchSetup {
  /** Names the temporary folder (dsp-e2e-NAME-…) and failure screenshots (NAME-failed-….png). */
  name: string;
  /** Files written into the workspace (relative path → content) before code-server starts. */
  workspaceFiles?: Record<string, string | Buffer>;
  /** User settings, over the harness's DEFAULT_TEST_SETTINGS. */
  settings?: object;
  /** Extra environment for code-server and its extension host. */
  env?: Record<string, string>;
  /** Answer to the workspace-trust dialog: true (default) trusts, false is Restricted Mode. */
  trust?: boolean;
  /** The extension folder to install (default: this project, with its built dist/). */
  extensionRoot?: string;
}

export interface WorkbenchHandle {
  /** The workbench page (throws before the suite's before-all hook has opened it). */
  readonly page: Page;
  /** The workspace folder code-server opened. */
  readonly workspace: string;
  readonly server: CodeServer;
  readonly workbench: Workbench;
  /** What the extension host has logged so far (output channels included): readExtHostLog. */
  extHostLog(): string;
}

/** Writes `files` (relative path → content) under `root`, creating folders. */
export async function writeFiles(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(root, rel);
    await fs.mkdir(path.dirname(abs), { recursive: true });
    await fs.writeFile(abs, content);
  }
}

/**
 * Adds before-all, after-each and after-all hooks to `suite` (pass `this` in a describe
 * callback) that set up and tear down a workbench as described at the top of this file.
 */
export function useWorkbench(suite: Mocha.Suite, setup: WorkbenchSetup): WorkbenchHandle {
  let tmp: string | undefined;
  let workspace: string | undefined;
  let server: CodeServer | undefined;
  let workbench: Workbench | undefined;

  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not there: the before-all hook of useWorkbench did not finish`);
    return value;
  };

  const dumpDiagnostics = (): void => {
    if (server) console.error(`--- extension host logs (${server.logsDir}; code-server output: ${server.serverLogFile}) ---\n${readExtHostLog(server.logsDir).slice(-20_000)}`);
    if (workbench?.consoleErrors.length) console.error(`--- browser console errors ---\n${workbench.consoleErrors.slice(-30).join('\n')}`);
  };

  suite.beforeAll(`start code-server with the extension and open the workbench (${setup.name})`, async function () {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), `dsp-e2e-${setup.name}-`));
    const ws = path.join(tmp, 'workspace');
    await fs.mkdir(ws, { recursive: true });
    await writeFiles(ws, setup.workspaceFiles ?? {});
    workspace = ws;
    const extensionsDir = path.join(tmp, 'extensions');
    await installExtension(extensionsDir, setup.extensionRoot ?? projectRoot());
    server = await startCodeServer({ workspace: ws, extensionsDir, userDataDir: path.join(tmp, 'user-data'), settings: setup.settings, env: setup.env });
    workbench = await openWorkbench(server.url, ws, { trust: setup.trust ?? true });
  });

  suite.afterEach('on failure: screenshot, close quick inputs, print logs', async function () {
    if (this.currentTest?.state !== 'failed') return;
    if (workbench) {
      await screenshot(workbench.page, `${setup.name}-failed-${this.currentTest.title}`.slice(0, 120)).catch(() => undefined);
      await workbench.page.keyboard.press('Escape').catch(() => undefined);
    }
    dumpDiagnostics();
  });

  suite.afterAll(`close the workbench and stop code-server (${setup.name})`, async function () {
    if (tmp !== undefined && workbench === undefined) dumpDiagnostics(); // the before-all hook failed part-way
    try {
      await workbench?.close();
    } finally {
      await server?.stop();
      if (tmp !== undefined && process.env.E2E_KEEP_TMP === undefined) await fs.rm(tmp, { recursive: true, force: true });
    }
  });

  return {
    get page() {
      return started(workbench, 'the workbench').page;
    },
    get workspace() {
      return started(workspace, 'the workspace');
    },
    get server() {
      return started(server, 'code-server');
    },
    get workbench() {
      return started(workbench, 'the workbench');
    },
    extHostLog: () => readExtHostLog(started(server, 'code-server').logsDir),
  };
}
