// Edge Impulse's intervalStr: "15m", "4h", "1d".

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds, or undefined when the string is not an interval. */
export function parseInterval(s: string): number | undefined {
  const m = /^\s*([1-9][0-9]*)\s*(m|h|d)\s*$/.exec(s);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2]];
}
