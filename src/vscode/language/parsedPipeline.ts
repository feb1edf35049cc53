// One parse of a pipeline document per version, shared by diagnostics and CodeLens (both ask the
// core's loadPipelineText about the same text, often right after each other on every edit).
import type * as vscode from 'vscode';
import { core, type CoreModule } from '../core';

export type LoadedPipelineText = ReturnType<CoreModule['loadPipelineText']>;

const cache = new Map<string, { version: number; loaded: LoadedPipelineText }>();

/** The core's loadPipelineText for this document, computed once per document version. */
export async function parsedPipeline(doc: vscode.TextDocument): Promise<LoadedPipelineText> {
  const key = doc.uri.toString();
  const hit = cache.get(key);
  if (hit && hit.version === doc.version) return hit.loaded;
  const c = await core();
  const loaded = c.loadPipelineText(doc.getText(), doc.uri.fsPath);
  // Only the latest version of an open document is kept.
  if (!doc.isClosed) cache.set(key, { version: doc.version, loaded });
  return loaded;
}

/** A document closed: drop its parse. */
export function forgetParsedPipeline(uri: vscode.Uri): void {
  cache.delete(uri.toString());
}
