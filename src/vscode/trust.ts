// Restricted Mode: a pipeline file can name commands to run and endpoints to send secrets to, so
// anything that resolves secrets, touches storage or runs commands waits for workspace trust.
import * as vscode from 'vscode';

export const RESTRICTED_MESSAGE =
  'Running, previewing and verifying pipelines is disabled in Restricted Mode: a pipeline can run commands and send your secrets to the endpoints it names. Editing, diagnostics and completion still work. Trust this workspace to enable runs.';

/** True when trusted; otherwise explains why nothing happens and offers to manage trust. */
export function requireTrust(what: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(`${what}: ${RESTRICTED_MESSAGE}`, 'Manage Workspace Trust').then((b) => {
    if (b) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return false;
}
