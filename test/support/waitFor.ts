// The tests' one wait-for-a-condition helper (unit, integration, reliability and e2e suites).
// It polls a check; it never sleeps for a fixed time to let something happen.

/** What a check resolves with once it holds: its value without the falsy members of its type. */
export type Truthy<T> = Exclude<T, false | 0 | 0n | '' | null | undefined>;

/**
 * Polls `check` until it returns a truthy value and resolves with that value. A check that
 * throws (or rejects) counts as "not yet": polling goes on, and its last error is in the
 * timeout message. Rejects after `timeoutMs` with a message naming `what`.
 *
 * `everyMs` is the pause between two polls (the next poll starts as soon as it is over);
 * 0 yields to the event loop only.
 */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 30_000, everyMs = 10): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let polls = 0;
  for (;;) {
    polls++;
    try {
      const value = await check();
      if (value) return value as Truthy<T>;
    } catch (err) {
      lastError = err;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const detail = lastError === undefined ? '' : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms (${polls} checks) waiting for ${what}${detail}`);
    }
    await new Promise<void>((resolve) => (everyMs > 0 ? setTimeout(resolve, Math.min(everyMs, remaining)) : setImmediate(resolve)));
  }
}
