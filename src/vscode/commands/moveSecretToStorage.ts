import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import * as vscode from 'vscode';
import type { Deps } from '../deps';
import type { SecretFixArgs } from '../language/codeActions';
import { replaceValueWithSecretRef, suggestSecretName, validateSecretName } from '../lib/pipelineDoc';

/** Quick fix: store a literal secret in Secret Storage and put ${secret:NAME} in its place. */
export function registerMoveSecretToStorage(context: vscode.ExtensionContext, { svc }: Deps): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('dataPipelines.moveSecretToStorage', async (args: SecretFixArgs) => {
      const uri = vscode.Uri.parse(args.uri);
      const doc = await vscode.workspace.openTextDocument(uri);
      // Other unsaved edits are the user's to save; otherwise saving is part of the fix, or the
      // secret would stay on disk (and in the next commit) until the user saves.
      const wasDirty = doc.isDirty;
      const text = doc.getText();
      const tree = parseTree(text);
      const node = tree && findNodeAtLocation(tree, args.path);
      if (node?.type !== 'string') return;
      const secret = node.value as string;
      const stepName = tree && findNodeAtLocation(tree, [...args.path.slice(0, 2), 'name'])?.value;
      const blockType = tree && findNodeAtLocation(tree, [...args.path.slice(0, -1), 'type'])?.value;
      const name = await vscode.window.showInputBox({
        title: `Move ${args.field} to Secret Storage`,
        prompt: `Name of the secret. The file will say \${secret:NAME}; the CLI reads the environment variable NAME.`,
        value: suggestSecretName(String(stepName ?? ''), args.field, typeof blockType === 'string' ? blockType : undefined),
        validateInput: validateSecretName,
        ignoreFocusOut: true,
      });
      if (!name) return;
      await svc.storeSecret(name, secret);
      // Re-read: the document may have changed while the input box was open.
      const edit = replaceValueWithSecretRef(doc.getText(), args.path, name);
      if (!edit) return;
      const we = new vscode.WorkspaceEdit();
      we.replace(uri, new vscode.Range(doc.positionAt(edit.offset), doc.positionAt(edit.offset + edit.length)), edit.content);
      if (!(await vscode.workspace.applyEdit(we))) {
        void vscode.window.showErrorMessage(`Could not edit ${vscode.workspace.asRelativePath(uri)}: replace the ${args.field} value with "\${secret:${name}}" by hand (the secret is stored already).`);
        return;
      }
      const saved = !wasDirty && (await doc.save());
      void vscode.window.showInformationMessage(`${args.field} is now \${secret:${name}}; the value is in Secret Storage.${saved ? '' : ' Save the file to remove the secret from disk.'}`);
    }),
  );
}
