// An HTTP proxy between the S3 source and the real server that counts requests by kind and
// injects the failures a real network and a busy S3 produce: connection resets before an answer,
// 503 SlowDown, 429, bodies cut short, and AWS's answer to a request signed for the wrong region.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = 'reset' | 'slowdown' | 'too-many' | 'truncate' | 'internal-error' | 'stall';

export interface ProxyCounts {
  list: number;
  get: number;
  head: number;
  other: number;
  /** Object GETs per key (decoded), attempts included. */
  getsByKey: Map<string, number>;
  faults: Record<Fault, number>;
}

export interface FaultPlan {
  /** For an object GET: the fault for this attempt (1-based) at this key, or undefined to pass it through. */
  get?: (key: string, attempt: number) => Fault | undefined;
  /** For a listing request (1-based count of listings so far). */
  list?: (n: number) => Fault | undefined;
  /** Answer like AWS when the request is signed for another region than this one. */
  bucketRegion?: string;
}

export interface FaultProxy {
  url: string;
  counts: ProxyCounts;
  plan: FaultPlan;
  reset(): void;
  close(): Promise<void>;
}

function emptyCounts(): ProxyCounts {
  return { list: 0, get: 0, head: 0, other: 0, getsByKey: new Map(), faults: { reset: 0, slowdown: 0, 'too-many': 0, truncate: 0, 'internal-error': 0, stall: 0 } };
}

function signedRegion(auth: string | undefined): string | undefined {
  return auth ? /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(auth)?.[1] : undefined;
}

export async function startFaultProxy(target: string, plan: FaultPlan = {}): Promise<FaultProxy> {
  const up = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const stalled = new Set<import('node:net').Socket>();
  const proxy: FaultProxy = {
    url: '',
    counts: emptyCounts(),
    plan,
    reset() {
      proxy.counts = emptyCounts();
    },
    close: async () => {
      for (const s of stalled) s.destroy();
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };

  const answer = (res: http.ServerResponse, status: number, code: string, extra = '') => {
    const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected by the test proxy</Message>${extra}</Error>`;
    res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://proxy');
    const parts = u.pathname.split('/'); // '', bucket, ...key
    const isObject = parts.length > 2 && !(parts.length === 3 && parts[2] === '');
    const key = isObject ? decodeURIComponent(parts.slice(2).join('/')) : '';
    let fault: Fault | undefined;
    const c = proxy.counts;
    if (req.method === 'HEAD') c.head++;
    else if (req.method === 'GET' && isObject) {
      c.get++;
      const n = (c.getsByKey.get(key) ?? 0) + 1;
      c.getsByKey.set(key, n);
      fault = proxy.plan.get?.(key, n);
    } else if (req.method === 'GET' && u.searchParams.has('list-type')) {
      c.list++;
      fault = proxy.plan.list?.(c.list);
    } else c.other++;

    const region = proxy.plan.bucketRegion;
    if (region && signedRegion(req.headers.authorization) !== region) {
      res.setHeader('x-amz-bucket-region', region);
      return answer(res, 400, 'AuthorizationHeaderMalformed', `<Region>${region}</Region>`);
    }
    if (fault) c.faults[fault]++;
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault === 'stall') {
      // Accept the request and send nothing, ever: the client's idle timeout must notice.
      stalled.add(req.socket);
      req.socket.once('close', () => stalled.delete(req.socket));
      return;
    }
    if (fault === 'slowdown') return answer(res, 503, 'SlowDown');
    if (fault === 'too-many') return answer(res, 429, 'TooManyRequests');
    if (fault === 'internal-error') return answer(res, 500, 'InternalError');

    // The Host header is signed: pass it through unchanged.
    const upReq = http.request({ hostname: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers, agent }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      if (fault === 'truncate') {
        // Send part of the body under the full Content-Length, then drop the connection.
        let sent = false;
        upRes.on('data', (chunk: Buffer) => {
          if (sent) return;
          sent = true;
          res.write(chunk.subarray(0, Math.max(1, Math.floor(chunk.length / 2))), () => res.socket?.destroy());
        });
        upRes.on('end', () => {
          if (!sent) res.socket?.destroy();
        });
        return;
      }
      upRes.pipe(res);
    });
    upReq.on('error', () => res.socket?.destroy());
    req.pipe(upReq);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
