import * as assert from 'node:assert/strict';
import { escapeControl } from '../../src/core/util/format';
import { sanitizeServerText } from '../../src/core/util/errors';

describe('escapeControl / sanitizeServerText', () => {
  it('escapes C0, C1, DEL and bidi overrides', () => {
    const hostile = ['a\x1b[31mred', 'x\rfake.ts:1:1: error: forged', 'line\nnext', 'del\x7f', 'c1\u009b', 'bidi\u202e\u2066'];
    let n = 0;
    for (const h of hostile) {
      const e = escapeControl(h);
// eslint-disable-next-line no-control-regex
      assert.doesNotMatch(e, /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      n++;
    }
    assert.equal(escapeControl('ok/key.jpg'), 'ok/key.jpg');
    console.log(`escape: ${n} hostile strings, 0 raw control characters`);
  });
  it('strips credentials from server text', () => {
    const canary = 'CANARYsecretAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const cases = [
      `Authorization: AWS4-HMAC-SHA256 Credential=AKIA/20260101/eu-west-1/s3/aws4_request, SignedHeaders=host, Signature=${canary}`,
      `x-amz-security-token: ${canary}`,
      `https://a.blob.core.windows.net/c/k?sv=2022-11-02&sp=r&sig=${canary}`,
      `DefaultEndpointsProtocol=https;AccountName=a;AccountKey=${canary};`,
      `Bearer ${canary}`,
      `-----BEGIN PRIVATE KEY-----\n${canary}\n-----END PRIVATE KEY-----`,
      `{"private_key": "${canary}"}`,
    ];
    for (const c of cases) assert.ok(!sanitizeServerText(c, 10_000).includes('CANARY'), c);
    assert.ok(sanitizeServerText('x'.repeat(1000)).length <= 301);
    console.log(`sanitize: ${cases.length} credential shapes, 0 leaks`);
  });
});
