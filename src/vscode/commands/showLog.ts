import * as vscode from 'vscode';
import type { Deps } from '../deps';

export function registerShowLog(context: vscode.ExtensionContext, { svc }: Deps): void {
  context.subscriptions.push(vscode.commands.registerCommand('dataPipelines.showLog', () => svc.log.show(true)));
}
