// Fetches on worker threads (src/core/sources/s3/fetchPool.ts): what a worker fetches lands as the
// main thread would fetch it, its errors come back as errors the retry policy reads the same way,
// and a worker that dies hands its work back instead of losing it.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { FetchPool, reviveError, serializeError } from '../../src/core/sources/s3/fetchPool';
import { SourceError } from '../../src/core/sources/errors';
import type { SourceObject } from '../../src/core/types';
import { isRetryable, isThrottle, RetryableError } from '../../src/core/util/retry';
import { tempDir } from './helpers';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('fetch pool: S3 fetches on worker threads', () => {
  it('errors cross the thread boundary as the same kinds: retried, throttled, final', () => {
    const round = (e: unknown) => reviveError(serializeError(e));
    const slow = round(new RetryableError('SlowDown', true, 'SlowDown'));
    assert.ok(isRetryable(slow) && isThrottle(slow));
    const gone = round(new SourceError('NoSuchKey', 'NoSuchKey', 404));
    assert.ok(gone instanceof SourceError && gone.kind === 'not-found' && !isRetryable(gone));
    const reset = round(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    assert.ok(isRetryable(reset) && !isThrottle(reset));
    const dead = round(Object.assign(new Error('nothing answers'), { code: 'ECONNREFUSED', final: true }));
    assert.ok(!isRetryable(dead), 'a final error stays final');
    const abort = round(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    assert.equal(abort.name, 'AbortError');
  });

  describe('against a local HTTP store', () => {
    const bodies = new Map<string, Buffer>([
      ['b/a.csv', Buffer.from('a,b\n1,2\n')],
      ['b/big.bin', Buffer.alloc(300_000, 7)],
    ]);
    let server: http.Server;
    let endpoint = '';
    let hold = false;
    let arrived: () => void = () => undefined;
    before(async () => {
      server = http.createServer((req, res) => {
        if (hold) return arrived(); // never answers: the request stays in flight
        const key = decodeURIComponent((req.url ?? '').split('?')[0].replace(/^\/bucket\//, ''));
        const body = bodies.get(key);
        if (!body) {
          res.writeHead(404, { 'content-type': 'application/xml' });
          return res.end('<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>');
        }
        res.writeHead(200, { 'content-length': body.length, etag: `"${md5(body)}"` });
        res.end(body);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => {
      server.closeAllConnections();
      server.close();
    });

    const poolIn = (dir: string) => new FetchPool(1, { loc: { endpoint, bucket: 'bucket', region: 'us-east-1', pathStyle: true, requesterPays: false }, tmpBase: dir }, async () => ({ accessKeyId: 'k', secretAccessKey: 's' }));
    const obj = (key: string): SourceObject => ({ key, rel: key, size: bodies.get(key)?.length ?? 1, version: bodies.has(key) ? md5(bodies.get(key)!) : 'x' });

    it('writes each object to a temporary file with its MD5, head and tail; a missing object is not-found', async () => {
      const dir = tempDir();
      const pool = poolIn(dir);
      try {
        const signal = new AbortController().signal;
        for (const key of bodies.keys()) {
          const f = await pool.fetch(obj(key), signal);
          const want = bodies.get(key)!;
          assert.equal(path.dirname(f.tmp), dir);
          assert.ok(fs.readFileSync(f.tmp).equals(want), key);
          assert.equal(f.hash, md5(want));
          assert.ok(f.head.equals(want.subarray(0, f.head.length)) && f.tail.equals(want.subarray(want.length - 16)), key);
        }
        await assert.rejects(pool.fetch({ ...obj('b/none.csv'), size: 3 }, signal), (e: unknown) => e instanceof SourceError && e.kind === 'not-found');
      } finally {
        await pool.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a worker that dies fails what it held as retryable, and the pool stops taking work (the source then fetches itself)', async () => {
      const dir = tempDir();
      const pool = poolIn(dir);
      hold = true;
      const reached = new Promise<void>((r) => (arrived = r));
      try {
        const inFlight = pool.fetch(obj('b/a.csv'), new AbortController().signal);
        await reached; // the worker's request is at the store
        await (pool as unknown as { workers: { terminate(): Promise<number> }[] }).workers[0].terminate();
        await assert.rejects(inFlight, (e: unknown) => isRetryable(e));
        assert.equal(pool.usable, false);
      } finally {
        hold = false;
        await pool.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
