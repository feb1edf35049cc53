import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { envResolver } from '../../src/core/pipeline/refs';
import type { S3Block } from '../../src/core/pipeline/model';
import { parseS3Path } from '../../src/core/sources/s3';
import { chooseCredentials, describeSdkSource } from '../../src/core/sources/s3/credentials';
import { errorFromResponse, S3Error } from '../../src/core/sources/s3/errors';
import { decodeUrlKey, decodeXmlText, parseErrorXml, parseListObjectsV2 } from '../../src/core/sources/s3/xml';
import { isRetryable, isThrottle, RetryableError } from '../../src/core/util/errors';

const AWS_PAGE = `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>data%2F</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys>
  <EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
  <Contents><Key>data%2Fa+b%2Bc.txt</Key><LastModified>2024-01-02T03:04:05.000Z</LastModified><ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag><Size>12</Size><StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>data%2Fcafe%CC%81%20%26%3C%3E.jpg</Key><LastModified>2024-01-02T03:04:05.000Z</LastModified><ETag>"0123456789abcdef0123456789abcdef-3"</ETag><Size>20971520</Size></Contents>
  <Contents><Key>data%2F%25%32%30literal%2520</Key><ETag>&quot;e&quot;</ETag><Size>0</Size></Contents>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=&amp;x</NextContinuationToken>
</ListBucketResult>`;

describe('S3 listing and error XML', () => {
  it('parses an AWS ListObjectsV2 page with URL-encoded keys and entities', () => {
    const page = parseListObjectsV2(AWS_PAGE);
    assert.equal(page.urlEncoded, true);
    assert.equal(page.truncated, true);
    assert.equal(page.nextToken, '1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=&x');
    assert.equal(page.keyCount, 3);
    assert.deepEqual(
      page.objects.map((o) => [o.key, o.size, o.etag]),
      [
        ['data/a b+c.txt', 12, '0123456789abcdef0123456789abcdef'],
        ['data/cafe\u0301 &<>.jpg', 20971520, '0123456789abcdef0123456789abcdef-3'],
        ['data/%20literal%20', 0, 'e'],
      ],
    );
  });

  it('leaves keys alone when the server ignored encoding-type=url', () => {
    const page = parseListObjectsV2('<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a+b%20c</Key><ETag>&quot;x&quot;</ETag><Size>1</Size></Contents></ListBucketResult>');
    assert.equal(page.urlEncoded, false);
    assert.equal(page.objects[0].key, 'a+b%20c');
    assert.equal(page.truncated, false);
    assert.equal(page.nextToken, undefined);
  });

  it('reads common prefixes outside the entries, and an empty page', () => {
    const page = parseListObjectsV2('<ListBucketResult><EncodingType>url</EncodingType><Prefix/><IsTruncated>false</IsTruncated><CommonPrefixes><Prefix>cats%2F</Prefix></CommonPrefixes><CommonPrefixes><Prefix>dogs+x%2F</Prefix></CommonPrefixes></ListBucketResult>');
    assert.deepEqual(page.prefixes, ['cats/', 'dogs x/']);
    assert.deepEqual(page.objects, []);
  });

  it('a store that gives no ETag, or an empty one, and entries in any field order: each key its size and version', () => {
    const entries = Array.from({ length: 300 }, (_, i) => (i === 150 ? `<Contents><Size>${i}</Size><Key>k${i}</Key><ETag/></Contents>` : `<Contents><Key>k${i}</Key><Size>${i}</Size></Contents>`));
    const page = parseListObjectsV2(`<ListBucketResult>${entries.join('')}<IsTruncated>false</IsTruncated></ListBucketResult>`);
    assert.equal(page.objects.length, 300);
    assert.deepEqual(page.objects[150], { key: 'k150', size: 150, etag: '' });
    assert.ok(page.objects.every((o, i) => o.key === `k${i}` && o.size === i && o.etag === ''));
    const later = parseListObjectsV2('<ListBucketResult><Contents><Key>a</Key><Size>1</Size></Contents><Contents><Key>b</Key><Size>2</Size><ETag>"e2"</ETag></Contents></ListBucketResult>');
    assert.deepEqual(later.objects.map((o) => o.etag), ['', 'e2'], "one entry's missing ETag is not the next entry's");
    const utf8 = parseListObjectsV2(Buffer.from('<ListBucketResult><Contents><Key>caf\u00e9/\u732b &amp; \u{1F408}.png</Key><Size>3</Size><ETag>&quot;abc&quot;</ETag></Contents></ListBucketResult>'));
    assert.deepEqual(utf8.objects, [{ key: 'caf\u00e9/\u732b & \u{1F408}.png', size: 3, etag: 'abc' }], 'offsets found in the latin1 text decode as UTF-8');
  });

  it('rejects a page cut short, so the listing is retried', () => {
    assert.throws(() => parseListObjectsV2(AWS_PAGE.slice(0, AWS_PAGE.indexOf('</Contents>') - 5)), /unterminated|truncated/);
    assert.throws(() => parseListObjectsV2('<html>proxy error</html>'), /not a ListObjectsV2/);
  });

  it('decodes keys that are not UTF-8 to distinct keys (surrogate-escaped) instead of failing or merging them', () => {
    assert.equal(decodeUrlKey('bad%FFbyte'), 'bad\udcffbyte'); // unique, and rejected by the planner as not valid Unicode
    assert.notEqual(decodeUrlKey('bad%FEbyte'), decodeUrlKey('bad%FFbyte'));
    assert.equal(decodeUrlKey('%F0%9F%98%80'), '😀');
    assert.equal(decodeXmlText('&#x1F600;&#65;&amp;lt;'), '😀A&lt;');
  });

  it('parses S3 error documents', () => {
    const e = parseErrorXml('<?xml version="1.0"?><Error><Code>AuthorizationHeaderMalformed</Code><Message>the region &apos;us-east-1&apos; is wrong</Message><Region>eu-central-1</Region><RequestId>R</RequestId></Error>');
    assert.deepEqual(e, { code: 'AuthorizationHeaderMalformed', message: "the region 'us-east-1' is wrong", region: 'eu-central-1', endpoint: undefined, requestId: 'R' });
    assert.deepEqual(parseErrorXml(''), {});
  });
});

