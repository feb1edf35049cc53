// Run reports as read-only markdown documents (data-pipelines-run:/<pipeline>/<run>.md), opened in
// the markdown preview: per step, per category × label, with warnings and errors.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunRecord } from '../../core';
import { core } from '../core';
import { runReportMarkdown } from '../lib/runFormat';

export const RUN_REPORT_SCHEME = 'data-pipelines-run';

export function runReportUri(run: RunRecord, datasetDir: string): vscode.Uri {
  return vscode.Uri.from({ scheme: RUN_REPORT_SCHEME, path: `/${run.pipeline.replace(/[/\\]/g, '_')}/${run.id}.md`, query: new URLSearchParams({ dataset: datasetDir }).toString() });
}

export class RunReportProvider implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  /** Records handed over directly (a run still in memory) by uri. */
  private readonly known = new Map<string, RunRecord>();

  remember(uri: vscode.Uri, run: RunRecord): void {
    this.known.set(uri.toString(), run);
    this.changed.fire(uri);
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const dataset = new URLSearchParams(uri.query).get('dataset') ?? '';
    const id = path.posix.basename(uri.path, '.md');
    const c = await core();
    const run = c.getRun(dataset, id) ?? this.known.get(uri.toString());
    if (!run) return `# Run ${id} not found\n\nIts record is no longer in ${dataset} (the history keeps the last 200 runs).\n`;
    return runReportMarkdown(run, c);
  }
}
