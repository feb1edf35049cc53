/**
 * End-to-end test harness: a real VS Code workbench (code-server, installed by
 * scripts/setup-code-server.sh) driven by Debian's Chromium through playwright-core.
 *
 * Recipe: /work/shared/RECIPES.md, "A real VS Code for end-to-end tests".
 *
 * Nothing here sleeps for a fixed time: every wait is for a condition, either
 * through Playwright's own waiting (locator.waitFor, page.waitForFunction) or by
 * polling a predicate with a deadline (waitFor, test/support/waitFor.ts).
 *
 * The per-suite set-up built from these (workspace, extension, server, workbench,
 * teardown) is useWorkbench in ./setup.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { waitFor } from '../support/waitFor';

export const CODE_SERVER_VERSION = '4.100.3';
export const CHROMIUM_PATH = process.env.E2E_CHROMIUM_PATH ?? '/usr/bin/chromium';

const PROJECT_NAME = 'data-source-pipelines';

/* ------------------------------------------------------------------ paths */

function findUp(start: string, predicate: (dir: string) => boolean): string | undefined {
  let dir = path.resolve(start);
  for (;;) {
    if (predicate(dir)) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      return undefined;
    }
    dir = parent;
  }
}

function isProjectRoot(dir: string): boolean {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
    return pkg.name === PROJECT_NAME;
  } catch {
    return false;
  }
}

let cachedRoot: string | undefined;

/**
 * The project root: found from this file's location (out/test/e2e/ when built
 * with the project's tsc) or else from the current directory. E2E_PROJECT_ROOT overrides.
 */
export function projectRoot(): string {
  if (cachedRoot === undefined) {
    cachedRoot =
      process.env.E2E_PROJECT_ROOT ??
      findUp(__dirname, isProjectRoot) ??
      findUp(process.cwd(), isProjectRoot) ??
      process.cwd();
  }
  return cachedRoot;
}