describe('S3 error mapping', () => {
  it("a hostile endpoint's error text is cut, escaped and stripped of credentials before it is kept", () => {
    const echoed = 'Authorization: AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261202/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=' + 'ab'.repeat(32) + '\r\nx-amz-security-token: CANARYsessiontoken0123456789abcdef\u001b[2J' + 'x'.repeat(2000);
    const e = errorFromResponse({ status: 403, code: 'SignatureDoesNotMatch\nforged', message: echoed, what: 'listing s3://b/' });
    assert.ok(!e.message.includes('CANARY'), e.message);
    assert.ok(!e.message.includes('ab'.repeat(32)), e.message);
    // eslint-disable-next-line no-control-regex
    assert.ok(!/[\u0000-\u001f]/.test(e.message), JSON.stringify(e.message));
    assert.ok(e.message.length < 600, String(e.message.length));
  });

  it('throttling is retryable and slows the engine down; 5xx is retryable; 4xx is not', () => {
    for (const [status, code] of [[503, 'SlowDown'], [429, undefined], [503, undefined]] as const) {
      const e = errorFromResponse({ status, code, what: 'x' });
      assert.ok(e instanceof RetryableError && isRetryable(e) && isThrottle(e), `${status} ${code}`);
    }
    const e500 = errorFromResponse({ status: 500, code: 'InternalError', what: 'x' });
    assert.ok(isRetryable(e500) && !isThrottle(e500));
    for (const [status, code] of [[403, 'AccessDenied'], [404, 'NoSuchKey'], [403, 'SignatureDoesNotMatch'], [412, 'PreconditionFailed']] as const) {
      const e = errorFromResponse({ status, code, what: 'downloading s3://b/k' });
      assert.ok(e instanceof S3Error && !isRetryable(e), code);
      assert.equal((e as S3Error).code, code);
      assert.match(e.message, new RegExp(`^downloading s3://b/k: ${code} .*\\. \\S`));
    }
    assert.equal((errorFromResponse({ status: 404, what: 'x' }) as S3Error).code, 'NotFound');
  });
});

