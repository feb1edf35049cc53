// The core is the engine the CLI and the extension share: it must never depend on the editor. The
// editor reaches the core only through its lazy loader (src/vscode/core.ts), so the engine is not
// bundled into dist/extension.js (test/unit/bundle.test.ts checks the bundle).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Relative specifiers that reach src/core from src/vscode/<folder>/…: type imports only.
const CORE_FROM_SUBFOLDER = ['../../core', '../../core/**', '../../../core', '../../../core/**', '../../../../core', '../../../../core/**', '../core/**'];
const coreBoundary = (group) => ['error', {
  patterns: [{
    group,
    allowTypeImports: true,
    message: "src/vscode reaches the core only through the lazy loader: `const c = await core()` from src/vscode/core.ts (`import type` is fine). A value import bundles the engine into dist/extension.js.",
  }],
}];

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', '.tools/**', '.test-tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Type-aware: a promise nobody awaits, voids or catches loses its errors.
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
  {
    files: ['src/vscode/**/*.ts'],
    rules: { 'no-restricted-imports': 'off', '@typescript-eslint/no-restricted-imports': coreBoundary(CORE_FROM_SUBFOLDER) },
  },
  {
    // From src/vscode/*.ts, '../core' is the core itself (from a subfolder it is the loader).
    files: ['src/vscode/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': coreBoundary(['../core', ...CORE_FROM_SUBFOLDER]) },
  },
  {
    // The engine, the CLI and the API server read as small named parts (issue 9): no function over 80 lines.
    files: ['src/core/**/*.ts', 'src/cli/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ['src/core/**/*.ts', 'src/cli/**/*.ts', 'src/webview/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'src/core, src/cli and src/webview must not import vscode: put editor glue in src/vscode.' }],
      }],
      'no-restricted-syntax': ['error', {
        selector: "CallExpression[callee.name='require'][arguments.0.value='vscode']",
        message: 'src/core must not require vscode.',
      }],
    },
  },
);
