// emailRecipients + whenToEmail: the run report by SMTP. Settings come from the environment (CLI)
// or the editor; the password is never logged.
import * as fs from 'node:fs';
import { formatMetric, orderedMetrics, tableCells } from '../train/metrics';
import type { MetricTable, RunRecord } from '../types';
import { sanitizeServerText } from '../util/errors';
import { runReport } from './report';
import type { DeliveryResult } from './webhook';

export interface SmtpConfig {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  pass?: string;
  from: string;
  /** Accept self-signed certificates (local relays). */
  allowInvalidCerts?: boolean;
}

/** DSP_SMTP_URL=smtp[s]://user:pass@host:port, or DSP_SMTP_HOST/PORT/USER/PASS/SECURE; DSP_SMTP_FROM. */
export function smtpFromEnv(env: NodeJS.ProcessEnv): SmtpConfig | undefined {
  const from = env.DSP_SMTP_FROM ?? 'data-pipelines@localhost';
  if (env.DSP_SMTP_URL) {
    const u = new URL(env.DSP_SMTP_URL);
    const secure = u.protocol === 'smtps:';
    return { host: u.hostname, port: Number(u.port || (secure ? 465 : 587)), secure, user: u.username ? decodeURIComponent(u.username) : undefined, pass: u.password ? decodeURIComponent(u.password) : undefined, from, allowInvalidCerts: env.DSP_SMTP_ALLOW_INVALID_CERTS === '1' };
  }
  if (!env.DSP_SMTP_HOST) return undefined;
  const secure = env.DSP_SMTP_SECURE === '1' || env.DSP_SMTP_SECURE === 'true';
  return { host: env.DSP_SMTP_HOST, port: Number(env.DSP_SMTP_PORT ?? (secure ? 465 : 587)), secure, user: env.DSP_SMTP_USER, pass: env.DSP_SMTP_PASS, from, allowInvalidCerts: env.DSP_SMTP_ALLOW_INVALID_CERTS === '1' };
}

export type WhenToEmail = 'always' | 'on_new_data' | 'never';

