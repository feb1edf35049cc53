// What every command gets, and the loading that preview, verify and run share.
import { formatProblem, loadPipelineFile, type LoadedPipeline } from '../../core/pipeline/validate';
import type { EngineOptions } from '../../core/run/engine';
import type { Logger, ProgressEvent } from '../../core/types';
import { escapeControl } from '../../core/util/format';
import { requireFile, type Args } from '../args';
import { EXIT } from '../exit';
import { err, outJson, ProgressBar } from '../output';

export interface CommandContext {
  args: Args;
  logger: Logger;
  /** Aborted on Ctrl-C or SIGTERM. */
  signal: AbortSignal;
}

/** One command: resolves to the exit code. */
export type Command = (ctx: CommandContext) => Promise<number>;

export interface EngineRun {
  file: string;
  loaded: LoadedPipeline & { pipeline: NonNullable<LoadedPipeline['pipeline']> };
  bar: ProgressBar;
  engine: EngineOptions;
}

/**
 * Loads the pipeline file for a command that runs the engine. An invalid file is reported (no
 * engine run starts) and the exit code is returned instead; warnings go to stderr.
 */
export function loadForEngine({ args: a, logger, signal }: CommandContext): EngineRun | number {
  const file = requireFile(a);
  const loaded = loadPipelineFile(file);
  if (!loaded.pipeline) {
    for (const p of loaded.problems) err(formatProblem(file, p));
    err(`${escapeControl(file)}: the pipeline is invalid; nothing was run.`);
    if (a.json) outJson({ file, valid: false, problems: loaded.problems });
    return EXIT.failed;
  }
  for (const p of loaded.problems) if (!a.json && !a.quiet) err(formatProblem(file, p));
  const bar = new ProgressBar(!a.json && !a.quiet && !!process.stderr.isTTY);
  const engine = { signal, logger, steps: a.steps, concurrency: a.concurrency, verifyLocal: a.verifyLocal, onProgress: (e: ProgressEvent) => bar.update(e) };
  return { file, loaded: loaded as EngineRun['loaded'], bar, engine };
}
