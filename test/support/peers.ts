// Real peers for notification tests: an HTTP receiver for webhooks and a real SMTP server
// (smtp-server, from the nodemailer project) that keeps every mail it is sent.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Received {
  status: number;
  bodies: any[];
}

export async function receiver(statuses: number[]): Promise<{ url: string; got: Received; close: () => Promise<void> }> {
  const got: Received = { status: 0, bodies: [] };
  let i = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      const status = statuses[Math.min(i++, statuses.length - 1)];
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/secret-token-123`, got, close: () => new Promise((r) => server.close(() => r())) };
}

export interface Mail {
  from: string;
  to: string[];
  data: string;
  user?: string;
}

export async function smtp(opts: { user?: string; pass?: string } = {}): Promise<{ port: number; mails: Mail[]; close: () => Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: !opts.user,
    allowInsecureAuth: true,
    onAuth(auth, _session, cb) {
      if (auth.username === opts.user && auth.password === opts.pass) cb(null, { user: auth.username });
      else cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ from: session.envelope.mailFrom ? (session.envelope.mailFrom as { address: string }).address : '', to: session.envelope.rcptTo.map((r) => r.address), data: Buffer.concat(chunks).toString('utf8'), user: session.user as string | undefined });
        cb();
      });
    },
    logger: false,
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise((r) => server.close(() => r())) };
}
