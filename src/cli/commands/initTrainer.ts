// data-pipelines init-trainer [DIR] [--pipeline FILE] [--no-pretrained]: writes the reference
// PyTorch trainer and sets it as the pipeline's trainCommand.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { initTrainer } from '../../core/train/initTrainer';
import { UsageError } from '../args';
import { EXIT } from '../exit';
import { err, out, outJson } from '../output';
import type { CommandContext } from './context';

/** The pipeline to wire: --pipeline, a *.pipeline.json given as the argument, or the only one in DIR. */
function pipelineFor(dirArg: string | undefined, given: string | undefined): { dir?: string; pipeline?: string } {
  if (given) return { dir: dirArg, pipeline: given };
  if (dirArg?.endsWith('.pipeline.json')) return { pipeline: dirArg };
  const dir = path.resolve(dirArg ?? '.');
  const found = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.pipeline.json')) : [];
  if (found.length > 1) throw new UsageError(`${dir} holds ${found.length} pipeline files (${found.join(', ')}): say which with --pipeline FILE`);
  return { dir: dirArg, pipeline: found[0] && path.join(dir, found[0]) };
}

export async function initTrainerCommand({ args: a }: CommandContext): Promise<number> {
  const where = pipelineFor(a.files[0], a.pipeline);
  const r = initTrainer({ dir: where.dir, pipelineFile: where.pipeline, noPretrained: !a.pretrained });
  if (a.json) {
    outJson({ ...r, pipeline: where.pipeline ?? null });
    return EXIT.ok;
  }
  for (const f of r.files) out(`${f.written ? 'wrote' : 'kept'} ${path.relative(process.cwd(), f.path) || f.path}${f.note ? ` (${f.note})` : ''}`);
  out(`trainCommand: ${r.command}`);
  if (!where.pipeline) out('No pipeline file here: add that "trainCommand" to a project-action step with "retrainModel": true, or run again with --pipeline FILE.');
  for (const s of r.wired) out(`wired into step "${s}" of ${where.pipeline}`);
  if (r.addedStep) out(`added step "${r.addedStep}" (retrainModel) to ${where.pipeline}`);
  for (const k of r.kept) out(`left step "${k.step}" alone: ${k.why}`);
  for (const w of r.warnings) err(`warning: ${w}`);
  return EXIT.ok;
}
