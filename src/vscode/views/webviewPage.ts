// The page every webview of the extension loads: a strict CSP with a per-load script nonce, the
// codicons, its stylesheet from media/, its body, and its bundle from dist/webview/.
import * as crypto from 'node:crypto';
import * as vscode from 'vscode';

export function webviewPage(webview: vscode.Webview, media: vscode.Uri, dist: vscode.Uri, page: { title: string; css: string; script: string; body: string }): string {
  const nonce = crypto.randomBytes(16).toString('base64');
  const src = (base: vscode.Uri, ...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(base, ...p)).toString();
  const csp = [`default-src 'none'`, `img-src ${webview.cspSource} data:`, `font-src ${webview.cspSource}`, `style-src ${webview.cspSource}`, `script-src 'nonce-${nonce}'`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${src(dist, 'codicons', 'codicon.css')}" id="vscode-codicon-stylesheet">
<link rel="stylesheet" href="${src(media, page.css)}">
<title>${page.title}</title>
</head>
<body>
${page.body}
<script nonce="${nonce}" src="${src(dist, page.script)}"></script>
</body>
</html>`;
}
