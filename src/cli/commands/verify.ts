// data-pipelines verify FILE [--step NAME]: each import step's location and credentials.
import { verifyPipeline, type StepVerification } from '../../core/run/engine';
import { escapeControl, formatBytes, logEntry } from '../../core/util/format';
import { EXIT } from '../exit';
import { out, outJson } from '../output';
import { loadForEngine, type CommandContext } from './context';

function printVerification(r: StepVerification): void {
  out(`${r.result.ok ? 'ok  ' : 'FAIL'} ${escapeControl(r.step)} (${r.type})${r.result.credentialSource ? ` [credentials: ${escapeControl(r.result.credentialSource)}]` : ''}`);
  out(`     ${logEntry(r.result.detail)}${r.result.code && !r.result.ok ? ` (${escapeControl(r.result.code)})` : ''}`);
  for (const f of r.result.sampleFiles.slice(0, 10)) out(`     ${escapeControl(f.folder ? f.folder + '/' : '')}${escapeControl(f.name)}  ${formatBytes(f.size)}`);
}

export async function verify(ctx: CommandContext): Promise<number> {
  const r = loadForEngine(ctx);
  if (typeof r === 'number') return r;
  const results = await verifyPipeline(r.loaded, r.engine);
  if (ctx.args.json) outJson({ pipeline: r.loaded.pipeline.name, steps: results }, 2);
  else {
    if (!results.length) out('No import steps to verify.');
    for (const v of results) printVerification(v);
  }
  return results.every((v) => v.result.ok) ? EXIT.ok : EXIT.failed;
}