/** code-server's entry point, installed by scripts/setup-code-server.sh. */
export function codeServerEntry(): string {
  const entry =
    process.env.E2E_CODE_SERVER_ENTRY ??
    path.join(projectRoot(), '.tools', 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  if (!fs.existsSync(entry)) {
    throw new Error(`code-server not found at ${entry}; run scripts/setup-code-server.sh first`);
  }
  return entry;
}

/** Folder for screenshots and other artefacts of the e2e run. */
export function resultsDir(): string {
  return path.join(projectRoot(), 'test-results', 'e2e');
}

/* ------------------------------------------------------------------ waiting */

/** Pause between two polls of a condition in the workbench (each poll is a round trip to Chromium or a log read). */
export const POLL_MS = 50;

/* ------------------------------------------------------------------ extension install */

interface ExtensionManifest {
  name: string;
  publisher: string;
  version: string;
  main?: string;
  browser?: string;
  icon?: string;
}

/** Top-level entries of an extension folder that make up the installed extension. */
const EXTENSION_FILES = ['package.json', 'package.nls.json', 'dist', 'schemas', 'media', 'README.md', 'CHANGELOG.md', 'LICENSE', 'LICENSE.md'];

/**
 * Copies an extension (package.json, dist/, schemas/, media/, README.md, ... and the
 * folder of `main`/`icon` if those live elsewhere) into
 * `extensionsDir/<publisher>.<name>-<version>/`, the layout VS Code installs to.
 * No node_modules: the project's dist/ is bundled. Returns the installed folder.
 */
export async function installExtension(extensionsDir: string, extensionRoot: string): Promise<string> {
  const manifest = JSON.parse(await fsp.readFile(path.join(extensionRoot, 'package.json'), 'utf8')) as ExtensionManifest;
  for (const key of ['name', 'publisher', 'version'] as const) {
    if (typeof manifest[key] !== 'string' || manifest[key] === '') {
      throw new Error(`${extensionRoot}/package.json has no "${key}"`);
    }
  }
  const id = `${manifest.publisher}.${manifest.name}`;
  const folderName = `${id}-${manifest.version}`.toLowerCase();
  const dest = path.join(extensionsDir, folderName);

  const entries = new Set(EXTENSION_FILES);
  for (const rel of [manifest.main, manifest.browser, manifest.icon]) {
    if (typeof rel === 'string' && rel !== '') {
      const first = path.normalize(rel).split(path.sep).filter((p) => p !== '.' && p !== '')[0];
      if (first !== undefined && first !== '..') {
        entries.add(first);
      }
    }
  }

  await fsp.mkdir(extensionsDir, { recursive: true });
  await fsp.rm(dest, { recursive: true, force: true });
  await fsp.mkdir(dest, { recursive: true });
  for (const entry of entries) {
    const src = path.join(extensionRoot, entry);
    if (fs.existsSync(src)) {
      await fsp.cp(src, path.join(dest, entry), { recursive: true, dereference: true });
    } else if (entry === manifest.main?.split(/[\\/]/).filter((p) => p !== '.')[0]) {
      throw new Error(`extension main ${manifest.main} not found under ${extensionRoot} (build it first)`);
    }
  }

  await registerInProfile(extensionsDir, id, manifest.version, dest, folderName);
  return dest;
}

interface ProfileEntry {
  identifier: { id: string };
  version: string;
  location: { $mid: 1; scheme: 'file'; path: string };
  relativeLocation: string;
}

/**
 * VS Code only scans the extensions folder while `extensions.json` does not exist;
 * once a server has started there, an extension copied in later must be listed in it.
 */
async function registerInProfile(extensionsDir: string, id: string, version: string, dest: string, folderName: string): Promise<void> {
  const profile = path.join(extensionsDir, 'extensions.json');
  let entries: ProfileEntry[];
  try {
    entries = JSON.parse(await fsp.readFile(profile, 'utf8')) as ProfileEntry[];
  } catch {
    return; // not created yet: the first start scans the folder
  }
  const kept = entries.filter((e) => e.identifier.id.toLowerCase() !== id.toLowerCase());
  kept.push({
    identifier: { id },
    version,
    location: { $mid: 1, scheme: 'file', path: dest },
    relativeLocation: folderName,
  });
  await fsp.writeFile(profile, JSON.stringify(kept));
}

/* ------------------------------------------------------------------ code-server */

export interface CodeServerOptions {
  workspace: string;
  extensionsDir: string;
  userDataDir: string;
  /** Merged over the test defaults and written to userDataDir/User/settings.json. */
  settings?: object;
  /** Extra environment for the server and its extension host. */
  env?: Record<string, string>;
  /** How long to wait for the HTTP port to answer (default 60 s). */
  startTimeoutMs?: number;
}

export interface CodeServer {
  url: string;
  port: number;
  /** userDataDir/logs: one subfolder per server session, holding exthost*\/remoteexthost.log. */
  logsDir: string;
  /** code-server's own stdout+stderr. */
  serverLogFile: string;
  stop(): Promise<void>;
}

export const DEFAULT_TEST_SETTINGS: Readonly<Record<string, unknown>> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'security.workspace.trust.enabled': true,
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'git.enabled': false,
  'chat.commandCenter.enabled': false,
};

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr !== null && typeof addr === 'object') {
          resolve(addr.port);
        } else {
          reject(new Error('could not get a free port'));
        }
      });
    });
  });
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Environment for code-server without anything that would make it talk to another VS Code instance. */
function serverEnv(userDataDir: string, extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // VSCODE_IPC_HOOK_CLI (set in VS Code's terminal) would make code-server hand the
    // folder to that instance instead of starting; ELECTRON_* would confuse VS Code.
    if (!k.startsWith('VSCODE_') && !k.startsWith('ELECTRON_')) {
      env[k] = v;
    }
  }
  // code-server keeps config and coder-logs under XDG dirs: keep them out of $HOME.
  env.XDG_CONFIG_HOME = path.join(userDataDir, 'xdg-config');
  env.XDG_DATA_HOME = path.join(userDataDir, 'xdg-data');
  env.DONT_PROMPT_WSL_INSTALL = '1';
  return { ...env, ...extra };
}

/**
 * Writes settings and starts code-server on a free loopback port; resolves once its
 * HTTP server answers. Workspace trust stays enabled (see openWorkbench's `trust`).
 */
