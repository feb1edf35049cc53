// Exit codes of data-pipelines (the usage text lists them).
import type { RunRecord } from '../core/types';

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  partial: 3,
  locked: 4,
  cancelled: 130,
} as const;

export function exitForRun(run: RunRecord): number {
  switch (run.status) {
    case 'success':
      return run.counts.rejected || run.counts.checklistFailed ? EXIT.partial : EXIT.ok;
    case 'partial':
      return EXIT.partial;
    case 'cancelled':
      return EXIT.cancelled;
    default:
      return EXIT.failed;
  }
}
