// data-pipelines validate FILE [--json]
import { formatProblem, loadPipelineFile } from '../../core/pipeline/validate';
import { escapeControl } from '../../core/util/format';
import { requireFile } from '../args';
import { EXIT } from '../exit';
import { err, out, outJson } from '../output';
import type { CommandContext } from './context';

export async function validate({ args: a }: CommandContext): Promise<number> {
  const file = requireFile(a);
  const loaded = loadPipelineFile(file);
  if (a.json) outJson({ file, valid: !!loaded.pipeline, problems: loaded.problems }, 2);
  else {
    for (const p of loaded.problems) out(formatProblem(file, p));
    if (!loaded.problems.length) err(`${escapeControl(file)}: ok`);
  }
  return loaded.pipeline ? EXIT.ok : EXIT.failed;
}
