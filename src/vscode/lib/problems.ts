// Which of the core's problems the editor shows itself. The extension registers an assist-only
// schema with VS Code's JSON service (dist/pipeline.editor.schema.json: descriptions, values and
// snippets for completion and hover, no validation keywords), so that every schema and semantic
// problem is shown once, by this extension, at the severity and range `validate` gives. The JSON
// service still reports JSON syntax errors itself; showing the core's wording of those too would
// underline everything twice. Pure, unit-tested.
import type { Problem } from '../../core/types';

/** True for problems the JSON language service reports too (JSON syntax). */
export function isJsonServiceProblem(p: Problem): boolean {
  return p.source === 'syntax';
}

/** The problems to show as this extension's diagnostics. */
export function editorProblems(problems: readonly Problem[]): Problem[] {
  return problems.filter((p) => !isJsonServiceProblem(p));
}
