// Which of the core's problems the editor shows itself. VS Code's JSON service already reports
// syntax and schema errors for *.pipeline.json (contributes.jsonValidation); showing the core's
// wording of the same errors would underline everything twice. Pure, unit-tested.
import type { Problem } from '../../core/types';

/** True for problems the JSON language service reports too (syntax and schema). */
export function isSchemaProblem(p: Problem): boolean {
  return p.source === 'syntax' || p.source === 'schema';
}

/** The problems to show as this extension's diagnostics. */
export function editorProblems(problems: readonly Problem[]): Problem[] {
  return problems.filter((p) => !isSchemaProblem(p));
}
