// Which of the core's problems the editor shows itself. VS Code's JSON service already reports
// syntax and schema errors for *.pipeline.json (contributes.jsonValidation); showing the core's
// wording of the same errors would underline everything twice. Pure, unit-tested.
import type { Problem } from '../../core/types';

const SCHEMA_MESSAGES = [
  /^Invalid JSON: /,
  /^The file is empty\./,
  / is missing ".+"\. Add it\.$/,
  /^Unknown property ".+"( in a .+ block)?\. Remove it or check its spelling\.$/,
  / must be one of .+\.$/,
  / must be (string|number|integer|boolean|object|array|null)(,[a-z]+)*\.$/,
  / must be a valid [a-z-]+\.$/,
  / must not be empty\.$/,
  / has the wrong format \(/,
  /^Step \d+ needs a "builtinTransformationBlock"/,
  / must be (<|>|<=|>=) [\d.]+\.$/,
];

/** True for problems the JSON language service reports too (syntax and schema). */
export function isSchemaProblem(p: Problem): boolean {
  if (p.code) return false;
  return SCHEMA_MESSAGES.some((re) => re.test(p.message));
}

/** The problems to show as this extension's diagnostics. */
export function editorProblems(problems: readonly Problem[]): Problem[] {
  return problems.filter((p) => !isSchemaProblem(p));
}
