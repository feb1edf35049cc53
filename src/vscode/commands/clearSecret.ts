import * as vscode from 'vscode';
import type { Deps } from '../deps';

/** Clear secret: remove a stored secret. */
export function registerClearSecret(context: vscode.ExtensionContext, { svc }: Deps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dataPipelines.clearSecret', async (nameArg?: unknown) => {
      let name = typeof nameArg === 'string' ? nameArg : undefined;
      if (!name) {
        const names = svc.secretNames();
        if (names.length === 0) {
          void vscode.window.showInformationMessage('No secret stored by Data Pipelines.');
          return;
        }
        name = await vscode.window.showQuickPick(names, { placeHolder: 'Which secret should be removed from Secret Storage?' });
      }
      if (!name) return;
      await svc.clearSecret(name);
      void vscode.window.showInformationMessage(`Secret ${name} removed. Steps that use \${secret:${name}} will ask for it again.`);
    }),
  );
}
