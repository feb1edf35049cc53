// The layering rules are enforced by lint: the core, the CLI and the webview never import vscode;
// the editor reaches the core only through its lazy loader; no promise floats in src.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ESLint } from 'eslint';

describe('lint: layering', function () {
  this.timeout(120_000);
  const root = path.resolve(__dirname, '../../..');
  /** Lints `code` as if it were `file`. Type-aware rules need a file the TypeScript project has; others need not exist. */
  const lint = async (file: string, code: string) => {
    const exists = fs.existsSync(path.join(root, file));
    const eslint = new ESLint({ cwd: root, ...(exists ? {} : { overrideConfig: { languageOptions: { parserOptions: { projectService: false } }, rules: { '@typescript-eslint/no-floating-promises': 'off' } } }) });
    const [r] = await eslint.lintText(code, { filePath: path.join(root, file) });
    return r.messages.map((m) => `${m.ruleId ?? ''}: ${m.message}`);
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

  it('fails when src/vscode imports a core value other than through the loader', async () => {
    const deep = await lint('src/vscode/views/fake.ts', "import { listRuns } from '../../core/run/history';\nexport const x = listRuns;\n");
    assert.ok(deep.some((m) => /lazy loader/.test(m)), deep.join('\n'));
    const index = await lint('src/vscode/language/fake.ts', "import { parseRef } from '../../core';\nexport const x = parseRef;\n");
    assert.ok(index.some((m) => /lazy loader/.test(m)), index.join('\n'));
    const top = await lint('src/vscode/fake.ts', "import { loadPipelineText } from '../core';\nexport const x = loadPipelineText;\n");
    assert.ok(top.some((m) => /lazy loader/.test(m)), top.join('\n'));
    const module = await lint('src/vscode/fake.ts', "import { formatBytes } from '../core/util/format';\nexport const x = formatBytes;\n");
    assert.ok(module.some((m) => /lazy loader/.test(m)), module.join('\n'));
  });

  it('allows type imports from the core and the loader itself', async () => {
    const a = await lint(
      'src/vscode/views/fake.ts',
      "import type { RunRecord } from '../../core';\nimport { type Step } from '../../core/pipeline/model';\nimport { core } from '../core';\nexport const x = core;\nexport type Y = RunRecord | Step;\n",
    );
    assert.deepEqual(a, []);
    const b = await lint('src/vscode/fake.ts', "import type * as Core from '../core';\nimport { core } from './core';\nexport const x = core;\nexport type Y = typeof Core;\n");
    assert.deepEqual(b, []);
  });

  it('fails on a floating promise in src (type-aware)', async () => {
    // Linted as the text of a file the TypeScript project has, so the type-aware rule runs.
    const code = "async function f(): Promise<void> {}\nf();\nvoid f();\nexport async function g(): Promise<void> {\n  await f();\n}\n";
    const a = await lint('src/vscode/trust.ts', code);
    assert.equal(a.filter((m) => m.startsWith('@typescript-eslint/no-floating-promises')).length, 1, a.join('\n'));
  });
});
