// Hosts the preview webview: runs the core's preview (cancellable), sends the rows and counts to
// the page through the typed protocol, and answers the page's requests. One panel per pipeline.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { StepPreview } from '../../core';
import { restorableSource, type HostToWebview, type PreviewData, type PreviewRow, type WebviewToHost } from '../../webview/protocol';
import { core } from '../core';
import { mayOpenFromPreview } from '../lib/paths';
import { previewSummary } from '../lib/runFormat';
import { errorText, pipelineText, type Services } from '../services';
import { RESTRICTED_MESSAGE, requireTrust } from '../trust';
import { webviewPage } from './webviewPage';

/** The preview panel's view type, for the serializer and `onWebviewPanel:` activation. */
export const PREVIEW_VIEW_TYPE = 'dataPipelines.preview';

export function toPreviewData(title: string, file: string, previews: StepPreview[], durationMs: number): PreviewData {
  const rows: PreviewRow[] = [];
  for (const p of previews) {
    for (const i of p.items) rows.push({ step: p.step, key: i.key, size: i.size, label: i.label, category: i.category, path: i.path, status: i.status, action: i.action, reason: i.reason ?? i.warnings?.join('; '), labelSource: i.labelSource });
  }
  return {
    title,
    pipelineFile: file,
    generatedAt: new Date().toISOString(),
    durationMs,
    rows,
    steps: previews.map((p) => ({ step: p.step, type: p.type, sourceId: p.sourceId, objects: p.items.length, byCategoryLabel: p.byCategoryLabel, counts: { ...p.counts }, warnings: p.warnings })),
  };
}

