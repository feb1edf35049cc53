// The transfer queue: as many fetches in flight as the limit allows, the limit adapting to the
// store (halved when it throttles, grown again after a run of successes: AIMD), and failed fetches
// retried after the retry policy's backoff without holding a slot while they wait.
import { backoffMs, isRetryable, isThrottle } from '../../util/retry';

/**
 * In-flight requests that adapt (AIMD with a slow start, as TCP does, and TCP Vegas' delay signal):
 * while a round of requests completes about as fast as the quickest request ever did, nothing
 * queues, so more in flight buys throughput: the limit doubles, then grows by a quarter once a
 * round shows queueing. When requests wait on each other (the CPU or the store is the limit: each
 * takes far longer than the quickest) or throughput stops growing, it holds; throttling halves it,
 * and the climb starts again. A round is as many completions as the limit, about one round trip:
 * a bucket 20 ms away climbs from 32 to 256 in about 0.1 s (where this machine's CPU starts to
 * queue); on loopback the CPU queue shows at once and the limit stays low, which also keeps sockets
 * and memory down. Never above `max`, never below one.
 */
export class AdaptiveLimit {
  current: number;
  private slowStart = true;
  /** The best rate seen (completions per ms); 0 after a throttle, so the next round may grow. */
  private best = 0;
  /** The quickest single request seen: the store's latency with nothing queued. */
  private base = Infinity;
  private roundStart: number;
  private roundDone = 0;
  private roundLatency = 0;

  constructor(
    readonly max: number,
    initial = max,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.max = Math.max(1, max);
    this.current = Math.min(this.max, Math.max(1, initial));
    this.roundStart = now();
  }

  /** A request succeeded after `latencyMs`. */
  succeeded(latencyMs: number): void {
    if (latencyMs < this.base) this.base = latencyMs;
    this.roundLatency += latencyMs;
    if (++this.roundDone < this.current || this.current >= this.max) return;
    const t = this.now();
    const elapsed = t - this.roundStart;
    if (elapsed <= 0) return; // a round quicker than the clock: keep counting
    const rate = this.roundDone / elapsed;
    const queueing = this.roundLatency / this.roundDone / Math.max(this.base, 0.05);
    const grows = rate > this.best * 1.05;
    if (this.slowStart && queueing < 2 && grows) this.current = Math.min(this.max, this.current * 2);
    else if (!this.slowStart && queueing < 1.5 && grows) this.current = Math.min(this.max, this.current + Math.max(1, this.current >> 2));
    else this.slowStart = false;
    if (rate > this.best) this.best = rate;
    this.roundStart = t;
    this.roundDone = 0;
    this.roundLatency = 0;
  }

  throttled(): void {
    this.current = Math.max(1, Math.floor(this.current / 2));
    this.slowStart = false;
    this.best = 0;
    this.roundStart = this.now();
    this.roundDone = 0;
    this.roundLatency = 0;
  }
}

export interface TransferQueueOptions<I, F> {
  /** Fetches in flight to begin with. */
  concurrency: number;
  /** The most the limit may grow to while throughput grows; unset: `concurrency` (pinned). */
  maxConcurrency?: number;
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

export interface QueueStats {
  /** The most transfers the limit allowed at once, and where it ended. */
  peakLimit: number;
  endLimit: number;
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
export function runTransferQueue<I, F>(items: (I | undefined)[], o: TransferQueueOptions<I, F>): Promise<QueueStats> {
  const limit = new AdaptiveLimit(Math.max(o.concurrency, o.maxConcurrency ?? 0), o.concurrency);
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
    const began = performance.now();
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
    limit.succeeded(performance.now() - began);
    try {
      await o.store(job.item, fetched);
    } catch (err) {
      o.giveUp(job.item, err, 'store'); // store records what it expects; anything else still fails this item, never the process
    }
    o.onSettled?.(job.item);
  };

  let peak = limit.current;
  const stats = (): QueueStats => ({ peakLimit: peak, endLimit: limit.current });
  return new Promise<QueueStats>((resolve) => {
    const pump = () => {
      if (o.signal.aborted) {
        if (timer) clearTimeout(timer);
        if (active === 0) resolve(stats());
        return;
      }
      const now = Date.now();
      if (limit.current > peak) peak = limit.current;
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
      if (!retries.length) return resolve(stats());
      if (timer) clearTimeout(timer);
      timer = setTimeout(pump, Math.max(0, Math.min(...retries.map((r) => r.at)) - now));
    };
    o.signal.addEventListener('abort', pump, { once: true });
    pump();
  });
}
