// The one retry policy (src/core/util/retry.ts): what is retried, how often, and that every source
// and notifier uses it (no retryable-code list or backoff formula of their own).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isRetryable, isThrottle, RetryableError, RETRYABLE_NETWORK_CODES, withRetries } from '../../src/core/util/retry';

const SRC = path.resolve(__dirname, '../../../src');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? sources(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : []));
}

describe('the retry policy', () => {
  it('retries network resets and RetryableError; never aborts, final errors or answers', () => {
    assert.ok(isRetryable(Object.assign(new Error('x'), { code: 'ECONNRESET' })));
    assert.ok(isRetryable(new RetryableError('503', true)) && isThrottle(new RetryableError('503', true)));
    assert.ok(!isRetryable(Object.assign(new Error('x'), { code: 'ECONNREFUSED', final: true })));
    assert.ok(!isRetryable(Object.assign(new Error('x'), { name: 'AbortError', code: 'ECONNRESET' })));
    assert.ok(!isRetryable(Object.assign(new Error('403'), { code: 'AccessDenied' })));
  });

  it('withRetries stops at the attempt limit, and at once on a final error', async () => {
    let n = 0;
    await assert.rejects(withRetries(3, undefined, async () => { n++; throw new RetryableError('x'); }, undefined, 1));
    assert.equal(n, 3);
    n = 0;
    await assert.rejects(withRetries(3, undefined, async () => { n++; throw new Error('no'); }, undefined, 1));
    assert.equal(n, 1);
    assert.equal(await withRetries(3, undefined, async (a) => { if (a < 2) throw new RetryableError('x'); return a; }, undefined, 1), 2);
  });

  it('is the only place that lists retryable network codes or computes a backoff', () => {
    const offenders: string[] = [];
    for (const f of sources(SRC)) {
      if (f.endsWith(path.join('util', 'retry.ts'))) continue;
      const text = fs.readFileSync(f, 'utf8');
      if (/new Set\(\[\s*'ECONNRESET'/.test(text)) offenders.push(`${path.relative(SRC, f)}: its own retryable-code list`);
      if (/\*\s*2\s*\*\*\s*(attempt|i\b)/.test(text)) offenders.push(`${path.relative(SRC, f)}: its own backoff formula`);
    }
    assert.deepEqual(offenders, []);
    assert.ok(RETRYABLE_NETWORK_CODES.has('ECONNRESET'));
  });
});

describe('one SourceError', () => {
  it('every store throws the same class, with a kind read from its code or status', async () => {
    const { SourceError, sourceErrorKind } = await import('../../src/core/sources/errors');
    const { S3Error, errorFromResponse } = await import('../../src/core/sources/s3/errors');
    const { GcsError } = await import('../../src/core/sources/gcs');
    const { AzureError } = await import('../../src/core/sources/azure');
    assert.ok(S3Error === SourceError && GcsError === SourceError && AzureError === SourceError);
    const e = errorFromResponse({ status: 403, code: 'SignatureDoesNotMatch', what: 'listing s3://b/' });
    assert.ok(e instanceof SourceError);
    assert.equal((e as InstanceType<typeof SourceError>).kind, 'auth');
    assert.equal(sourceErrorKind('ContainerNotFound', 404), 'not-found');
    assert.equal(sourceErrorKind('forbidden', 403), 'denied');
    assert.equal(sourceErrorKind('ERR_SSL_WRONG_VERSION_NUMBER'), 'tls');
    assert.equal(sourceErrorKind('ECONNREFUSED'), 'network');
    assert.equal(sourceErrorKind(undefined, 401), 'auth');
  });
});
