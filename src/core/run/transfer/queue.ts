// The transfer queue: as many fetches in flight as the limit allows, the limit adapting to the
// store (halved when it throttles, grown again after a run of successes: AIMD), and failed fetches
// retried after the retry policy's backoff without holding a slot while they wait.
import { backoffMs, isRetryable, isThrottle } from '../../util/retry';

/** In-flight requests that adapt: multiplicative decrease on throttling, additive increase on success. */
export class AdaptiveLimit {
  private streak = 0;
  current: number;

  constructor(readonly max: number) {
    this.max = Math.max(1, max);
    this.current = this.max;
  }

  succeeded(): void {
    this.streak++;
    if (this.streak >= this.current && this.current < this.max) {
      this.current++;
      this.streak = 0;
    }
  }

  throttled(): void {
    this.current = Math.max(1, Math.floor(this.current / 2));
    this.streak = 0;
  }
}

export interface TransferQueueOptions<I, F> {
  /** The most fetches in flight. */
  concurrency: number;
  /** Tries per item, the first included. */
  maxAttempts: number;
  signal: AbortSignal;
  /** Fetches an item; a retryable error (the retry policy's) is tried again later. */
  fetch(item: I, attempt: number): Promise<F>;
  /** Puts a fetched item in place; records its own outcome. */
  store(item: I, fetched: F): Promise<void>;
  /** The item could not be fetched (for good), or storing it threw: records the failure. */
  giveUp(item: I, err: unknown, stage: 'fetch' | 'store'): void;
  onRetry?(item: I, attempt: number, err: unknown): void;
  /** After each item is settled (stored or given up). */
  onSettled?(item: I): void;
}

interface Job<I> {
  item: I;
  attempt: number;
}

/**
 * Runs every item through fetch, then store. Items are let go of once taken (the array's slot is
 * cleared), so a large run does not hold its whole plan until the end. Resolves when every item is
 * settled, or at once (after the transfers in flight end) when the signal aborts.
 */
export function runTransferQueue<I, F>(items: (I | undefined)[], o: TransferQueueOptions<I, F>): Promise<void> {
  const limit = new AdaptiveLimit(o.concurrency);
  const retries: (Job<I> & { at: number })[] = [];
  let next = 0;
  let active = 0;
  let timer: NodeJS.Timeout | undefined;

  const take = (now: number): Job<I> | undefined => {
    const ready = retries.findIndex((r) => r.at <= now);
    if (ready >= 0) return retries.splice(ready, 1)[0];
    if (next >= items.length) return undefined;
    const item = items[next]!;
    items[next++] = undefined;
    return { item, attempt: 1 };
  };

  const attempt = async (job: Job<I>): Promise<void> => {
    let fetched: F;
    try {
      fetched = await o.fetch(job.item, job.attempt);
    } catch (err) {
      if (o.signal.aborted) return;
      if (isRetryable(err) && job.attempt < o.maxAttempts) {
        if (isThrottle(err)) limit.throttled();
        retries.push({ item: job.item, attempt: job.attempt + 1, at: Date.now() + backoffMs(job.attempt, isThrottle(err)) });
        o.onRetry?.(job.item, job.attempt + 1, err);
        return;
      }
      o.giveUp(job.item, err, 'fetch');
      o.onSettled?.(job.item);
      return;
    }
    limit.succeeded();
    try {
      await o.store(job.item, fetched);
    } catch (err) {
      o.giveUp(job.item, err, 'store'); // store records what it expects; anything else still fails this item, never the process
    }
    o.onSettled?.(job.item);
  };

  return new Promise<void>((resolve) => {
    const pump = () => {
      if (o.signal.aborted) {
        if (timer) clearTimeout(timer);
        if (active === 0) resolve();
        return;
      }
      const now = Date.now();
      while (active < limit.current) {
        const job = take(now);
        if (!job) break;
        active++;
        void attempt(job).finally(() => {
          active--;
          pump();
        });
      }
      if (active > 0 || next < items.length) return;
      if (!retries.length) return resolve();
      if (timer) clearTimeout(timer);
      timer = setTimeout(pump, Math.max(0, Math.min(...retries.map((r) => r.at)) - now));
    };
    o.signal.addEventListener('abort', pump, { once: true });
    pump();
  });
}
