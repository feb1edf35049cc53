// notificationWebhook: a JSON POST after each run, retried with backoff; a failure is recorded, never thrown.
import { createHmac } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { RunRecord } from '../types';
import { sanitizeServerText } from '../util/errors';
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
  for (let i = 1; i <= attempts; i++) {
    try {
      const status = await post(target, body, opts.timeoutMs ?? 10_000, opts.signal, opts.secret);
      if (status >= 200 && status < 300) return { kind: 'webhook', ok: true, detail: `POST ${where} answered ${status}` };
      last = `answered HTTP ${status}`;
      if (status >= 400 && status < 500 && status !== 429 && status !== 408) break; // the receiver refuses: retrying won't help
    } catch (err) {
      last = (err as NodeJS.ErrnoException).code ?? sanitizeServerText((err as Error).message);
    }
    if (i < attempts) await new Promise((r) => setTimeout(r, (opts.backoffMs ?? 500) * 2 ** (i - 1)));
  }
  return { kind: 'webhook', ok: false, detail: `webhook ${where} ${last} after ${attempts} attempt(s). Check the URL and that the receiver is up; the run itself is saved.` };
}