describe('S3 path and credentials', () => {
  it('parses s3:// paths; a prefix always names a folder', () => {
    assert.deepEqual(parseS3Path('s3://b'), { bucket: 'b', prefix: '' });
    assert.deepEqual(parseS3Path('s3://b/'), { bucket: 'b', prefix: '' });
    assert.deepEqual(parseS3Path('s3://b/x/y'), { bucket: 'b', prefix: 'x/y/' });
    assert.deepEqual(parseS3Path('s3://b/x/y/'), { bucket: 'b', prefix: 'x/y/' });
    assert.throws(() => parseS3Path('https://b/x'), /s3:\/\/bucket\/prefix/);
  });

  const block = (extra: Partial<S3Block>): S3Block => ({ type: 's3-to-project', path: 's3://b/', ...extra });

  it('static keys name their reference, never the secret', async () => {
    const c = await chooseCredentials(block({ accessKey: 'AKIDEXAMPLE', secretKey: '${secret:MY_S3_SECRET}' }), envResolver({ MY_S3_SECRET: 'very-secret-value' }), 'Fetch');
    assert.equal(c.describe(), 'static keys (accessKey + ${secret:MY_S3_SECRET})');
    assert.deepEqual(await c.get(), { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'very-secret-value', sessionToken: undefined });
    assert.ok(!c.describe().includes('very-secret-value'));
    await assert.rejects(chooseCredentials(block({ accessKey: 'AKID', secretKey: '${secret:NOPE}' }), envResolver({}), 'Fetch'), /secret NOPE is not set/);
  });

  it('environment variables come before the default chain', async () => {
    const c = await chooseCredentials(block({}), envResolver({ AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: 'sek' }), 'Fetch');
    assert.match(c.describe(), /^environment variables/);
    assert.equal((await c.get())?.accessKeyId, 'AKIDENV');
  });

  it('a named profile reads the shared files, and says which profile', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsp-aws-'));
    const saved = { ...process.env };
    try {
      fs.writeFileSync(path.join(dir, 'credentials'), '[dev]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret\n');
      fs.writeFileSync(path.join(dir, 'config'), '');
      process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
      process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
      const c = await chooseCredentials(block({ profile: 'dev' }), envResolver({}), 'Fetch');
      assert.equal(c.describe(), 'AWS profile dev');
      assert.equal((await c.get())?.accessKeyId, 'AKIDPROFILE');
      const missing = await chooseCredentials(block({ profile: 'nope' }), envResolver({}), 'Fetch');
      await assert.rejects(missing.get(), /AWS profile "nope" gave no credentials/);
    } finally {
      process.env = saved;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the chain link the SDK used', () => {
    assert.equal(describeSdkSource({ CREDENTIALS_PROFILE: 'n' }), 'shared credentials file');
    assert.equal(describeSdkSource({ CREDENTIALS_PROFILE_SOURCE_PROFILE: 'o', CREDENTIALS_STS_ASSUME_ROLE: 'i' }), 'assumed role, assumed role (source_profile)');
    assert.equal(describeSdkSource(undefined), undefined);
  });

  it('importing the S3 source loads no AWS SDK module (cheap activation)', () => {
    const mod = path.resolve(__dirname, '../../src/core/sources/s3/index.js');
    const out = execFileSync(process.execPath, ['-e', `require(${JSON.stringify(mod)}); require(${JSON.stringify(path.resolve(__dirname, '../../src/core/sources/index.js'))}); console.log(Object.keys(require.cache).filter((k) => k.includes('@aws-sdk') || k.includes('@smithy')).length)`], { encoding: 'utf8' });
    assert.equal(out.trim(), '0');
  });
});
