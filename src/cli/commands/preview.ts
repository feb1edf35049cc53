// data-pipelines preview FILE [--json]: every object with its label, category, path and action.
import { previewPipeline } from '../../core';
import { EXIT } from '../exit';
import { out, outJson, previewTable } from '../output';
import { loadForEngine, type CommandContext } from './context';

export async function preview(ctx: CommandContext): Promise<number> {
  const r = loadForEngine(ctx);
  if (typeof r === 'number') return r;
  const previews = await previewPipeline(r.loaded, r.engine);
  r.bar.clear();
  if (ctx.args.json) outJson({ pipeline: r.loaded.pipeline.name, dataset: r.loaded.datasetDir, steps: previews });
  else out(previewTable(previews));
  return EXIT.ok;
}
