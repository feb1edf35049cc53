// Five-field cron (minute hour day-of-month month day-of-week), local time, with the usual
// ranges, lists, steps, names and @aliases. Parsing and the next-run search are croner's; this
// module only insists on five fields and turns croner's errors into ones that name the field
// and its allowed range.
import { Cron as Croner, type CronOptions } from 'croner';

export interface Cron {
  /** The expression as written (trimmed). */
  readonly expression: string;
  readonly schedule: Croner;
}

// 5-part: seconds are 0 and there is no year field. sloppyRanges keeps "5/10" (from 5, every 10)
// valid, as in Vixie cron. Day-of-month and day-of-week both restricted match either (the OR of
// classic cron), croner's default.
const OPTIONS: CronOptions = { mode: '5-part', paused: true, sloppyRanges: true };

const FIELDS: { name: string; min: number; max: number; names?: string }[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: 'jan-dec' },
  { name: 'day-of-week', min: 0, max: 7, names: 'sun-sat' },
];

const compile = (text: string): Croner => new Croner(text, OPTIONS);
const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e)).replace(/^CronPattern:\s*/, '');

/** Which field croner rejects, as a message naming the field and its range. */
function explain(parts: string[], whole: unknown): string {
  for (let i = 0; i < parts.length; i++) {
    const alone = parts.map((p, j) => (j === i ? p : '*')).join(' ');
    try {
      compile(alone);
      continue;
    } catch (e) {
      const f = FIELDS[i];
      const range = `${f.min}-${f.max}`;
      const outside = (parts[i].match(/\d+/g) ?? []).map(Number).find((n) => n < f.min || n > f.max);
      if (outside !== undefined) return `${f.name} field: ${outside} is outside ${range}.`;
      return `${f.name} field: "${parts[i]}" is not valid (${reason(e)}). Allowed: ${range}${f.names ? ` or names ${f.names}` : ''}, lists a,b, ranges a-b and steps */n.`;
    }
  }
  return `"${parts.join(' ')}" is not a valid cron expression: ${reason(whole)}.`;
}

export function parseCron(expr: string): Cron {
  const text = expr.trim();
  if (text.startsWith('@')) {
    try {
      return { expression: text, schedule: compile(text.toLowerCase()) };
    } catch {
      throw new Error(`unknown cron alias "${text}": use @hourly, @daily, @midnight, @weekly, @monthly, @yearly or @annually, or five fields.`);
    }
  }
  const parts = text.split(/\s+/).filter(Boolean);
  if (parts.length !== 5) throw new Error(`a cron expression has five fields (minute hour day-of-month month day-of-week), "${expr}" has ${parts.length}. Example: "0 3 * * *" is every day at 03:00.`);
  try {
    return { expression: text, schedule: compile(parts.join(' ')) };
  } catch (e) {
    throw new Error(explain(parts, e));
  }
}

const HORIZON_MS = 5 * 366 * 86_400_000;

/** The first matching minute strictly after `from`, or undefined within ~5 years. */
export function nextCronRun(c: Cron, from: Date): Date | undefined {
  const next = c.schedule.nextRun(from);
  if (!next || next.getTime() - from.getTime() >= HORIZON_MS) return undefined;
  return next;
}
