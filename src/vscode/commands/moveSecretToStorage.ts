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
      await vscode.workspace.applyEdit(we);
      void vscode.window.showInformationMessage(`${args.field} is now \${secret:${name}}; the value is in Secret Storage. Save the file.`);
    }),
  );
}
