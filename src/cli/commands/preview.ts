// data-pipelines preview FILE [--json]: every object with its label, category, path and action.
import { previewPipeline } from '../../core/run/engine';
import { shardFrom } from '../../core/run/shard';
import { EXIT } from '../exit';
import { out, outJson, previewTable } from '../output';
import { loadForEngine, type CommandContext } from './context';

export async function preview(ctx: CommandContext): Promise<number> {
  const r = loadForEngine(ctx);
  if (typeof r === 'number') return r;
  // --shard K/N: that shard's share, to size N before a sharded run.
  const previews = await previewPipeline(r.loaded, { ...r.engine, shard: shardFrom({ shard: ctx.args.shard, shards: ctx.args.shards }, process.env) });
  r.bar.clear();
  if (ctx.args.json) outJson({ pipeline: r.loaded.pipeline.name, dataset: r.loaded.datasetDir, steps: previews });
  else out(previewTable(previews));
  return EXIT.ok;
}