class PreviewPanel implements vscode.Disposable {
  private data: PreviewData | undefined;
  private controller: AbortController | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly svc: Services,
    readonly panel: vscode.WebviewPanel,
    readonly uri: vscode.Uri,
    private steps: string[] | undefined,
  ) {
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: WebviewToHost) => this.onMessage(m)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  /** The panel closed (or the extension stops): stop the preview and drop the listeners. */
  dispose(): void {
    this.controller?.abort();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  private post(m: HostToWebview): void {
    void this.panel.webview.postMessage(m);
  }

  private onMessage(m: WebviewToHost): void {
    switch (m.type) {
      case 'ready':
        // The page (re)loaded, e.g. after being hidden: send what we have, or compute it.
        if (this.data) this.post({ type: 'preview', data: this.data });
        else void this.refresh();
        break;
      case 'refresh':
        void this.refresh();
        break;
      case 'showLog':
        this.svc.log.show(true);
        break;
      case 'openFile':
        void this.openFile(m.path);
        break;
    }
  }

  /** Opens a file the page names, if it is in the dataset folder or the workspace; refuses others. */
  private async openFile(requested: unknown): Promise<void> {
    try {
      if (typeof requested !== 'string' || !requested) throw new Error('no path');
      const c = await core();
      const datasetDir = c.datasetDirFor(this.uri.fsPath, await pipelineText(this.uri));
      // A relative path is a destination in the dataset.
      const file = path.resolve(datasetDir, requested);
      const roots = [datasetDir, ...(vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath)];
      if (!(await mayOpenFromPreview(file, roots))) {
        this.svc.log.warn(`[preview] Refused to open ${JSON.stringify(requested)}: it is outside the dataset folder (${datasetDir}) and the workspace.`);
        return;
      }
      await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file));
    } catch (err) {
      this.svc.log.warn(`[preview] Cannot open ${JSON.stringify(requested)}: ${errorText(err)}`);
    }
  }

  show(steps: string[] | undefined): void {
    const changed = JSON.stringify(steps) !== JSON.stringify(this.steps);
    this.steps = steps;
    this.panel.reveal(undefined, false);
    if (changed) void this.refresh();
  }

  async refresh(): Promise<void> {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    const file = this.uri.fsPath;
    const title = this.steps?.length ? `${this.steps.join(', ')} — ${path.basename(file)}` : path.basename(file);
    // The page keeps this in its state: after a window reload the serializer reopens the same preview.
    this.post({ type: 'source', source: { pipelineUri: this.uri.toString(), ...(this.steps?.length ? { steps: this.steps } : {}) } });
    this.post({ type: 'loading', title: `Previewing ${title}`, message: 'Listing objects…' });
    const started = Date.now();
    try {
      const c = await core();
      const loaded = c.loadPipelineText(await pipelineText(this.uri), file);
      const previews = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Previewing ${title}`, cancellable: true },
        (progress, token) => {
          token.onCancellationRequested(() => controller.abort());
          let last = 0;
          return c.previewPipeline(loaded, {
            steps: this.steps,
            signal: controller.signal,
            verifyLocal: vscode.workspace.getConfiguration('dataPipelines').get<boolean>('sync.verifyLocalFiles', false),
            logger: this.svc.logger('[preview]'),
            resolver: this.svc.resolver(),
            onProgress: (e) => {
              if (Date.now() - last < 200) return;
              last = Date.now();
              progress.report({ message: `${e.step}: ${e.message ?? e.phase}` });
              this.post({ type: 'progress', message: `${e.step}: ${e.message ?? e.phase}` });
            },
          });
        },
      );
      if (controller.signal.aborted) return;
      this.data = toPreviewData(loaded.pipeline?.name ? `${loaded.pipeline.name}${this.steps?.length ? ` — ${this.steps.join(', ')}` : ''}` : title, file, previews, Date.now() - started);
      for (const p of previews) this.svc.log.info(`[preview] ${previewSummary(p)}`);
      this.post({ type: 'preview', data: this.data });
    } catch (err) {
      if (controller.signal.aborted) return;
      this.svc.log.error(`[preview] ${errorText(err)}`);
      this.data = undefined;
      this.post({ type: 'error', title: 'The preview failed', message: errorText(err) });
      void vscode.window.showErrorMessage(`Preview failed: ${errorText(err)}`, 'Open Log').then((b) => b && this.svc.log.show(true));
    }
  }
}

export class PreviewPanels implements vscode.Disposable {
  private readonly panels = new Map<string, PreviewPanel>();
  /** Per panel, what adopt() subscribed to beside the panel itself. */
  private readonly subscriptions = new Map<string, vscode.Disposable>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly svc: Services,
  ) {}

  open(uri: vscode.Uri, steps?: string[]): void {
    if (!requireTrust('Preview')) return;
    const key = uri.toString();
    const existing = this.panels.get(key);
    if (existing) {
      existing.show(steps);
      return;
    }
    const panel = vscode.window.createWebviewPanel(PREVIEW_VIEW_TYPE, `Preview: ${path.basename(uri.fsPath)}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, this.webviewOptions());
    this.adopt(panel, uri, steps);
  }

  /**
   * A preview panel the workbench kept across a window reload: load the page again and preview
   * the pipeline its state names (the page asks for the data once it is ready).
   */
  restore(panel: vscode.WebviewPanel, state: unknown): void {
    const source = restorableSource(state);
    const existing = source && this.panels.get(vscode.Uri.parse(source.pipelineUri).toString());
    if (!source || existing) {
      // Nothing to show (or the same preview is open already, e.g. the command ran first).
      panel.dispose();
      return;
    }
    const uri = vscode.Uri.parse(source.pipelineUri);
    panel.webview.options = this.webviewOptions();
    if (!vscode.workspace.isTrusted) {
      // No popup at startup: the panel itself says why it is empty.
      panel.webview.html = this.html(panel.webview);
      void panel.webview.postMessage({ type: 'error', title: 'Preview disabled in Restricted Mode', message: RESTRICTED_MESSAGE } satisfies HostToWebview);
      return;
    }
    this.adopt(panel, uri, source.steps);
  }

  private webviewOptions(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.context.extensionUri, 'media'), vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview')] };
  }

  private html(webview: vscode.Webview): string {
    return previewHtml(webview, vscode.Uri.joinPath(this.context.extensionUri, 'media'), vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview'));
  }

  private adopt(panel: vscode.WebviewPanel, uri: vscode.Uri, steps: string[] | undefined): void {
    const key = uri.toString();
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, 'media', 'preview.svg');
    // The handler is attached before the page loads, so its 'ready' is not missed.
    const p = new PreviewPanel(this.svc, panel, uri, steps);
    panel.webview.html = this.html(panel.webview);
    this.panels.set(key, p);
    this.subscriptions.set(
      key,
      panel.onDidDispose(() => {
        this.panels.delete(key);
        this.subscriptions.get(key)?.dispose();
        this.subscriptions.delete(key);
      }),
    );
  }

  /**
   * The extension stops: previews in progress stop and every listener goes. The panels stay open
   * (the workbench keeps them across a window reload and the serializer restores them).
   */
  dispose(): void {
    for (const p of this.panels.values()) p.dispose();
    for (const d of this.subscriptions.values()) d.dispose();
    this.panels.clear();
    this.subscriptions.clear();
  }
}

