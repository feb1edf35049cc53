// Hover docs the JSON service cannot give: what a block type does and every field it takes (from
// the schema's descriptions), whether a ${secret:…}/${env:…} reference is set (never its value),
// and when a schedule runs next.
import { findNodeAtLocation, getLocation, parseTree } from 'jsonc-parser';
import * as vscode from 'vscode';
import { core } from '../core';
import { describeNextRun } from '../lib/runFormat';
import { blockTypeDoc } from '../lib/schemaDocs';
import { PIPELINE_SELECTOR, type Services } from '../services';

export function registerHover(context: vscode.ExtensionContext, svc: Services): void {
  context.subscriptions.push(
    vscode.languages.registerHoverProvider(PIPELINE_SELECTOR, {
      async provideHover(doc, position) {
        const text = doc.getText();
        const loc = getLocation(text, doc.offsetAt(position));
        const node = loc.previousNode;
        if (!node || node.type !== 'string' || loc.isAtPropertyKey) return undefined;
        const range = new vscode.Range(doc.positionAt(node.offset), doc.positionAt(node.offset + node.length));
        const value = node.value as string;
        const p = loc.path;
        const md = new vscode.MarkdownString();
        if (p.length === 4 && p[0] === 'steps' && p[2] === 'builtinTransformationBlock' && p[3] === 'type') {
          const d = blockTypeDoc(value);
          if (!d) return undefined;
          md.appendMarkdown(d);
          return new vscode.Hover(md, range);
        }
        const c = await core();
        const ref = c.parseRef(value);
        if (ref?.kind === 'secret') {
          const set = await svc.hasSecret(ref.name);
          md.isTrusted = { enabledCommands: ['dataPipelines.setSecret'] };
          const args = encodeURIComponent(JSON.stringify([ref.name]));
          md.appendMarkdown(
            set
              ? `$(pass) Secret **${ref.name}** is stored in VS Code Secret Storage. [Replace it…](command:dataPipelines.setSecret?${args})`
              : `$(warning) Secret **${ref.name}** is not set, so runs will stop at this step. [Set it…](command:dataPipelines.setSecret?${args}) The CLI reads the environment variable ${ref.name} instead.`,
          );
          md.supportThemeIcons = true;
          return new vscode.Hover(md, range);
        }
        if (ref?.kind === 'env') {
          const set = process.env[ref.name] !== undefined && process.env[ref.name] !== '';
          md.supportThemeIcons = true;
          md.appendMarkdown(set ? `$(pass) Environment variable **${ref.name}** is set in the extension host.` : `$(warning) Environment variable **${ref.name}** is not set in the extension host. Set it before starting VS Code, or use \`\${secret:NAME}\`.`);
          return new vscode.Hover(md, range);
        }
        if (p.length === 1 && (p[0] === 'schedule' || p[0] === 'intervalStr')) {
          const tree = parseTree(text);
          const sched = tree && findNodeAtLocation(tree, ['schedule']);
          const interval = tree && findNodeAtLocation(tree, ['intervalStr']);
          const d = describeNextRun(c, { schedule: sched?.value as string | undefined, intervalStr: interval?.value as string | undefined }, undefined);
          if (!d) return undefined;
          md.appendText(`${d}.`);
          return new vscode.Hover(md, range);
        }
        return undefined;
      },
    }),
  );
}