export function shouldEmail(when: WhenToEmail | undefined, run: RunRecord): boolean {
  switch (when ?? 'on_new_data') {
    case 'always':
      return true;
    case 'never':
      return false;
    default:
      return run.counts.new + run.counts.changed + run.counts.removed > 0 || run.status === 'failed';
  }
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function emailBody(run: RunRecord): { subject: string; text: string; html: string } {
  const r = runReport(run);
  const subject = `[${r.status}] ${r.pipelineName}: ${r.newItems} new, ${r.changedItems} changed, ${r.rejectedItems} rejected`;
  const lines = [
    `Pipeline: ${r.pipelineName}`,
    `Run: ${r.runId} (${r.trigger}), ${r.status}, ${((r.durationMs ?? 0) / 1000).toFixed(1)} s`,
    `New ${r.newItems}, changed ${r.changedItems}, unchanged ${r.unchangedItems}, removed ${r.removedItems}, duplicate ${r.duplicateItems}, rejected ${r.rejectedItems}`,
    `Checklist: ${r.newChecklistOK} ok, ${r.newChecklistFail} failed`,
    '',
    ...r.steps.map((s) => `- ${s.name} (${s.type}): ${s.status}${s.message ? ` — ${s.message}` : ''}${s.errors.length ? `\n    ${s.errors.join('\n    ')}` : ''}${s.warnings.length ? `\n    warning: ${s.warnings.join('\n    warning: ')}` : ''}`),
  ];
  const metrics = r.metrics ? orderedMetrics(r.metrics, r.metricTables) : [];
  if (metrics.length) lines.push('', 'Metrics (beside the previous training):', ...metrics.map(([k, m]) => `  ${formatMetric(k, m)}`));
  for (const t of r.metricTables ?? []) lines.push('', `${t.name}:`, ...tableCells(t).map((row) => `  ${row.join('\t')}`));
  const quality = Object.entries(r.quality ?? {}).filter(([, n]) => n > 0);
  if (r.quality) lines.push('', `Data quality: ${quality.length ? quality.map(([k, n]) => `${n} ${k}`).join(', ') : 'no findings'}`);
  if (r.error) lines.push('', `Error: ${r.error}`);
  const rows = run.steps
    .flatMap((s) => Object.entries(s.byCategoryLabel).flatMap(([cat, labels]) => Object.entries(labels).map(([label, c]) => `<tr><td>${esc(cat)}</td><td>${esc(label)}</td><td>${c.new}</td><td>${c.changed}</td><td>${c.unchanged}</td><td>${c.removed}</td><td>${c.rejected}</td></tr>`)))
    .join('');
  const metricsHtml = metrics.length
    ? `<h3>Metrics</h3><table border="1" cellpadding="4" cellspacing="0"><tr><th>metric</th><th>value</th><th>previous</th><th>change</th></tr>${metrics.map(([k, m]) => `<tr><td>${esc(k)}</td><td>${m.value}</td><td>${m.previous ?? ''}</td><td>${m.change === undefined ? '' : (m.change > 0 ? '+' : '') + m.change}</td></tr>`).join('')}</table>${(r.metricTables ?? []).map(htmlTable).join('')}`
    : '';
  const html = `<h2>${esc(r.pipelineName)}: ${esc(r.status)}</h2><p>${lines.slice(1, 4).map(esc).join('<br>')}</p><table border="1" cellpadding="4" cellspacing="0"><tr><th>category</th><th>label</th><th>new</th><th>changed</th><th>unchanged</th><th>removed</th><th>rejected</th></tr>${rows}</table><ul>${r.steps.map((s) => `<li>${esc(s.name)}: ${esc(s.status)}${s.message ? ` — ${esc(s.message)}` : ''}</li>`).join('')}</ul>${metricsHtml}${r.error ? `<p>Error: ${esc(r.error)}</p>` : ''}`;
  return { subject, text: lines.join('\n'), html };
}

function htmlTable(t: MetricTable): string {
  const [head, ...rows] = tableCells(t);
  return `<h4>${esc(t.name)}</h4><table border="1" cellpadding="4" cellspacing="0"><tr>${head.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c, i) => (i ? `<td>${esc(c)}</td>` : `<th>${esc(c)}</th>`)).join('')}</tr>`).join('')}</table>`;
}

export async function sendEmail(smtp: SmtpConfig | undefined, to: string[], run: RunRecord): Promise<DeliveryResult> {
  if (!smtp) return { kind: 'email', ok: false, detail: 'emailRecipients is set but no SMTP server is configured: set DSP_SMTP_URL (smtp://user:pass@host:587) for the CLI, or the SMTP settings in the editor.' };
  const nodemailer = await import('nodemailer');
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    auth: smtp.user ? { user: smtp.user, pass: smtp.pass ?? '' } : undefined,
    tls: smtp.allowInvalidCerts ? { rejectUnauthorized: false } : undefined,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  const body = emailBody(run);
  try {
    // A run with new data carries the data explorer's map, as Edge Impulse's mail does.
    const map = run.counts.new > 0 ? [...run.steps].reverse().find((s) => s.artifacts?.explorer)?.artifacts?.explorer : undefined;
    const attachments = map && fs.existsSync(map) ? [{ filename: 'data-explorer.png', path: map, cid: 'data-explorer-map' }] : [];
    const html = attachments.length ? `${body.html}<h3>Data explorer</h3><img src="cid:data-explorer-map" alt="map of every sample" width="800">` : body.html;
    const info = await transport.sendMail({ from: smtp.from, to, subject: body.subject, text: body.text, html, attachments });
    return { kind: 'email', ok: true, detail: `sent to ${to.length} recipient(s) via ${smtp.host}:${smtp.port} (${info.messageId})` };
  } catch (err) {
    const e = err as { code?: string; responseCode?: number; message: string };
    const why = e.responseCode === 535 || e.code === 'EAUTH' ? 'the SMTP server refused the user name or password' : e.code === 'ECONNREFUSED' || e.code === 'ESOCKET' || e.code === 'ECONNECTION' ? `cannot reach ${smtp.host}:${smtp.port}` : sanitizeServerText(e.message.split(smtp.pass || '\u0000').join('***'));
    return { kind: 'email', ok: false, detail: `email not sent: ${why} (${e.code ?? e.responseCode ?? 'error'}). The run itself is saved.` };
  } finally {
    transport.close();
  }
}
