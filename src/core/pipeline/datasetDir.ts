// Where a pipeline's dataset lives: "dataset" beside the pipeline file, unless the file's top-level
// "dataset" says otherwise (relative to the file's folder). The one answer for the CLI, the
// validator, the API, the trees and the CodeLens. Pure, cheap, tolerant of broken JSON.
import * as path from 'node:path';
import { findNodeAtLocation, parseTree } from 'jsonc-parser';

export const DEFAULT_DATASET = 'dataset';

/** The dataset folder for a pipeline file, from the file's text (or an already-parsed "dataset" value). */
export function datasetDirFor(file: string, text: string | { dataset?: unknown }): string {
  const base = path.dirname(path.resolve(file));
  let value: unknown;
  if (typeof text === 'string') {
    const tree = parseTree(text, [], { allowTrailingComma: true });
    // Only the top-level key: a nested "dataset" (a step's field) is not the pipeline's.
    value = tree?.type === 'object' ? findNodeAtLocation(tree, ['dataset'])?.value : undefined;
  } else value = text?.dataset;
  return path.resolve(base, typeof value === 'string' && value !== '' ? value : DEFAULT_DATASET);
}
