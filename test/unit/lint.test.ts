// The layering rule is enforced by lint: the core, the CLI and the webview never import vscode.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { ESLint } from 'eslint';

describe('lint: layering', function () {
  this.timeout(60_000);
  const root = path.resolve(__dirname, '../../..');
  const lint = async (file: string, code: string) => {
    const [r] = await new ESLint({ cwd: root }).lintText(code, { filePath: path.join(root, file) });
    return r.messages.map((m) => m.message);
  };

  it('fails when src/core imports vscode (import or require)', async () => {
    const a = await lint('src/core/fake.ts', "import * as vscode from 'vscode';\nexport const x = vscode;\n");
    assert.ok(a.some((m) => /must not import vscode/.test(m)), a.join('\n'));
    const b = await lint('src/core/run/fake.ts', "// eslint-disable-next-line @typescript-eslint/no-require-imports\nexport const v = require('vscode');\n");
    assert.ok(b.some((m) => /must not require vscode/.test(m)), b.join('\n'));
  });

  it('allows vscode in src/vscode', async () => {
    const a = await lint('src/vscode/fake.ts', "import * as vscode from 'vscode';\nexport const x = vscode;\n");
    assert.deepEqual(a, []);
  });
});
