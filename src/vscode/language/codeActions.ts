// Quick fixes for the core's problem codes: a literal secret moves to Secret Storage, and an
// Edge Impulse secretKeyEncrypted becomes "secretKey": "${secret:NAME}" after asking for the key.
import * as vscode from 'vscode';
import { core } from '../core';
import { PIPELINE_SELECTOR } from '../services';

export interface SecretFixArgs {
  uri: string;
  /** JSON path of the literal (literal-secret) or of the block (secret-key-encrypted). */
  path: (string | number)[];
  field: string;
}

export function registerCodeActions(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.languages.registerCodeActionsProvider(
      PIPELINE_SELECTOR,
      {
        async provideCodeActions(doc, range) {
          const c = await core();
          const loaded = c.loadPipelineText(doc.getText(), doc.uri.fsPath);
          const actions: vscode.CodeAction[] = [];
          for (const p of loaded.problems) {
            if (p.code !== 'literal-secret' && p.code !== 'secret-key-encrypted') continue;
            const r = new vscode.Range(doc.positionAt(p.range.offset), doc.positionAt(p.range.offset + p.range.length));
            if (!r.intersection(range) && !r.contains(range.start)) continue;
            const diagnostic = vscode.languages.getDiagnostics(doc.uri).find((d) => d.code === p.code && d.range.isEqual(r));
            if (p.code === 'literal-secret') {
              const field = String((p.data as { field?: string } | undefined)?.field ?? p.path[p.path.length - 1]);
              const a = new vscode.CodeAction(`Move ${field} to Secret Storage`, vscode.CodeActionKind.QuickFix);
              a.command = { title: a.title, command: 'dataPipelines.moveSecretToStorage', arguments: [{ uri: doc.uri.toString(), path: p.path, field } satisfies SecretFixArgs] };
              a.isPreferred = true;
              if (diagnostic) a.diagnostics = [diagnostic];
              actions.push(a);
            } else {
              const a = new vscode.CodeAction('Enter the secret key and store it in Secret Storage', vscode.CodeActionKind.QuickFix);
              a.command = { title: a.title, command: 'dataPipelines.replaceEncryptedSecret', arguments: [{ uri: doc.uri.toString(), path: p.path.slice(0, -1), field: 'secretKey' } satisfies SecretFixArgs] };
              a.isPreferred = true;
              if (diagnostic) a.diagnostics = [diagnostic];
              actions.push(a);
            }
          }
          return actions;
        },
      },
      { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] },
    ),
  );
}