export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  const entry = codeServerEntry();
  const userDir = path.join(opts.userDataDir, 'User');
  await fsp.mkdir(userDir, { recursive: true });
  await fsp.mkdir(opts.extensionsDir, { recursive: true });
  const settings = { ...DEFAULT_TEST_SETTINGS, ...(opts.settings ?? {}) };
  await fsp.writeFile(path.join(userDir, 'settings.json'), JSON.stringify(settings, null, 2));

  // A private config file: without --config code-server writes ~/.config/code-server/config.yaml.
  const configFile = path.join(opts.userDataDir, 'code-server-config.yaml');
  await fsp.writeFile(configFile, 'auth: none\ncert: false\n');

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logsDir = path.join(opts.userDataDir, 'logs');
  const serverLogFile = path.join(opts.userDataDir, 'code-server.log');
  const logStream = fs.createWriteStream(serverLogFile);

  const args = [
    entry,
    '--config', configFile,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--extensions-dir', opts.extensionsDir,
    '--user-data-dir', opts.userDataDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    opts.workspace,
  ];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: opts.workspace,
    env: serverEnv(opts.userDataDir, opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: stop() ends code-server, its wrapper child and extension hosts together.
    detached: true,
  });
  let tail = '';
  const onOutput = (chunk: Buffer): void => {
    logStream.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
  });

  const killGroup = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined || exited !== undefined) {
      return;
    }
    try {
      process.kill(-child.pid, signal);
    } catch {
      // group already gone
    }
  };

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) {
      return;
    }
    stopped = true;
    killGroup('SIGTERM');
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000).unref());
    if ((await Promise.race([exitPromise.then(() => 'exited' as const), timer])) === 'timeout') {
      killGroup('SIGKILL');
      await exitPromise;
    }
    // Children of the group (extension host, pty host) may outlive the wrapper briefly.
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise<void>((resolve) => logStream.end(resolve));
  };

  try {
    await waitFor(
      async () => {
        if (exited !== undefined) {
          throw new Error(`code-server exited (code ${exited.code}, signal ${exited.signal})`);
        }
        const status = await httpStatus(`${url}/healthz`);
        return status === 200;
      },
      `code-server on ${url}`,
      opts.startTimeoutMs ?? 60_000,
      POLL_MS,
    );
  } catch (err) {
    await stop();
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`${message}\n--- code-server output (tail) ---\n${tail}`);
  }
  return { url, port, logsDir, serverLogFile, stop };
}

/* ------------------------------------------------------------------ browser */

export interface Workbench {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Browser console errors and page errors seen so far (for debugging failures). */
  consoleErrors: string[];
  close(): Promise<void>;
}

