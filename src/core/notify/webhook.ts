// notificationWebhook: a JSON POST after each run, retried with backoff; a failure is recorded, never thrown.
import { createHmac } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { RunRecord } from '../types';
import { sanitizeServerText } from '../util/errors';
import { isRetryable, RetryableError, withRetries } from '../util/retry';
import { redactUrl, runReport } from './report';

export interface DeliveryResult {
  kind: 'webhook' | 'email';
  ok: boolean;
  detail: string;
}

/** GitHub-style signature over `${timestamp}.${body}` (hex HMAC-SHA256), so replays can be rejected. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

function post(url: URL, body: string, timeoutMs: number, signal?: AbortSignal, secret?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'data-source-pipelines' };
    if (secret) {
      const ts = Math.floor(Date.now() / 1000);
      headers['x-timestamp'] = String(ts);
      headers['x-signature-256'] = signWebhook(secret, ts, body);
    }
    const req = lib.request(
      url,
      { method: 'POST', headers, timeout: timeoutMs, signal },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export async function sendWebhook(url: string, run: RunRecord, opts: { attempts?: number; timeoutMs?: number; backoffMs?: number; signal?: AbortSignal; secret?: string } = {}): Promise<DeliveryResult> {
  const where = redactUrl(url);
  let target: URL;
  try {
    target = new URL(url);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error('protocol');
  } catch {
    return { kind: 'webhook', ok: false, detail: `notificationWebhook is not an http(s) URL; fix it in the pipeline file.` };
  }
  const body = JSON.stringify(runReport(run));
  const attempts = opts.attempts ?? 3;
  let last = '';
  let tries = 0;
  // The shared retry policy, with the receiver's own word on what is worth retrying: a 4xx other
  // than 408/429 means it refuses the call, and retrying won't help.
  const refused = (status: number) => status >= 400 && status < 500 && status !== 429 && status !== 408;
  try {
    const status = await withRetries(
      attempts,
      opts.signal,
      async (attempt) => {
        tries = attempt;
        let s: number;
        try {
          s = await post(target, body, opts.timeoutMs ?? 10_000, opts.signal, opts.secret);
        } catch (err) {
          last = (err as NodeJS.ErrnoException).code ?? sanitizeServerText((err as Error).message);
          throw new RetryableError(last);
        }
        if (s >= 200 && s < 300) return s;
        last = `answered HTTP ${s}`;
        throw refused(s) ? Object.assign(new Error(last), { final: true }) : new RetryableError(last, s === 429);
      },
      (err) => isRetryable(err),
      opts.backoffMs,
    );
    return { kind: 'webhook', ok: true, detail: `POST ${where} answered ${status}` };
  } catch {
    /* reported below */
  }
  const attemptsMade = tries;
  return { kind: 'webhook', ok: false, detail: `webhook ${where} ${last} after ${attemptsMade} attempt(s). Check the URL and that the receiver is up; the run itself is saved.` };
}
