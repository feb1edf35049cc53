// Completion of whole built-in blocks (and whole steps holding them), with tab stops.
import { getLocation } from 'jsonc-parser';
import * as vscode from 'vscode';
import { BLOCK_SNIPPETS, completionSite, expandSnippet, stepSnippet } from '../lib/snippets';
import { PIPELINE_SELECTOR } from '../services';

/** True when the cursor is inside an object literal that is itself the value we would insert. */
function insideOpenObject(text: string, offset: number): boolean {
  for (let i = offset - 1; i >= 0; i--) {
    const ch = text[i];
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') continue;
    return ch === '{';
  }
  return false;
}

export function registerCompletion(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.languages.registerCompletionItemProvider(PIPELINE_SELECTOR, {
      provideCompletionItems(doc, position) {
        const text = doc.getText();
        const offset = doc.offsetAt(position);
        const loc = getLocation(text, offset);
        const site = completionSite(loc.path, loc.isAtPropertyKey, insideOpenObject(text, offset));
        if (!site) return undefined;
        const items = BLOCK_SNIPPETS.map((s, i) => {
          const item = new vscode.CompletionItem({ label: s.label, description: site === 'step' ? 'whole step' : 'whole block' }, vscode.CompletionItemKind.Module);
          item.detail = s.detail;
          item.insertText = new vscode.SnippetString(site === 'step' ? stepSnippet(s) : s.block);
          item.sortText = `!${i}`;
          item.filterText = `${s.type} ${s.label}`;
          item.documentation = new vscode.MarkdownString().appendCodeblock(expandSnippet(site === 'step' ? stepSnippet(s) : s.block), 'json');
          return item;
        });
        return new vscode.CompletionList(items, false);
      },
    }),
  );
}
