// What every part of the extension shares: the log channel, secrets, the change events the views
// listen to, and the runs in progress. Created in activate(); cheap (no I/O).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { core } from './core';
import type { Logger, Resolver, RunRecord, SmtpConfig } from '../core';
import { RunStore } from './runStore';

export const PIPELINE_GLOB = '**/*.pipeline.json';
export const PIPELINE_SELECTOR: vscode.DocumentSelector = [{ language: 'json', pattern: PIPELINE_GLOB }];
const SECRET_INDEX_KEY = 'dataPipelines.secretNames';

export function isPipelineUri(uri: vscode.Uri | undefined): uri is vscode.Uri {
  return !!uri && uri.path.endsWith('.pipeline.json');
}

export interface ActiveRun {
  file: string;
  /** Where its record goes (the run store files it there). */
  datasetDir: string;
  controller: AbortController;
  run?: RunRecord;
  steps?: string[];
}

export class Services implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  /** Runs started, progressed or ended (ours or the CLI's, seen through the file watcher). */
  readonly onDidChangeRuns = new vscode.EventEmitter<void>();
  /** A secret was stored or cleared. */
  readonly onDidChangeSecrets = new vscode.EventEmitter<void>();
  readonly activeRuns = new Map<string, ActiveRun>();
  /** Run history for the views, in memory (fed by the runner, reloaded when records change on disk). */
  readonly runs = new RunStore();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(readonly context: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('Data Pipelines', { log: true });
    this.disposables.push(this.log, this.onDidChangeRuns, this.onDidChangeSecrets, this.runs);
    this.disposables.push(context.secrets.onDidChange(() => this.onDidChangeSecrets.fire()));
  }

  /** The engine's logger, into the log channel. */
  logger(prefix = ''): Logger {
    const p = prefix ? `${prefix} ` : '';
    return {
      info: (m) => this.log.info(p + m),
      warn: (m) => this.log.warn(p + m),
      error: (m) => this.log.error(p + m),
      debug: (m) => this.log.debug(p + m),
    };
  }

  /** ${secret:NAME} from SecretStorage, ${env:VAR} from the extension host's environment. */
  resolver(overrides: Record<string, string> = {}): Resolver {
    return {
      secret: async (name) => overrides[name] ?? (await this.context.secrets.get(name)),
      env: process.env,
    };
  }

  /** SMTP for email reports: the dataPipelines.smtp.* settings with the SMTP_PASSWORD secret, else DSP_SMTP_URL. */
  async smtp(): Promise<SmtpConfig | undefined> {
    const cfg = vscode.workspace.getConfiguration('dataPipelines.smtp');
    const url = cfg.get<string>('url', '');
    const from = cfg.get<string>('from', '') || undefined;
    if (!url) {
      const { smtpFromEnv } = await core();
      return smtpFromEnv(from ? { ...process.env, DSP_SMTP_FROM: from } : process.env);
    }
    try {
      const u = new URL(url);
      const secure = u.protocol === 'smtps:';
      return {
        host: u.hostname,
        port: Number(u.port || (secure ? 465 : 587)),
        secure,
        user: u.username ? decodeURIComponent(u.username) : undefined,
        pass: await this.context.secrets.get('SMTP_PASSWORD'),
        from: from ?? 'data-pipelines@localhost',
      };
    } catch {
      this.log.warn('dataPipelines.smtp.url is not a URL like smtp://user@host:587; email reports are not sent.');
      return undefined;
    }
  }

  /** SecretStorage cannot list its keys: remember the names (never the values) we stored. */
  secretNames(): string[] {
    return this.context.globalState.get<string[]>(SECRET_INDEX_KEY, []);
  }

  async storeSecret(name: string, value: string): Promise<void> {
    await this.context.secrets.store(name, value);
    const names = new Set(this.secretNames());
    names.add(name);
    await this.context.globalState.update(SECRET_INDEX_KEY, [...names].sort());
    this.log.info(`Stored secret ${name} in Secret Storage.`);
    this.onDidChangeSecrets.fire();
  }

  async clearSecret(name: string): Promise<void> {
    await this.context.secrets.delete(name);
    await this.context.globalState.update(
      SECRET_INDEX_KEY,
      this.secretNames().filter((n) => n !== name),
    );
    this.log.info(`Cleared secret ${name}.`);
    this.onDidChangeSecrets.fire();
  }

  async hasSecret(name: string): Promise<boolean> {
    return (await this.context.secrets.get(name)) !== undefined;
  }

  isRunning(file: string): boolean {
    return this.activeRuns.has(path.resolve(file));
  }

  dispose(): void {
    for (const r of this.activeRuns.values()) r.controller.abort();
    for (const d of this.disposables) d.dispose();
  }
}

/** The pipeline file a palette command is about: the active editor, else a pick (commands narrow their argument first: ../pickers). */
export async function pickPipelineUri(): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  if (isPipelineUri(active)) return active;
  const files = await vscode.workspace.findFiles(PIPELINE_GLOB, '**/node_modules/**', 200);
  if (files.length === 1) return files[0];
  if (files.length === 0) {
    void vscode.window.showWarningMessage('No *.pipeline.json file in this workspace. Create one with "Data Pipelines: Add Data Source…".', 'Add Data Source…').then((b) => {
      if (b) void vscode.commands.executeCommand('dataPipelines.addDataSource');
    });
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    files.map((f) => ({ label: path.basename(f.fsPath), description: vscode.workspace.asRelativePath(f), uri: f })),
    { placeHolder: 'Which pipeline?' },
  );
  return pick?.uri;
}

/** The document's current text (unsaved edits included) when open, else the file. */
export async function pipelineText(uri: vscode.Uri): Promise<string> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return open.getText();
  return Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8').replace(/^\uFEFF/, '');
}

/** Saves the pipeline when it has unsaved edits: a run reads what is on disk. */
export async function saveIfDirty(uri: vscode.Uri): Promise<void> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open?.isDirty) await open.save();
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
