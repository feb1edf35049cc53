import * as vscode from 'vscode';
import type { Deps } from '../deps';

/** From the Pipelines view: open the file at the step's position. */
export function registerRevealStep(context: vscode.ExtensionContext, _deps: Deps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dataPipelines.revealStep', async (uri: vscode.Uri, offset: number) => {
      const doc = await vscode.workspace.openTextDocument(uri);
      const pos = doc.positionAt(offset);
      await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos) });
    }),
  );
}
