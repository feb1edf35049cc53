// data-pipelines runs FILE [--json] [--limit N]: the run history, newest first.
import { loadPipelineFile } from '../../core/pipeline/validate';
import { listRuns } from '../../core/run/history';
import { requireFile } from '../args';
import { EXIT } from '../exit';
import { out, outJson, table } from '../output';
import type { CommandContext } from './context';

export async function runs({ args: a }: CommandContext): Promise<number> {
  const file = requireFile(a);
  const loaded = loadPipelineFile(file);
  const records = listRuns(loaded.datasetDir, a.limit ?? 50);
  if (a.json) outJson(records);
  else if (!records.length) out('No runs yet. Start one with: data-pipelines run ' + file);
  else {
    const rows = [['id', 'trigger', 'status', 'started', 'duration', 'new', 'changed', 'rejected']];
    for (const r of records) rows.push([r.id, r.trigger, r.shards ? `${r.status} (${r.shards.length} shards)` : r.status, r.startedAt, `${((r.durationMs ?? 0) / 1000).toFixed(1)}s`, String(r.counts.new), String(r.counts.changed), String(r.counts.rejected)]);
    out(table(rows));
  }
  return EXIT.ok;
}
