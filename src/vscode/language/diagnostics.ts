// Diagnostics from the core's semantic checks, at the exact range of the offending node.
import * as vscode from 'vscode';
import type { Problem } from '../../core';
import { editorProblems } from '../lib/problems';
import { isPipelineUri, type Services } from '../services';
import { forgetParsedPipeline, parsedPipeline } from './parsedPipeline';

const SEVERITY: Record<Problem['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

export function toDiagnostic(doc: vscode.TextDocument, p: Problem): vscode.Diagnostic {
  const start = doc.positionAt(p.range.offset);
  const end = doc.positionAt(p.range.offset + Math.max(1, p.range.length));
  const d = new vscode.Diagnostic(new vscode.Range(start, end), p.message, SEVERITY[p.severity]);
  d.source = 'Data Pipelines';
  if (p.code) d.code = p.code;
  return d;
}

export function registerDiagnostics(context: vscode.ExtensionContext, svc: Services): void {
  const collection = vscode.languages.createDiagnosticCollection('data-pipelines');
  const timers = new Map<string, NodeJS.Timeout>();

  const check = async (doc: vscode.TextDocument) => {
    if (!isPipelineUri(doc.uri) || doc.isClosed) return;
    const loaded = await parsedPipeline(doc);
    collection.set(doc.uri, editorProblems(loaded.problems).map((p) => toDiagnostic(doc, p)));
  };
  const schedule = (doc: vscode.TextDocument, delay: number) => {
    if (!isPipelineUri(doc.uri)) return;
    const key = doc.uri.toString();
    clearTimeout(timers.get(key));
    timers.set(
      key,
      setTimeout(() => {
        timers.delete(key);
        check(doc).catch((err) => svc.log.error(`diagnostics: ${String(err)}`));
      }, delay),
    );
  };

  context.subscriptions.push(
    collection,
    vscode.workspace.onDidOpenTextDocument((d) => schedule(d, 0)),
    vscode.workspace.onDidChangeTextDocument((e) => schedule(e.document, 200)),
    vscode.workspace.onDidSaveTextDocument((d) => schedule(d, 0)),
    vscode.workspace.onDidCloseTextDocument((d) => {
      collection.delete(d.uri);
      forgetParsedPipeline(d.uri);
    }),
    { dispose: () => timers.forEach((t) => clearTimeout(t)) },
  );
  // Documents already open when the extension activated.
  for (const doc of vscode.workspace.textDocuments) schedule(doc, 0);
}
