// data-pipelines: the headless command over the same engine the editor uses. This file is the
// entry point (dist/cli.js) and the usage text; each command is a file in ./commands.
import { setFlagsFromString } from 'node:v8';
import { DatasetLockedError } from '../core/dataset/lock';
import { errorMessage } from '../core/util/errors';
import { logEntry } from '../core/util/format';
import { parseArgs, UsageError, type Args } from './args';
import type { Command, CommandContext } from './commands/context';
import { EXIT } from './exit';
import { err, stderrLogger } from './output';

export { EXIT } from './exit';
export { parseArgs, UsageError } from './args';
export { summaryTable } from './output';

const USAGE = `Usage: data-pipelines <command> FILE [options]

Commands:
  validate FILE                 check a *.pipeline.json; prints FILE:LINE:COL: error|warning: message
  preview FILE [--json]         list every object with its label, category, path and action; writes nothing
  verify FILE [--step NAME]     check each import step's location and credentials
  run FILE [--dry-run]          sync the dataset and run the post-sync actions
      --shard K/N               only shard K of N (each lists all, syncs its share into the
                                shared dataset; a Kubernetes Indexed Job's JOB_COMPLETION_INDEX
                                with --shards N or DSP_SHARDS does the same); then
  finalize FILE                 merge the shards, write info.labels, run the actions once
  export k8s FILE --shards N [--image IMG] [--volume-claim NAME]
                                a Kubernetes Indexed Job over N shards and a finalize Job
  export github-actions FILE --shards N
                                a workflow: a matrix over N shards, then a finalize job
  runs FILE [--json]            the run history (newest first)
  label FILE --label L PATH…    give samples a label; --unlabel PATH… makes them unlabeled,
                                --category C PATH… moves them to training|validation|testing
                                (combinable with --label). PATHs are relative to the dataset, as
                                info.labels lists them. Later syncs keep these labels.
  explore FILE [--json] [--png OUT]   the data explorer: a 2-D map of every sample and data-quality findings
  versions FILE [--json]        the versions createVersion kept; then
      show ID                   one version: counts, metrics, model files
      diff A B                  samples added, removed, relabeled, recategorized from A to B
      restore ID [--to DIR]     the dataset becomes version ID (the current one is kept as a
                                new version), or with --to, ID is written into a new folder
      prune --keep N            delete all but the newest N versions
  init-trainer [DIR] [--pipeline FILE] [--no-pretrained]
                                write the reference PyTorch trainer (train.py, predict.py) and
                                set it as the pipeline's trainCommand
  serve [DIR|FILE…]             run pipelines on their schedules and serve the local API
                                (--port 8787, --host 127.0.0.1, --no-schedule); API key from
                                DSP_API_KEY or ~/.config/data-pipelines/api-key (created once)

Options:
  --json              print exactly one JSON document on stdout
  --step NAME         only this step (repeatable)
  --concurrency N     pin the transfers in flight (default: adaptive; S3 starts at 32 and grows up
                      to 512 while throughput grows, halving on throttling; GCS and Azure 16, folder 16)
  --dry-run           plan only (run)
  --verify-local      stat every file the sync state vouches for and compare its size (run,
                      preview); by default only folders whose time moved since the last sync are read
  --label L           the label to give (label)
  --unlabel           make the samples unlabeled (label)
  --category C        training, validation or testing (label)
  --png OUT           also write the map as a PNG image (explore)
  --quiet             no progress bar or log lines
  --verbose           debug log lines on stderr

Secrets: \${secret:NAME} and \${env:VAR} in the pipeline file are read from the environment.
Email reports: DSP_SMTP_URL=smtp://user:pass@host:587 (or DSP_SMTP_HOST, DSP_SMTP_PORT,
DSP_SMTP_USER, DSP_SMTP_PASS, DSP_SMTP_SECURE) and DSP_SMTP_FROM.

Exit codes:
  0    success
  1    the pipeline is invalid, or the run failed
  2    bad command line
  3    the run finished, but some objects were rejected or failed (see the report)
  4    another run holds this dataset's lock
  130  cancelled (Ctrl-C)
`;

// Each command's module (and the part of the engine it needs) loads when the command runs: a
// no-op `run` does not start up the exporter, the trainer, the API server or the mailer.
const COMMANDS: Record<string, Command> = {
  validate: async (c) => (await import('./commands/validate')).validate(c),
  preview: async (c) => (await import('./commands/preview')).preview(c),
  verify: async (c) => (await import('./commands/verify')).verify(c),
  run: async (c) => (await import('./commands/run')).run(c),
  finalize: async (c) => (await import('./commands/run')).finalize(c),
  export: async (c) => (await import('./commands/export')).exportCommand(c),
  runs: async (c) => (await import('./commands/runs')).runs(c),
  versions: async (c) => (await import('./commands/versions')).versions(c),
  'init-trainer': async (c) => (await import('./commands/initTrainer')).initTrainerCommand(c),
  explore: async (c) => (await import('./commands/explore')).explore(c),
  label: async (c) => (await import('./commands/label')).label(c),
  serve: async (c) => (await import('./commands/serve')).serve(c),
};

function usageError(message: string): number {
  err(`data-pipelines: ${logEntry(message)}\n\n${USAGE}`);
  return EXIT.usage;
}

/** The exit code for an error a command threw, with its message on stderr. */
function failure(e: unknown, signal: AbortSignal): number {
  if (e instanceof UsageError) return usageError(e.message);
  if (e instanceof DatasetLockedError) {
    err(`data-pipelines: ${logEntry(e.message)}`);
    return EXIT.locked;
  }
  if (signal.aborted) return EXIT.cancelled;
  err(`data-pipelines: ${logEntry(errorMessage(e))}`);
  return EXIT.failed;
}

/** Runs one command with Ctrl-C (and SIGTERM) wired to its signal: once cancels, twice exits. */
async function runCommand(a: Args & { command: string }): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.cancelled);
    process.stderr.write('\nCancelling… (press Ctrl-C again to stop at once)\n');
    controller.abort(new Error('cancelled'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const command = Object.hasOwn(COMMANDS, a.command) ? COMMANDS[a.command] : undefined;
    if (!command) throw new UsageError(`unknown command "${a.command}"`);
    const ctx: CommandContext = { args: a, logger: stderrLogger(a), signal: controller.signal };
    return await command(ctx);
  } catch (e) {
    return failure(e, controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export async function main(argv: string[]): Promise<number> {
  let a: Args;
  try {
    a = parseArgs(argv);
  } catch (e) {
    return usageError(errorMessage(e));
  }
  if (!a.command || a.command === 'help') {
    (a.command ? process.stdout : process.stderr).write(USAGE);
    return a.command ? EXIT.ok : EXIT.usage;
  }
  return runCommand({ ...a, command: a.command });
}

if (require.main === module) {
  // The old generation grows by 20% past what survives each full collection instead of V8's
  // default of up to 4x: a sync allocates fast and keeps little (66 MB live at 100,000 objects),
  // and the default let its peak RSS reach 370 MB; with this about 250 MB, in the same time.
  setFlagsFromString('--heap-growing-percent=20');
  // `data-pipelines preview FILE --json | head` closes stdout early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      err(`data-pipelines: ${logEntry(errorMessage(e))}`);
      process.exitCode = EXIT.failed;
    },
  );
}
