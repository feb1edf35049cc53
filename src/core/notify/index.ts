// Sends a finished run's notifications. Their failure is recorded on the run, never thrown.
import type { Pipeline } from '../pipeline/model';
import type { Logger, RunRecord } from '../types';
import { sendEmail, shouldEmail, type SmtpConfig } from './email';
import { envResolver, resolveValue, type Resolver } from '../pipeline/refs';
import { sendWebhook, type DeliveryResult } from './webhook';

export interface NotifyOptions {
  smtp?: SmtpConfig;
  webhookAttempts?: number;
  webhookBackoffMs?: number;
  /** Resolves `notificationWebhookSecret` at send time (default: the environment). */
  resolver?: Resolver;
}

export async function notifyRun(pipeline: Pipeline, run: RunRecord, opts: NotifyOptions, logger: Logger): Promise<DeliveryResult[]> {
  const out: DeliveryResult[] = [];
  const jobs: Promise<DeliveryResult>[] = [];
  if (pipeline.notificationWebhook) {
    const url = pipeline.notificationWebhook;
    jobs.push(
      (async () => {
        let secret: string | undefined;
        if (pipeline.notificationWebhookSecret) {
          try {
            secret = await resolveValue(pipeline.notificationWebhookSecret, opts.resolver ?? envResolver(), 'notificationWebhookSecret');
          } catch (err) {
            return { kind: 'webhook', ok: false, detail: `webhook not sent: ${(err as Error).message}` } as DeliveryResult;
          }
          if (!secret) return { kind: 'webhook', ok: false, detail: 'webhook not sent: notificationWebhookSecret resolved to nothing.' } as DeliveryResult;
        }
        return sendWebhook(url, run, { attempts: opts.webhookAttempts, backoffMs: opts.webhookBackoffMs, secret });
      })(),
    );
  }
  if (pipeline.emailRecipients?.length && shouldEmail(pipeline.whenToEmail, run)) jobs.push(sendEmail(opts.smtp, pipeline.emailRecipients, run));
  for (const r of await Promise.allSettled(jobs)) {
    const d: DeliveryResult = r.status === 'fulfilled' ? r.value : { kind: 'webhook', ok: false, detail: String(r.reason) };
    (d.ok ? logger.info : logger.warn)(`notification (${d.kind}): ${d.detail}`);
    out.push(d);
  }
  return out;
}

export { smtpFromEnv, type SmtpConfig } from './email';
export { redactUrl, runReport, type RunReport } from './report';
