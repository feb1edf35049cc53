// Hosts the Data Explorer webview: reads (or builds) the explorer map of a pipeline's dataset,
// sends it to the page as parallel arrays, serves thumbnails of dataset files through
// asWebviewUri, and applies the page's labeling through the core (under the dataset lock), with
// an undo stack. One panel per pipeline.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Category, ExplorerDoc, LoadedPipeline, RelabelResult } from '../../core';
import { EXPLORER_BODY } from '../../webview/explorerMarkup';
import type { ExplorerData, ExplorerToHost, HostToExplorer } from '../../webview/explorerProtocol';
import { core } from '../core';
import { errorText, pipelineText, type Services } from '../services';
import { requireTrust } from '../trust';
import { webviewPage } from './webviewPage';

export const EXPLORER_VIEW_TYPE = 'dataPipelines.explorer';
const CATEGORIES = ['training', 'validation', 'testing'];

/** The explorer document as the page takes it. */
export function toExplorerData(title: string, file: string, doc: ExplorerDoc): ExplorerData {
  const labels = [...new Set(doc.points.map((p) => p.label).filter((l): l is string => l !== null))].sort();
  const findings = [...new Set(doc.points.flatMap((p) => p.findings))].sort();
  const li = new Map(labels.map((l, i) => [l, i]));
  const fi = new Map(findings.map((f, i) => [f, i]));
  const embedding = doc.embedding.kind === 'training' ? `training embeddings${doc.embedding.runId ? ` of run ${doc.embedding.runId}` : ''}` : doc.embedding.kind === 'image-features' ? 'image features' : "the files' bytes (no image decoder here)";
  const quality: Record<string, number> = {};
  for (const f of findings) quality[f] = doc.points.filter((p) => p.findings.includes(f)).length;
  return {
    title,
    pipelineFile: file,
    updatedAt: doc.updatedAt,
    embedding,
    labels,
    categories: CATEGORIES,
    findings,
    paths: doc.points.map((p) => p.path),
    x: doc.points.map((p) => p.x),
    y: doc.points.map((p) => p.y),
    label: doc.points.map((p) => (p.label === null ? -1 : li.get(p.label)!)),
    category: doc.points.map((p) => Math.max(0, CATEGORIES.indexOf(p.category))),
    finding: doc.points.map((p) => p.findings.reduce((m, f) => m | (1 << fi.get(f)!), 0)),
    quality,
  };
}

type Change = RelabelResult['changed'][number];

