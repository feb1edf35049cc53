import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import * as vscode from 'vscode';
import type { Deps } from '../deps';
import type { SecretFixArgs } from '../language/codeActions';
import { replaceEncryptedSecret, suggestSecretName, validateSecretName } from '../lib/pipelineDoc';

/**
 * Quick fix for an Edge Impulse secretKeyEncrypted: it cannot be decrypted here, so ask for the
 * secret key itself, store it, and write "secretKey": "${secret:NAME}" in its place.
 */
export function registerReplaceEncryptedSecret(context: vscode.ExtensionContext, { svc }: Deps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dataPipelines.replaceEncryptedSecret', async (args: SecretFixArgs) => {
      const uri = vscode.Uri.parse(args.uri);
      const doc = await vscode.workspace.openTextDocument(uri);
      const wasDirty = doc.isDirty;
      const tree = parseTree(doc.getText());
      const stepName = tree && findNodeAtLocation(tree, [...args.path.slice(0, 2), 'name'])?.value;
      const accessKey = tree && findNodeAtLocation(tree, [...args.path, 'accessKey'])?.value;
      const value = await vscode.window.showInputBox({
        title: 'Secret key (1/2)',
        prompt: `The secret access key${typeof accessKey === 'string' ? ` for access key ${accessKey}` : ''}. Edge Impulse's encrypted copy cannot be decrypted outside Edge Impulse.`,
        password: true,
        ignoreFocusOut: true,
        validateInput: (v) => (v ? undefined : 'Enter the secret access key.'),
      });
      if (!value) return;
      const name = await vscode.window.showInputBox({
        title: 'Secret name (2/2)',
        prompt: 'The file will say ${secret:NAME}; the CLI reads the environment variable NAME.',
        value: suggestSecretName(String(stepName ?? ''), 'secretKey', 's3-to-project'),
        validateInput: validateSecretName,
        ignoreFocusOut: true,
      });
      if (!name) return;
      await svc.storeSecret(name, value);
      const edits = replaceEncryptedSecret(doc.getText(), args.path, name);
      const we = new vscode.WorkspaceEdit();
      for (const e of edits) we.replace(uri, new vscode.Range(doc.positionAt(e.offset), doc.positionAt(e.offset + e.length)), e.content);
      if (!(await vscode.workspace.applyEdit(we))) {
        void vscode.window.showErrorMessage(`Could not edit ${vscode.workspace.asRelativePath(uri)}: replace secretKeyEncrypted with "secretKey": "\${secret:${name}}" by hand (the key is stored already).`);
        return;
      }
      // Like the literal-secret fix: save unless the user had other unsaved edits.
      const saved = !wasDirty && (await doc.save());
      void vscode.window.showInformationMessage(`secretKeyEncrypted replaced by "secretKey": "\${secret:${name}}"; the key is in Secret Storage.${saved ? '' : ' Save the file.'}`);
    }),
  );
}
