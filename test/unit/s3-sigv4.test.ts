import * as assert from 'node:assert/strict';
import { canonicalQuery, encodeKeyPath, Signer, uriEncode } from '../../src/core/sources/s3/sigv4';

// AWS's published SigV4 examples for S3 (docs: "Signature Calculations for the Authorization
// Header: Transferring Payload in a Single Chunk", examplebucket, 20130524).
const creds = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const now = new Date('2013-05-24T00:00:00Z');

function signature(auth: string): string {
  return /Signature=([0-9a-f]{64})$/.exec(auth)![1];
}

describe('S3 SigV4 signer', () => {
  it('matches AWS example: GET Object with a Range header', () => {
    const h = new Signer(creds).sign({ method: 'GET', host: 'examplebucket.s3.amazonaws.com', path: '/test.txt', query: '', headers: { range: 'bytes=0-9' }, region: 'us-east-1', now, payloadHash: EMPTY_SHA256 });
    assert.equal(signature(h.authorization), 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
    assert.match(h.authorization, /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/20130524\/us-east-1\/s3\/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, /);
    assert.equal(h['x-amz-date'], '20130524T000000Z');
  });

  it('matches AWS example: GET Bucket (list objects) with a query string', () => {
    const h = new Signer(creds).sign({ method: 'GET', host: 'examplebucket.s3.amazonaws.com', path: '/', query: canonicalQuery({ prefix: 'J', 'max-keys': '2' }), region: 'us-east-1', now, payloadHash: EMPTY_SHA256 });
    assert.equal(signature(h.authorization), '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7');
  });

  it('agrees with the AWS SDK signer on unsigned-payload requests for awkward keys', async () => {
    const { SignatureV4 } = await import('@smithy/signature-v4');
    const { Sha256 } = await import('@aws-crypto/sha256-js');
    const sdk = new SignatureV4({ credentials: { ...creds, sessionToken: 'TOKEN/with+chars=' }, region: 'eu-central-1', service: 's3', sha256: Sha256, uriEscapePath: false, applyChecksum: false });
    const mine = new Signer({ ...creds, sessionToken: 'TOKEN/with+chars=' });
    const keys = ['a b+c.txt', 'x%20y.txt', 'café.txt', 'cafe\u0301.txt', "amp&<>\"'()*!.txt", 'emoji😀/猫.jpg', '../up', 'a//b', '/lead', 'ctl\u0001x', 'tilde~-_.', 'x'.repeat(300)];
    for (const key of keys) {
      const path = `/bucket/${encodeKeyPath(key)}`;
      const query = { 'list-type': '2', prefix: key, 'continuation-token': 'tok en/+=', 'encoding-type': 'url' };
      const qs = canonicalQuery(query);
      const mineHeaders = mine.sign({ method: 'GET', host: '127.0.0.1:7480', path, query: qs, headers: { 'x-amz-request-payer': 'requester' }, region: 'eu-central-1', now });
      const signed = await sdk.sign(
        { method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: 7480, path, query, headers: { host: '127.0.0.1:7480', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-request-payer': 'requester' } },
        { signingDate: now },
      );
      assert.equal(mineHeaders.authorization, signed.headers.authorization, `key ${JSON.stringify(key)}`);
      assert.equal(mineHeaders['x-amz-security-token'], 'TOKEN/with+chars=');
    }
  });

  it('encodes keys per RFC 3986 and keeps "/" in paths', () => {
    assert.equal(uriEncode("a b+c!'()*~"), 'a%20b%2Bc%21%27%28%29%2A~');
    assert.equal(encodeKeyPath('dir/sub dir/é.jpg'), 'dir/sub%20dir/%C3%A9.jpg');
    assert.equal(encodeKeyPath('a//b'), 'a//b');
    assert.equal(canonicalQuery({ b: '2', a: 'x y', 'list-type': '2' }), 'a=x%20y&b=2&list-type=2');
  });

  it('caches the signing key per day but follows a new secret', () => {
    const c = { ...creds };
    const s = new Signer(c);
    const a = s.sign({ method: 'GET', host: 'h', path: '/k', query: '', region: 'us-east-1', now });
    c.secretAccessKey = 'another';
    const b = s.sign({ method: 'GET', host: 'h', path: '/k', query: '', region: 'us-east-1', now });
    assert.notEqual(a.authorization, b.authorization);
  });
});