/** Reopens preview panels after a window reload; `onWebviewPanel:dataPipelines.preview` activates for it. */
export function registerPreviewSerializer(previews: PreviewPanels): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(PREVIEW_VIEW_TYPE, {
    deserializeWebviewPanel: async (panel, state) => previews.restore(panel, state),
  });
}

function previewHtml(webview: vscode.Webview, media: vscode.Uri, dist: vscode.Uri): string {
  return webviewPage(webview, media, dist, { title: 'Preview', css: 'preview.css', script: 'preview.js', body: PREVIEW_BODY });
}

const PREVIEW_BODY = `<section id="status" data-kind="loading">
  <vscode-progress-ring></vscode-progress-ring>
  <h2 id="status-title">Loading…</h2>
  <p id="status-message"></p>
</section>
<main id="content" hidden>
  <header class="head">
    <div>
      <h1 id="title"></h1>
      <div id="subtitle" class="muted"></div>
    </div>
    <div class="head-actions">
      <vscode-button id="show-log" secondary icon="output">Log</vscode-button>
      <vscode-button id="refresh" icon="refresh">Refresh</vscode-button>
    </div>
  </header>
  <section id="cards" class="cards"></section>
  <section id="warnings-section" class="panel" hidden>
    <h2>Warnings <vscode-badge id="warnings-count" variant="counter"></vscode-badge></h2>
    <ul id="warnings"></ul>
  </section>
  <section class="panel">
    <h2>Samples per label <span class="legend"><span class="swatch training"></span>training <span class="swatch validation"></span>validation <span class="swatch testing"></span>testing</span></h2>
    <div id="chart" class="chart"></div>
    <p id="chart-empty" class="muted" hidden>No samples would be imported.</p>
  </section>
  <section class="panel table-panel">
    <div class="filters">
      <vscode-textfield id="search" placeholder="Search keys, labels, paths, reasons"><vscode-icon slot="content-before" name="search"></vscode-icon></vscode-textfield>
      <vscode-single-select id="filter-action" aria-label="Action">
        <vscode-option value="">All actions</vscode-option>
        <vscode-option value="download">download</vscode-option>
        <vscode-option value="move">move</vscode-option>
        <vscode-option value="skip">skip</vscode-option>
        <vscode-option value="reject">reject</vscode-option>
        <vscode-option value="delete">delete</vscode-option>
      </vscode-single-select>
      <vscode-single-select id="filter-category" aria-label="Category">
        <vscode-option value="">All categories</vscode-option>
        <vscode-option value="training">training</vscode-option>
        <vscode-option value="validation">validation</vscode-option>
        <vscode-option value="testing">testing</vscode-option>
        <vscode-option value="none">none</vscode-option>
      </vscode-single-select>
      <vscode-single-select id="filter-label" aria-label="Label"></vscode-single-select>
      <span id="shown-count" class="muted"></span>
    </div>
    <div class="table" role="table">
      <div class="row header" role="row"><div class="cell key">Key</div><div class="cell label">Label</div><div class="cell category">Category</div><div class="cell path">Destination</div><div class="cell action">Action</div></div>
      <div id="rows" class="rows"><div id="spacer"></div><div id="rows-body"></div><p id="empty-rows" class="muted" hidden>No object matches the filters.</p></div>
    </div>
  </section>
</main>`;