export interface OpenWorkbenchOptions {
  /**
   * true: answer the workspace-trust dialog "Yes, I trust the authors";
   * false: "No, I don't trust the authors" (Restricted Mode);
   * undefined: leave the dialog alone.
   */
  trust?: boolean;
  /** How long to wait for the workbench and the trust decision (default 90 s). */
  timeoutMs?: number;
  headless?: boolean;
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const TRUST_YES = 'Yes, I trust the authors';
const TRUST_NO = "No, I don't trust the authors";

/** Opens `url/?folder=workspace` in Chromium and waits for the workbench (and trust decision). */
export async function openWorkbench(url: string, workspace: string, opts: OpenWorkbenchOptions = {}): Promise<Workbench> {
  const timeout = opts.timeoutMs ?? 90_000;
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: opts.headless ?? true,
    args: CHROMIUM_ARGS,
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') {
        consoleErrors.push(msg.text());
      }
    });
    page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.message}`));

    const target = new URL(url);
    target.pathname = '/';
    target.searchParams.set('folder', workspace);
    await page.goto(target.toString(), { timeout });
    await page.locator('.monaco-workbench').first().waitFor({ state: 'visible', timeout });

    if (opts.trust !== undefined) {
      await answerTrustDialog(page, opts.trust, timeout);
    }
    const close = async (): Promise<void> => {
      await browser.close();
    };
    return { browser, context, page, consoleErrors, close };
  } catch (err) {
    await browser.close();
    throw err;
  }
}

/**
 * The workspace-trust modal is a `.monaco-dialog-box` with one button per choice; it
 * appears once per fresh user-data-dir while `security.workspace.trust.enabled` is on
 * (pass trust: undefined when reusing a user-data-dir or with trust disabled).
 * Afterwards the "Restricted Mode" status item exists exactly when untrusted.
 */
async function answerTrustDialog(page: Page, trust: boolean, timeout: number): Promise<void> {
  const dialog = page.locator('.monaco-dialog-box');
  const button = dialog.getByRole('button', { name: trust ? TRUST_YES : TRUST_NO, exact: true });
  await button.waitFor({ state: 'visible', timeout });
  await button.click();
  await dialog.waitFor({ state: 'hidden', timeout });
  const restricted = page.locator(RESTRICTED_MODE_STATUS);
  await restricted.waitFor({ state: trust ? 'hidden' : 'visible', timeout });
}

/** The status bar item VS Code shows while the workspace is in Restricted Mode. */
export const RESTRICTED_MODE_STATUS = '#status\\.workspaceTrust';

/* ------------------------------------------------------------------ workbench helpers */

const QUICK_INPUT = '.quick-input-widget';

/** Opens the quick input with `keys` (F1: the command palette, Control+P: Quick Open) and waits until its input starts with `prefix`. */
export async function openQuickInput(page: Page, keys: string, prefix: string): Promise<void> {
  const widget = page.locator(QUICK_INPUT);
  const input = widget.locator('input.input');
  // The workbench needs keyboard focus for its keybindings: focus it when nothing inside it has
  // focus, or a webview does (a preview restored after a reload takes focus, and its frame then
  // gets the keys). A press the workbench missed is pressed again, three times at most.
  for (let attempt = 1; ; attempt++) {
    await page.evaluate(() => {
      const a = document.activeElement;
      if (a === null || a === document.body || a.tagName === 'IFRAME') (document.querySelector('.monaco-workbench') as HTMLElement | null)?.focus();
    });
    await page.keyboard.press(keys);
    try {
      await widget.waitFor({ state: 'visible', timeout: 10_000 });
      break;
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
  await waitFor(async () => (await input.inputValue()).startsWith(prefix), `quick input with prefix "${prefix}"`, 10_000, POLL_MS);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Runs a command through the command palette (F1): types its title as shown there
 * (e.g. "Category: Title"), waits until that entry is the selected row, presses Enter.
 */
export async function runCommand(page: Page, title: string, timeoutMs = 30_000): Promise<void> {
  await openQuickInput(page, 'F1', '>');
  const widget = page.locator(QUICK_INPUT);
  await widget.locator('input.input').fill(`>${title}`);
  const row = widget
    .locator('.monaco-list-row.focused .label-name')
    .filter({ hasText: new RegExp(`^${escapeRegExp(title)}$`) });
  await waitForPick(page, row, `command "${title}" in the command palette`, timeoutMs);
  await page.keyboard.press('Enter');
  // The palette closes; a command that asks for input right away (showInputBox, showQuickPick)
  // reuses the same widget, which then may never be seen hidden: done once it no longer holds the
  // command palette's text.
  const input = widget.locator('input.input');
  await waitFor(
    async () => !(await widget.isVisible()) || (await input.inputValue({ timeout: 1_000 }).catch(() => '')) !== `>${title}`,
    `the command palette to hand over after "${title}"`,
    timeoutMs,
    POLL_MS,
  );
}

/** Waits for the wanted quick-input row; on failure closes the widget and lists what it showed. */
async function waitForPick(page: Page, row: Locator, what: string, timeoutMs: number): Promise<void> {
  try {
    await row.first().waitFor({ state: 'visible', timeout: timeoutMs });
  } catch (err) {
    const shown = await page
      .locator(`${QUICK_INPUT} .monaco-list-row`)
      .evaluateAll((rows) => rows.slice(0, 10).map((r) => r.getAttribute('aria-label') ?? r.textContent ?? ''))
      .catch(() => [] as string[]);
    await page.keyboard.press('Escape').catch(() => undefined);
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new Error(`Did not find ${what} within ${timeoutMs} ms (${message}). Rows shown: ${JSON.stringify(shown)}`);
  }
}

/** Clicks a CodeLens of the active editor by its title (another group may show another pipeline). */
export async function clickLens(page: Page, title: string | RegExp, timeoutMs = 60_000): Promise<void> {
  const lens = page.locator('.editor-group-container.active .codelens-decoration a').filter({ hasText: title }).first();
  await lens.waitFor({ state: 'visible', timeout: timeoutMs });
  await lens.click();
}

/**
 * Opens a workspace file through Quick Open (Ctrl+P; file search uses ripgrep) and
 * waits for its editor tab to be active.
 */
export async function openFile(page: Page, relPath: string, timeoutMs = 30_000): Promise<void> {
  await openQuickInput(page, 'Control+P', '');
  const widget = page.locator(QUICK_INPUT);
  await widget.locator('input.input').fill(relPath);
  const base = path.posix.basename(relPath.replace(/\\/g, '/'));
  const dir = path.posix.dirname(relPath.replace(/\\/g, '/'));
  let row = widget.locator('.monaco-list-row.focused').filter({
    has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(base)}$`) }),
  });
  if (dir !== '.' && dir !== '') {
    row = row.filter({ has: page.locator('.label-description', { hasText: dir }) });
  }
  await waitForPick(page, row, `"${relPath}" in Quick Open`, timeoutMs);
  await page.keyboard.press('Enter');
  await widget.waitFor({ state: 'hidden', timeout: timeoutMs });
  await page
    .locator('.tabs-container .tab.active .label-name')
    .filter({ hasText: new RegExp(`^${escapeRegExp(base)}$`) })
    .first()
    .waitFor({ state: 'visible', timeout: timeoutMs });
}

/** Waits until `text` is visible somewhere in the page (a substring match). */
export async function waitForText(page: Page, text: string | RegExp, timeoutMs = 30_000): Promise<void> {
  await page.getByText(text).first().waitFor({ state: 'visible', timeout: timeoutMs });
}

