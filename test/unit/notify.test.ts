// Webhook and email reports against real peers: a local HTTP receiver and a real SMTP server
// (smtp-server, from the nodemailer project).
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { loadPipelineFile, runPipeline } from '../../src/core';
import { makePng } from '../../src/demo/images';
import { receiver, smtp } from '../support/peers';
import { tempDir, waitFor, writeFiles, writePipeline } from './helpers';

function pipelineWith(dir: string, extra: object): string {
  writeFiles(path.join(dir, 'src'), { 'cars/a.png': makePng(2, 2, () => [1, 2, 3]), 'dogs/b.png': makePng(2, 2, () => [4, 5, 6]) });
  return writePipeline(dir, { name: 'Notify me', steps: [{ name: 'i', builtinTransformationBlock: { type: 'folder-to-project', path: 'src' } }], ...extra });
}

describe('notifications', function () {
  this.timeout(30_000);

  it('webhook: POSTs the run report with Edge Impulse fields', async () => {
    const hook = await receiver([200]);
    try {
      const dir = tempDir();
      const run = await runPipeline(loadPipelineFile(pipelineWith(dir, { notificationWebhook: hook.url })), { trigger: 'cli' });
      assert.equal(hook.got.bodies.length, 1);
      const body = hook.got.bodies[0];
      assert.equal(body.pipelineName, 'Notify me');
      assert.equal(body.success, true);
      assert.equal(body.newItems, 2);
      assert.equal(body.newChecklistOK, 2);
      assert.equal(body.newChecklistFail, 0);
      assert.equal(body.runId, run.id);
      assert.equal(run.notifications?.[0].ok, true);
      assert.ok(!run.notifications![0].detail.includes('secret-token-123'), 'the webhook path is not logged');
    } finally {
      await hook.close();
    }
  });

  it('webhook: retries a 503, records a dead endpoint without losing the run', async () => {
    const hook = await receiver([503, 200]);
    try {
      const dir = tempDir();
      const run = await runPipeline(loadPipelineFile(pipelineWith(dir, { notificationWebhook: hook.url })), { trigger: 'cli', notify: { webhookBackoffMs: 1 } });
      assert.equal(hook.got.bodies.length, 2);
      assert.equal(run.notifications?.[0].ok, true);
    } finally {
      await hook.close();
    }
    const dead = 'http://127.0.0.1:9/hook';
    const dir = tempDir();
    const run = await runPipeline(loadPipelineFile(pipelineWith(dir, { notificationWebhook: dead })), { trigger: 'cli', notify: { webhookBackoffMs: 1 } });
    assert.equal(run.status, 'success');
    assert.equal(run.counts.new, 2);
    assert.equal(run.notifications?.[0].ok, false);
    assert.match(run.notifications![0].detail, /ECONNREFUSED after 3 attempt/);
  });

  it('email: sends the report through a real SMTP server with auth; whenToEmail on_new_data', async () => {
    const server = await smtp({ user: 'bot', pass: 'pa55-word' });
    try {
      const dir = tempDir();
      const file = pipelineWith(dir, { emailRecipients: ['ml-team@example.com', 'lead@example.com'], whenToEmail: 'on_new_data' });
      const smtpCfg = { host: '127.0.0.1', port: server.port, secure: false, user: 'bot', pass: 'pa55-word', from: 'pipelines@example.com' };
      const run = await runPipeline(loadPipelineFile(file), { trigger: 'cli', notify: { smtp: smtpCfg } });
      await waitFor(() => server.mails.length === 1, 'one mail');
      const mail = server.mails[0];
      assert.deepEqual(mail.to.sort(), ['lead@example.com', 'ml-team@example.com']);
      assert.equal(mail.user, 'bot');
      assert.match(mail.data, /Subject: \[success\] Notify me: 2 new, 0 changed, 0 rejected/);
      assert.match(mail.data, new RegExp(run.id));
      assert.equal(run.notifications?.[0].ok, true);
      // Nothing new: no mail.
      const run2 = await runPipeline(loadPipelineFile(file), { trigger: 'cli', notify: { smtp: smtpCfg } });
      assert.equal(run2.notifications, undefined === run2.notifications ? undefined : run2.notifications);
      assert.equal(server.mails.length, 1);
      // Wrong password: recorded, says what failed, never echoes the password.
      const dir2 = tempDir();
      const run3 = await runPipeline(loadPipelineFile(pipelineWith(dir2, { emailRecipients: ['a@example.com'], whenToEmail: 'always' })), { trigger: 'cli', notify: { smtp: { ...smtpCfg, pass: 'wrong-pass' } } });
      assert.equal(run3.status, 'success');
      assert.equal(run3.notifications?.[0].ok, false);
      assert.match(run3.notifications![0].detail, /refused the user name or password/);
      assert.ok(!run3.notifications![0].detail.includes('wrong-pass'));
    } finally {
      await server.close();
    }
  });

  it('email without an SMTP server configured says how to configure it', async () => {
    const dir = tempDir();
    const run = await runPipeline(loadPipelineFile(pipelineWith(dir, { emailRecipients: ['a@example.com'], whenToEmail: 'always' })), { trigger: 'cli' });
    assert.equal(run.notifications?.[0].ok, false);
    assert.match(run.notifications![0].detail, /DSP_SMTP_URL/);
  });
});

describe('signed webhooks', () => {
  it('signs `${timestamp}.${body}`; a receiver with the wrong secret rejects it', async () => {
    const { createHmac, timingSafeEqual } = await import('node:crypto');
    const { sendWebhook } = await import('../../src/core/notify/webhook');
    const verify = (secret: string, ts: string, body: string, sig: string) => {
      const want = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`);
      const got = Buffer.from(sig);
      return want.length === got.length && timingSafeEqual(want, got) && Math.abs(Date.now() / 1000 - Number(ts)) < 300;
    };
    const seen: { ok: boolean; wrong: boolean }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const ts = String(req.headers['x-timestamp']);
        const sig = String(req.headers['x-signature-256']);
        seen.push({ ok: verify('right-secret', ts, body, sig), wrong: verify('wrong-secret', ts, body, sig) });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const dir = tempDir();
    const run = await runPipeline(loadPipelineFile(pipelineWith(dir, {})), { trigger: 'cli', notify: false });
    const d = await sendWebhook(url, run, { secret: 'right-secret', attempts: 1 });
    await new Promise((r) => server.close(r));
    assert.ok(d.ok, d.detail);
    assert.deepEqual(seen, [{ ok: true, wrong: false }]);
    console.log(`webhook signature: ${seen.length} delivery verified, wrong secret rejected`);
  });
});