class ExplorerPanel implements vscode.Disposable {
  private doc: ExplorerDoc | undefined;
  private loaded: LoadedPipeline | undefined;
  private readonly undo: Change[][] = [];
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly svc: Services,
    readonly panel: vscode.WebviewPanel,
    readonly uri: vscode.Uri,
  ) {
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: ExplorerToHost) => void this.onMessage(m)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  private post(m: HostToExplorer): void {
    void this.panel.webview.postMessage(m);
  }

  private async onMessage(m: ExplorerToHost): Promise<void> {
    try {
      switch (m.type) {
        case 'ready':
          return this.doc ? this.send() : this.load(false);
        case 'refresh':
          return this.load(true);
        case 'thumb':
          return this.thumb(m.path);
        case 'assign':
          await this.apply(m.paths, { label: m.label }, m.label === null ? 'unlabeled' : `labeled "${m.label}"`);
          return;
        case 'move':
          await this.apply(m.paths, { category: m.category as Category }, `moved to ${m.category}`);
          return;
        case 'undo':
          return this.undoLast();
        case 'open':
          return this.open(m.path);
      }
    } catch (err) {
      this.svc.log.error(`[explorer] ${errorText(err)}`);
      this.post({ type: 'applied', change: { message: errorText(err), changed: 0, canUndo: this.undo.length > 0 } });
      void vscode.window.showErrorMessage(`Data Explorer: ${errorText(err)}`);
    }
  }

  private send(): void {
    if (!this.doc || !this.loaded) return;
    this.post({ type: 'data', data: toExplorerData(this.loaded.pipeline?.name ?? path.basename(this.uri.fsPath), this.uri.fsPath, this.doc) });
  }

  /** The map as the last refresh wrote it, or a new one (always, when `rebuild`). */
  async load(rebuild: boolean): Promise<void> {
    const c = await core();
    this.loaded = c.loadPipelineText(await pipelineText(this.uri), this.uri.fsPath);
    const datasetDir = this.loaded.datasetDir;
    this.doc = rebuild ? undefined : c.readExplorer(datasetDir);
    if (!this.doc) {
      this.post({ type: 'loading', message: 'Computing the map of every sample…' });
      try {
        this.doc = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Data Explorer: computing the map' }, () => c.refreshExplorer(this.loaded!, { logger: this.svc.logger('[explorer]') }));
      } catch (err) {
        this.post({ type: 'error', title: 'The map could not be computed', message: errorText(err) });
        return;
      }
    }
    this.send();
  }

  private async thumb(rel: string): Promise<void> {
    if (!this.loaded || !this.doc?.points.some((p) => p.path === rel)) return; // only samples of this map
    const file = vscode.Uri.file(path.join(this.loaded.datasetDir, rel));
    this.post({ type: 'thumb', path: rel, src: this.panel.webview.asWebviewUri(file).toString() });
  }

  private async open(rel: string): Promise<void> {
    if (!this.loaded || !this.doc?.points.some((p) => p.path === rel)) return;
    await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(path.join(this.loaded.datasetDir, rel)));
  }

  private async apply(paths: string[], to: { label?: string | null; category?: 'training' | 'validation' | 'testing' }, what: string, isUndo = false): Promise<number> {
    if (!this.loaded || !paths.length) return 0;
    const c = await core();
    const r = await c.relabelSamples(this.loaded, { paths, ...to, logger: this.svc.logger('[explorer]') });
    this.doc = c.patchExplorer(this.loaded.datasetDir, r.changed) ?? this.doc;
    if (!isUndo && r.changed.length) this.undo.push(r.changed);
    const message = `${r.changed.length} sample${r.changed.length === 1 ? '' : 's'} ${what}${r.unchanged.length ? ` (${r.unchanged.length} already were)` : ''}.`;
    this.svc.log.info(`[explorer] ${message}`);
    this.send();
    this.post({ type: 'applied', change: { message, changed: r.changed.length, canUndo: this.undo.length > 0 } });
    this.svc.onDidChangeRuns.fire();
    return r.changed.length;
  }

  /** Puts the last change back: each sample to the label and category it had. */
  private async undoLast(): Promise<void> {
    const last = this.undo.pop();
    if (!last) return;
    const groups = new Map<string, { paths: string[]; label: string | null; category: 'training' | 'validation' | 'testing' }>();
    for (const ch of last) {
      const k = JSON.stringify([ch.from.label, ch.from.category]);
      const g = groups.get(k) ?? { paths: [], label: ch.from.label, category: ch.from.category as 'training' };
      g.paths.push(ch.to.path);
      groups.set(k, g);
    }
    let n = 0;
    for (const g of groups.values()) n += await this.apply(g.paths, { label: g.label, category: g.category }, 'put back', true);
    this.post({ type: 'applied', change: { message: `Undone: ${n} sample${n === 1 ? '' : 's'} put back.`, changed: n, canUndo: this.undo.length > 0 } });
  }
}

export class ExplorerPanels implements vscode.Disposable {
  private readonly panels = new Map<string, ExplorerPanel>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly svc: Services,
  ) {}

  async open(uri: vscode.Uri): Promise<void> {
    if (!requireTrust('Data Explorer')) return;
    const key = uri.toString();
    const existing = this.panels.get(key);
    if (existing) {
      existing.panel.reveal(undefined, false);
      return;
    }
    const c = await core();
    const datasetDir = c.datasetDirFor(uri.fsPath, await pipelineText(uri));
    const media = vscode.Uri.joinPath(this.context.extensionUri, 'media');
    const dist = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview');
    const panel = vscode.window.createWebviewPanel(EXPLORER_VIEW_TYPE, `Data Explorer: ${path.basename(uri.fsPath)}`, { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [media, dist, vscode.Uri.file(datasetDir)] });
    panel.iconPath = vscode.Uri.joinPath(media, 'preview.svg');
    const p = new ExplorerPanel(this.svc, panel, uri);
    panel.webview.html = explorerHtml(panel.webview, media, dist);
    this.panels.set(key, p);
    panel.onDidDispose(() => this.panels.delete(key));
  }

  dispose(): void {
    for (const p of this.panels.values()) p.dispose();
    this.panels.clear();
  }
}

function explorerHtml(webview: vscode.Webview, media: vscode.Uri, dist: vscode.Uri): string {
  return webviewPage(webview, media, dist, { title: 'Data Explorer', css: 'explorer.css', script: 'explorer.js', body: EXPLORER_BODY });
}