/**
 * Waits for a notification toast whose message contains `text`, and for its slide-in
 * transition to finish (VS Code then marks it `.notification-fade-in-done`), so that a
 * screenshot taken next shows it in place. Returns the toast's locator.
 */
export async function waitForNotification(page: Page, text: string | RegExp, timeoutMs = 30_000): Promise<Locator> {
  const toast = page
    .locator('.notifications-toasts .notification-toast')
    .filter({ has: page.locator('.notification-list-item-message', { hasText: text }) })
    .first();
  await toast.waitFor({ state: 'visible', timeout: timeoutMs });
  await waitFor(
    () =>
      toast.evaluate(
        (el) =>
          el.classList.contains('notification-fade-in-done') ||
          // With reduced motion there is no transition, hence no transitionend.
          el.closest('.monaco-workbench')?.classList.contains('reduce-motion') === true,
      ),
    'notification toast to finish sliding in',
    timeoutMs,
    POLL_MS,
  );
  return toast;
}

/**
 * Clears every notification toast and waits until none is left. The palette closes before the
 * command has run: a test that goes on at once can see its next toast cleared by this one.
 */
export async function clearNotifications(page: Page, timeoutMs = 30_000): Promise<void> {
  await runCommand(page, 'Notifications: Clear All Notifications').catch(() => undefined);
  await waitFor(async () => (await page.locator('.notifications-toasts .notification-toast').count()) === 0, 'the notification toasts to be cleared', timeoutMs, POLL_MS);
}

/** Saves a full-window PNG as test-results/e2e/NAME.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const dir = resultsDir();
  await fsp.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name.replace(/[^\w.-]+/g, '_')}.png`);
  await page.screenshot({ path: file });
  return file;
}

/* ------------------------------------------------------------------ logs */

function listFiles(dir: string): string[] {
  let out: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      out = out.concat(listFiles(full));
    } else if (e.isFile() && e.name.endsWith('.log')) {
      out.push(full);
    }
  }
  return out;
}

/**
 * Everything the extension host logged: `logsDir/<session>/exthost*\/remoteexthost.log`
 * first, then the other logs below exthost* (output channels, extension log channels),
 * each under a `=== path ===` header. Empty string when nothing was written yet.
 */
export function readExtHostLog(logsDir: string): string {
  const parts: string[] = [];
  let sessions: string[];
  try {
    sessions = fs.readdirSync(logsDir).sort();
  } catch {
    return '';
  }
  for (const session of sessions) {
    const sessionDir = path.join(logsDir, session);
    let hosts: string[];
    try {
      hosts = fs.readdirSync(sessionDir).filter((n) => n.startsWith('exthost')).sort();
    } catch {
      continue;
    }
    for (const host of hosts) {
      const files = listFiles(path.join(sessionDir, host));
      const main = files.filter((f) => path.basename(f) === 'remoteexthost.log');
      const others = files.filter((f) => path.basename(f) !== 'remoteexthost.log');
      for (const file of [...main, ...others]) {
        let text: string;
        try {
          text = fs.readFileSync(file, 'utf8');
        } catch {
          continue;
        }
        parts.push(`=== ${path.relative(logsDir, file)} ===\n${text}`);
      }
    }
  }
  return parts.join('\n');
}

/** The real S3 server scripts/test-e2e.sh started (scripts/s3-server.sh), or undefined when run without it. */
export const S3_ENV = process.env.S3_ENDPOINT
  ? { endpoint: process.env.S3_ENDPOINT, accessKey: process.env.S3_ACCESS_KEY ?? '', secretKey: process.env.S3_SECRET_KEY ?? '', region: process.env.S3_REGION ?? 'us-east-1' }
  : undefined;

/** Creates the bucket (if it is not there yet) on the S3_ENV server and puts these objects in it. */
export async function seedBucket(bucket: string, objects: Record<string, string | Buffer>): Promise<void> {
  if (!S3_ENV) throw new Error('seedBucket needs S3_ENDPOINT (run through scripts/test-e2e.sh)');
  const { S3Client, CreateBucketCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({ endpoint: S3_ENV.endpoint, region: S3_ENV.region, forcePathStyle: true, credentials: { accessKeyId: S3_ENV.accessKey, secretAccessKey: S3_ENV.secretKey } });
  try {
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    } catch (err) {
      if ((err as { name?: string }).name !== 'BucketAlreadyOwnedByYou') throw err;
    }
    for (const [key, body] of Object.entries(objects)) await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  } finally {
    client.destroy();
  }
}
