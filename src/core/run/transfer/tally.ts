// What a step did, counted as it happens: totals, the samples per category and label, the keys
// that were not imported with their reasons, and the errors. Bounded, so a run of a million
// failing keys keeps a readable record.
import { UNLABELED } from '../../constants';
import { emptyCounts, type Counts, type PlanItem, type StepResult } from '../../types';
import { errorMessage } from '../../util/errors';

const MAX_PROBLEMS = 500;
const MAX_ERRORS = 20;
const MAX_ITEM_WARNINGS = 50;

export class StepTally {
  readonly counts = emptyCounts();
  readonly byCategoryLabel: Record<string, Record<string, Counts>> = {};
  readonly problems: StepResult['problems'] = [];
  readonly errors: string[] = [];
  readonly warnings: string[];

  constructor(warnings: string[]) {
    this.warnings = [...warnings];
  }

  /** Counts one sample under `field`, in the totals and in its category and label. */
  count(item: PlanItem, field: keyof Counts, by = 1): void {
    this.counts[field] += by;
    if (!item.category) return;
    const row = (this.byCategoryLabel[item.category] ??= {});
    const cell = (row[item.label ?? UNLABELED] ??= emptyCounts());
    cell[field] += by;
  }

  /** A key that was not imported, and why. */
  problem(key: string, reason: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push({ key, reason });
  }

  /** A key that failed: named among the problems and the errors, which set the step's status. */
  fail(key: string, what: string, err: unknown): void {
    this.problem(key, `${what}: ${errorMessage(err)}`);
    this.errors.push(`${key}: ${errorMessage(err)}`);
  }

  /** What the plan said about single samples this run places (renamed, escaped, read by fewer trainers). */
  notePlanWarnings(items: PlanItem[]): void {
    const noted = items.filter((i) => i.warnings?.length && (i.action === 'download' || i.action === 'move'));
    for (const it of noted.slice(0, MAX_ITEM_WARNINGS)) this.warnings.push(`${it.rel ?? it.key}: ${it.warnings!.join('; ')}`);
    if (noted.length > MAX_ITEM_WARNINGS) this.warnings.push(`${noted.length - MAX_ITEM_WARNINGS} more samples have warnings; the preview lists them all.`);
  }

  /** The step's result. `transfers` is how many fetches were attempted. */
  result(step: { name: string; type: string }, transfers: number, cancelled: boolean, started: number): StepResult {
    const { counts, errors } = this;
    const landed = counts.new + counts.changed;
    const status: StepResult['status'] = cancelled ? 'cancelled' : errors.length && landed === 0 && transfers > 0 ? 'failed' : errors.length || counts.rejected ? 'partial' : 'success';
    const warnings = [...this.warnings];
    if (errors.length > MAX_ERRORS) warnings.push(`${errors.length} transfers failed; the first ${MAX_ERRORS} are listed.`);
    return { name: step.name, type: step.type, status, counts, byCategoryLabel: this.byCategoryLabel, warnings, errors: errors.slice(0, MAX_ERRORS), problems: this.problems, durationMs: Date.now() - started };
  }
}
