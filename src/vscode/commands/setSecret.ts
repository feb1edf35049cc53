import * as vscode from 'vscode';
import type { Deps } from '../deps';
import { validateSecretName } from '../lib/pipelineDoc';

/** Set secret: store a value in VS Code's Secret Storage under a name used as ${secret:NAME}. */
export function registerSetSecret(context: vscode.ExtensionContext, { svc }: Deps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dataPipelines.setSecret', async (nameArg?: unknown, valueArg?: unknown) => {
      const name =
        typeof nameArg === 'string'
          ? nameArg
          : await vscode.window.showInputBox({
              title: 'Set Secret (1/2): name',
              prompt: 'The name pipelines use as ${secret:NAME}',
              placeHolder: 'AWS_SECRET_ACCESS_KEY',
              value: svc.secretNames()[0],
              validateInput: validateSecretName,
              ignoreFocusOut: true,
            });
      if (!name || validateSecretName(name)) return false;
      const value =
        typeof valueArg === 'string'
          ? valueArg
          : await vscode.window.showInputBox({
              title: `Set Secret (2/2): value of ${name}`,
              prompt: `Stored in VS Code's Secret Storage (the OS keychain), never in the pipeline file or the log.`,
              password: true,
              ignoreFocusOut: true,
              validateInput: (v) => (v ? undefined : 'Enter the secret value.'),
            });
      if (!value) return false;
      await svc.storeSecret(name, value);
      void vscode.window.showInformationMessage(`Secret ${name} stored. Pipelines refer to it as \${secret:${name}}.`);
      return true;
    }),
  );
}
