// "Run pipeline from code", as in Edge Impulse: start the local API (with an API key kept in
// SecretStorage) and show curl, Node.js and Python snippets for this pipeline.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { core } from '../core';
import type { Deps } from '../deps';
import { requireTrust } from '../trust';
import { resolvePipeline } from '../pickers';
import { PIPELINE_GLOB } from '../services';

const KEY_SECRET = 'DSP_API_KEY';
const SCHEME = 'data-pipelines-code';

/** The snippets page: a read-only document, so closing it never asks to save. */
class SnippetsProvider implements vscode.TextDocumentContentProvider {
  readonly pages = new Map<string, string>();
  readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.pages.get(uri.path) ?? '';
  }
}

export function registerRunFromCode(context: vscode.ExtensionContext, { svc }: Deps): void {
  let server: { url: string; close(): Promise<void> } | undefined;
  const snippets = new SnippetsProvider();
  context.subscriptions.push(
    { dispose: () => void server?.close() },
    snippets.changed,
    vscode.workspace.registerTextDocumentContentProvider(SCHEME, snippets),
    vscode.commands.registerCommand('dataPipelines.runFromCode', async (arg?: unknown) => {
      if (!requireTrust('Run pipeline from code')) return;
      const uri = await resolvePipeline(arg);
      if (!uri) return;
      const c = await core();
      let key = await context.secrets.get(KEY_SECRET);
      if (!key) {
        key = c.generateApiKey();
        await context.secrets.store(KEY_SECRET, key);
      }
      const folder = vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath ?? path.dirname(uri.fsPath);
      if (!server) {
        const files = (await vscode.workspace.findFiles(PIPELINE_GLOB, '**/node_modules/**')).map((u) => u.fsPath);
        const port = vscode.workspace.getConfiguration('dataPipelines').get<number>('api.port', 8787);
        try {
          // Scheduling stays with the editor's own scheduler; this server only answers the API.
          server = await c.startApiServer({ files, root: folder, apiKey: key, port, schedule: false, logger: svc.logger('api: '), resolver: svc.resolver(), notify: { smtp: await svc.smtp() } });
        } catch (err) {
          void vscode.window.showErrorMessage(`Could not start the local API on 127.0.0.1:${port} (${(err as Error).message}). Change dataPipelines.api.port or stop what uses the port.`);
          return;
        }
        svc.log.info(`local API listening on ${server.url}`);
      }
      const id = c.pipelineId(folder, uri.fsPath);
      const url = `${server.url}/api/pipelines/${encodeURIComponent(id)}/run`;
      const doc = [
        `# Run "${id}" from code`,
        '',
        `The local API is listening on ${server.url} while this window is open (\`data-pipelines serve\` does the same without the editor).`,
        'The API key is in Secret Storage; copy it with the button in the notification, and keep it out of your code (an environment variable).',
        '',
        '## curl',
        '```sh',
        `curl -X POST -H "x-api-key: $DSP_API_KEY" '${url}?wait=1'`,
        '```',
        '## Node.js',
        '```js',
        `const res = await fetch('${url}', { method: 'POST', headers: { 'x-api-key': process.env.DSP_API_KEY } });`,
        'console.log(await res.json()); // { runId, status }',
        '```',
        '## Python',
        '```python',
        'import os, requests',
        `r = requests.post('${url}', headers={'x-api-key': os.environ['DSP_API_KEY']})`,
        'print(r.json())',
        '```',
        '',
        `Other endpoints: GET ${server.url}/api/pipelines, GET ${server.url}/api/pipelines/${encodeURIComponent(id)}/runs, POST …/cancel.`,
      ].join('\n');
      const page = vscode.Uri.from({ scheme: SCHEME, path: `/${id.replace(/[^\w.-]+/g, '_')}.md` });
      snippets.pages.set(page.path, doc);
      snippets.changed.fire(page);
      const md = await vscode.workspace.openTextDocument(page);
      await vscode.languages.setTextDocumentLanguage(md, 'markdown');
      await vscode.window.showTextDocument(md, { preview: true });
      const b = await vscode.window.showInformationMessage(`Local API on ${server.url}. The API key is in Secret Storage.`, 'Copy API Key');
      if (b === 'Copy API Key') await vscode.env.clipboard.writeText(key);
    }),
  );
}
