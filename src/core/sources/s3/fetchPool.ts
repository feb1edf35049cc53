// Object fetches on worker threads. A sync of many small objects is bound by one thread's CPU
// (the HTTP client, signing, hashing, writing: about 150 µs an object, BENCHMARKS.md "S3 sync"),
// so the GET, the MD5 and the write of the temporary file run in workers, each with its own
// connections; the main thread keeps the plan, the checklist, the rename and the state. Jobs and
// results cross in batches (one message per event-loop turn), errors come back as the same kinds
// of error the retry policy and the executor read. The credentials go to the workers in memory
// only, and again whenever the chain renews them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FetchedFile, SourceObject } from '../../types';
import { RetryableError } from '../../util/retry';
import { SourceError } from '../errors';
import type { S3Location } from './client';
import type { Credentials } from './sigv4';

/** What crosses to a worker. */
export type ToWorker =
  | { type: 'creds'; creds: Credentials | undefined }
  | { type: 'jobs'; jobs: { id: number; obj: Pick<SourceObject, 'key' | 'size' | 'version' | 'md5'> }[] }
  | { type: 'abort' };

export interface WorkerInit {
  loc: S3Location;
  idleTimeoutMs?: number;
  tmpBase: string;
}

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  status?: number;
  kind?: string;
  throttled?: boolean;
  final?: boolean;
}

/** What comes back: results of finished jobs, in batches. */
export type FromWorker = { type: 'results'; results: ({ id: number; ok: true; fetched: Omit<FetchedFile, 'head' | 'tail'> & { head: Uint8Array; tail: Uint8Array } } | { id: number; ok: false; error: SerializedError })[] };

export function serializeError(err: unknown): SerializedError {
  const e = (err ?? {}) as Partial<SerializedError> & { message?: string };
  return { name: typeof e.name === 'string' ? e.name : 'Error', message: String(e.message ?? err), code: e.code, status: e.status, kind: e.kind, throttled: e.throttled, final: e.final };
}

/** The error as the main thread's retry policy and executor expect it (RetryableError, SourceError, or a coded Error). */
export function reviveError(e: SerializedError): Error {
  if (e.name === 'RetryableError') return new RetryableError(e.message, !!e.throttled, e.code);
  if (e.name === 'SourceError') return new SourceError(e.message, e.code ?? 'Error', e.status, e.kind as SourceError['kind']);
  const err = Object.assign(new Error(e.message), e.code === undefined ? {} : { code: e.code }, e.final ? { final: true } : {});
  err.name = e.name;
  return err;
}

/** The worker script: next to this module when run from the compiled sources, in dist/ when bundled. */
function workerScript(): string {
  const compiled = path.join(__dirname, 'fetchWorker.js');
  return fs.existsSync(compiled) ? compiled : path.join(__dirname, 's3-fetch-worker.js');
}

interface Pending {
  resolve: (f: FetchedFile) => void;
  reject: (e: Error) => void;
}

export class FetchPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly outbox: Extract<ToWorker, { type: 'jobs' }>[] = [];
  private readonly aborters = new WeakSet<AbortSignal>();
  private nextId = 0;
  private next = 0;
  private flushing = false;
  private lastCreds: Credentials | undefined;
  private failed: Error | undefined;

  /** False once a worker died: the source then fetches in its own thread. */
  get usable(): boolean {
    return !this.failed;
  }

  constructor(threads: number, init: WorkerInit, private readonly creds: () => Promise<Credentials | undefined>) {
    for (let i = 0; i < threads; i++) {
      const w = new Worker(workerScript(), { workerData: init });
      w.on('message', (m: FromWorker) => this.settle(m));
      // A worker that dies fails what it held; the queue retries those on the others or in the main thread.
      w.on('error', (err) => this.lost(w, err));
      w.on('exit', (code) => code !== 0 && this.lost(w, new Error(`a fetch worker exited with code ${code}`)));
      this.workers.push(w);
      this.outbox.push({ type: 'jobs', jobs: [] });
    }
  }

  get threads(): number {
    return this.workers.length;
  }

  fetch(obj: SourceObject, signal: AbortSignal): Promise<FetchedFile> {
    if (this.failed) return Promise.reject(this.failed);
    signal.throwIfAborted();
    if (!this.aborters.has(signal)) {
      this.aborters.add(signal);
      signal.addEventListener('abort', () => this.abort(), { once: true });
    }
    const id = this.nextId++;
    const p = new Promise<FetchedFile>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    // Round robin: each worker gets an even share of the requests in flight.
    this.outbox[this.next++ % this.workers.length].jobs.push({ id, obj: { key: obj.key, size: obj.size, version: obj.version, md5: obj.md5 } });
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => void this.flush());
    }
    return p;
  }

  private async flush(): Promise<void> {
    this.flushing = false;
    let creds: Credentials | undefined;
    try {
      creds = await this.creds();
    } catch (err) {
      for (const box of this.outbox) for (const j of box.jobs.splice(0)) this.reject(j.id, err as Error);
      return;
    }
    this.workers.forEach((w, i) => {
      if (creds !== this.lastCreds) w.postMessage({ type: 'creds', creds } satisfies ToWorker);
      const box = this.outbox[i];
      if (box.jobs.length) w.postMessage({ type: 'jobs', jobs: box.jobs.splice(0) } satisfies ToWorker);
    });
    this.lastCreds = creds;
  }

  private settle(m: FromWorker): void {
    for (const r of m.results) {
      const p = this.pending.get(r.id);
      if (!p) continue;
      this.pending.delete(r.id);
      if (r.ok) {
        const f = r.fetched;
        p.resolve({ tmp: f.tmp, hash: f.hash, size: f.size, head: Buffer.from(f.head.buffer, f.head.byteOffset, f.head.byteLength), tail: Buffer.from(f.tail.buffer, f.tail.byteOffset, f.tail.byteLength) });
      } else p.reject(reviveError(r.error));
    }
  }

  private reject(id: number, err: Error): void {
    const p = this.pending.get(id);
    this.pending.delete(id);
    p?.reject(err);
  }

  /** A worker died: what every worker held fails as retryable, and later fetches run in the main thread. */
  private lost(w: Worker, err: Error): void {
    if (this.failed) return;
    this.failed = new RetryableError(`a fetch worker stopped (${err.message}); retrying in the main thread`, false, 'EWORKER');
    for (const id of [...this.pending.keys()]) this.reject(id, this.failed);
    for (const other of this.workers) if (other !== w) void other.terminate();
  }

  /** Stops the transfers in flight: each worker aborts its requests and answers them. */
  abort(): void {
    for (const w of this.workers) w.postMessage({ type: 'abort' } satisfies ToWorker);
  }

  async close(): Promise<void> {
    const failed = new Error('the fetch pool was closed');
    for (const id of [...this.pending.keys()]) this.reject(id, failed);
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}
