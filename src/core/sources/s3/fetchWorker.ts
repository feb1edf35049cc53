// A fetch worker (see fetchPool.ts): GETs objects with its own S3 client, writes each to a
// temporary file with its MD5, head and tail (run/transfer/fetch.ts, the same code as in the main
// thread), and answers in batches. Bundled as dist/s3-fetch-worker.js.
import { setMaxListeners } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import { fetchToTemp } from '../../run/transfer/fetch';
import type { FetchedFile, SourceObject } from '../../types';
import { S3Client } from './client';
import { serializeError, type FromWorker, type ToWorker, type WorkerInit } from './fetchPool';
import type { Credentials } from './sigv4';

const init = workerData as WorkerInit;
let creds: Credentials | undefined;
const client = new S3Client(init.loc, { get: async () => creds, describe: () => 'from the main thread', anonymous: () => !creds }, { idleTimeoutMs: init.idleTimeoutMs });
// The part of a Source that fetchToTemp uses.
const source = { open: (obj: SourceObject, signal?: AbortSignal) => client.getObject(obj.key, obj.version || undefined, signal) };
// Every request in flight listens to the one signal.
const newController = () => {
  const c = new AbortController();
  setMaxListeners(0, c.signal);
  return c;
};
let controller = newController();
let outbox: FromWorker['results'] = [];
let flushing = false;

/** An exact copy: a view's whole backing store would otherwise be cloned with it. */
const own = (b: Buffer) => new Uint8Array(b);

function answer(r: FromWorker['results'][number]): void {
  outbox.push(r);
  if (flushing) return;
  flushing = true;
  setImmediate(() => {
    flushing = false;
    const results = outbox;
    outbox = [];
    parentPort!.postMessage({ type: 'results', results } satisfies FromWorker);
  });
}

async function run(id: number, obj: SourceObject, signal: AbortSignal): Promise<void> {
  try {
    const f: FetchedFile = await fetchToTemp(source as never, obj, init.tmpBase, signal);
    answer({ id, ok: true, fetched: { tmp: f.tmp, hash: f.hash, size: f.size, head: own(f.head), tail: own(f.tail) } });
  } catch (err) {
    answer({ id, ok: false, error: serializeError(err) });
  }
}

parentPort!.on('message', (m: ToWorker) => {
  if (m.type === 'creds') creds = m.creds;
  else if (m.type === 'abort') {
    controller.abort();
    controller = newController();
  } else for (const j of m.jobs) void run(j.id, { ...j.obj, rel: j.obj.key }, controller.signal);
});
