// S3 sync benchmark: our CLI against rclone (tuned and at its defaults) and the AWS CLI on the same
// endpoints in the same run, each case's tools interleaved round by round so a busy moment on the
// machine hits them alike. Cases: the in-memory endpoint on loopback and with every request 20 ms
// away (its /__latency switch), 100,000 and 1,000,000 keys (time and peak RSS), and Ceph RGW.
// Driven by bench/run.sh, which starts Ceph RGW and the in-memory endpoint and passes:
//   MEM_ENDPOINT, S3_ENDPOINT/S3_ACCESS_KEY/S3_SECRET_KEY (RGW), BENCH_DIR (where files land).
// Writes bench/results/s3-sync.json and the results tables in BENCHMARKS.md (between markers).
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { canonicalQuery, encodeKeyPath, Signer } from '../src/core/sources/s3/sigv4';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const AWS = '/usr/bin/aws'; // Debian's; a pyenv shim may shadow `aws` on PATH
const N = Number(process.env.BENCH_OBJECTS ?? 10_000);
const FAR = Number(process.env.BENCH_FAR_OBJECTS ?? 5_000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20);
const BIG = Number(process.env.BENCH_BIG_OBJECTS ?? 100_000);
const MILLION = Number(process.env.BENCH_MILLION_OBJECTS ?? 1_000_000);
const SIZE = 4096;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Transfers in flight per shard in the shard-scaling case: a fixed per-machine limit, so the shards' sum is what grows. */
const SHARD_IN_FLIGHT = 16;
const env = process.env;
const MEM = env.MEM_ENDPOINT!;
const RGW = env.S3_ENDPOINT!;
const WORK = fs.mkdtempSync(path.join(env.BENCH_DIR || os.tmpdir(), 'dsp-bench-'));

const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

interface Timed {
  ms: number;
  maxRssKb?: number;
  stdout: string;
}

/** Runs a command to completion; wall time, and peak RSS through /usr/bin/time. */
function timed(cmd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}, opts: { unset?: string[] } = {}): Promise<Timed> {
  const e: NodeJS.ProcessEnv = { ...env, ...extraEnv };
  for (const k of opts.unset ?? []) delete e[k];
  const rssFile = path.join(WORK, `rss-${process.hrtime.bigint()}`);
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const p = spawn('/usr/bin/time', ['-f', '%M', '-o', rssFile, cmd, ...args], { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c));
    p.stderr.on('data', (c: Buffer) => (err += c));
    p.on('error', reject);
    p.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`));
      const rss = Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop());
      fs.rmSync(rssFile, { force: true });
      resolve({ ms, maxRssKb: Number.isFinite(rss) ? rss : undefined, stdout: out });
    });
  });
}

function countFiles(dir: string): number {
  let n = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name === '.dsp' || e.name === 'info.labels' || e.name === 'labels.txt') continue;
      if (e.isDirectory()) walk(path.join(d, e.name));
      else n++;
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return n;
}

function request(url: string, method = 'GET'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method }, (res) => {
      let s = '';
      res.on('data', (c: Buffer) => (s += c));
      res.on('end', () => resolve(s));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Target {
  name: 'mem' | 'rgw';
  endpoint: string;
  bucket: string;
  prefix: string;
  accessKey: string;
  secretKey: string;
  rcloneProvider: string;
}

function pipelineFile(t: Target, hint: string, prefix = t.prefix, bucket = t.bucket, concurrency?: number): { file: string; dataset: string } {
  const dir = path.join(WORK, `${t.name}-${hint}`);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'bench.pipeline.json');
  const block: Record<string, unknown> = { type: 's3-to-project', path: `s3://${bucket}/${prefix}`, endpoint: t.endpoint, region: 'us-east-1', accessKey: t.accessKey, secretKey: '${secret:BENCH_S3_SECRET}', category: 'training' };
  if (concurrency) block.concurrency = concurrency;
  fs.writeFileSync(file, JSON.stringify({ name: `bench ${t.name}`, dataset: 'dataset', steps: [{ name: 'sync', builtinTransformationBlock: block }] }));
  return { file, dataset: path.join(dir, 'dataset') };
}

function ours(t: Target, file: string, command = 'run'): Promise<Timed> {
  return timed(process.execPath, [CLI, command, file, '--quiet'], { BENCH_S3_SECRET: t.secretKey });
}

const RCLONE_TUNED = ['--transfers', '64', '--checkers', '64', '--size-only'];

function rclone(t: Target, dest: string, flags: string[] = RCLONE_TUNED): Promise<Timed> {
  const e = { RCLONE_CONFIG_B_TYPE: 's3', RCLONE_CONFIG_B_PROVIDER: t.rcloneProvider, RCLONE_CONFIG_B_ENDPOINT: t.endpoint, RCLONE_CONFIG_B_ACCESS_KEY_ID: t.accessKey, RCLONE_CONFIG_B_SECRET_ACCESS_KEY: t.secretKey, RCLONE_CONFIG_B_FORCE_PATH_STYLE: 'true', RCLONE_CONFIG_B_REGION: 'us-east-1' };
  // rclone 1.60 refuses to start with AWS_CA_BUNDLE set ("unsupported transport"); it is plain HTTP here.
  return timed('rclone', ['copy', `b:${t.bucket}/${t.prefix}`, dest, ...flags, '-q'], e, { unset: ['AWS_CA_BUNDLE'] });
}

function awsSync(t: Target, dest: string): Promise<Timed> {
  const e = { AWS_ACCESS_KEY_ID: t.accessKey, AWS_SECRET_ACCESS_KEY: t.secretKey, AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
  return timed(AWS, ['s3', 'sync', `s3://${t.bucket}/${t.prefix}`, dest, '--endpoint-url', t.endpoint, '--only-show-errors', '--no-progress'], e, { unset: ['AWS_PROFILE', 'AWS_CA_BUNDLE'] });
}

async function memStats(): Promise<{ list: number; get: number; head: number }> {
  return JSON.parse(await request(`${MEM}/__stats`)) as { list: number; get: number; head: number };
}

/** PUTs `count` objects of SIZE bytes into RGW, 64 in flight, signed with our SigV4 signer. */
async function seedRgw(t: Target, count: number): Promise<void> {
  const u = new URL(t.endpoint);
  const signer = new Signer({ accessKeyId: t.accessKey, secretAccessKey: t.secretKey });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const put = (p: string, body: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const headers = signer.sign({ method: 'PUT', host: u.host, path: p, query: canonicalQuery({}), region: 'us-east-1', headers: { 'content-length': String(body.length) } });
      const req = http.request({ hostname: u.hostname, port: u.port, method: 'PUT', path: p, headers, agent }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PUT ${p}: HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  await put(`/${t.bucket}`, Buffer.alloc(0));
  let i = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (i < count) {
      const n = i++;
      const key = `${t.prefix}class${String(n % 10).padStart(2, '0')}/${String(n).padStart(7, '0')}.csv`;
      await put(`/${t.bucket}/${encodeKeyPath(key)}`, Buffer.alloc(SIZE, `${key},${n}\n`));
    }
  }));
  agent.destroy();
}

type ToolName = 'ours' | 'rclone' | 'rcloneDefault' | 'aws';

interface ToolRuns {
  coldMs: number[];
  noopMs: number[];
  coldRssKb?: number;
  noopRssKb?: number;
}

interface CaseResult {
  objects: number;
  objectBytes: number;
  latencyMs: number;
  loadAvg: number[];
  tools: Partial<Record<ToolName, ToolRuns>>;
  noopRequests?: { list: number; get: number; head: number };
  /** Ours' no-op with the no-op memo removed first (the plan made in full: the first re-sync after a change), in the same rounds. */
  fullPlanMs?: number[];
  fullPlanRssKb?: number;
  /** Of ours' no-op rounds, how many reused the last no-op's plan (its run record says so). */
  reusedRounds?: number;
  previewMs?: number[];
  previewRssKb?: number;
}

interface CaseSpec {
  target: Target;
  hint: string;
  objects: number;
  /** Rounds per tool (cold, then no-op); a tool left out is not run. */
  rounds: Partial<Record<ToolName, number>>;
  latencyMs?: number;
  preview?: number;
  /** Fewer cold rounds than no-op rounds (a large cold copy takes minutes). */
  coldRounds?: number;
}

async function setLatency(ms: number): Promise<void> {
  await request(`${MEM}/__latency?ms=${ms}`, 'POST');
}

const keep = (r: ToolRuns, t: Timed, kind: 'cold' | 'noop') => {
  r[`${kind}Ms`].push(t.ms);
  const k = kind === 'cold' ? 'coldRssKb' : 'noopRssKb';
  r[k] = Math.max(r[k] ?? 0, t.maxRssKb ?? 0);
};

/** One tool's cold copy into `dest` (emptied first), checked by the file count. */
async function cold(tool: ToolName, spec: CaseSpec, file: string, dest: string): Promise<Timed> {
  fs.rmSync(dest, { recursive: true, force: true });
  const t = spec.target;
  const r = tool === 'ours' ? await ours(t, file) : tool === 'aws' ? await awsSync(t, dest) : await rclone(t, dest, tool === 'rclone' ? RCLONE_TUNED : []);
  const n = countFiles(dest);
  if (n !== spec.objects) throw new Error(`${tool} copied ${n} of ${spec.objects} files (${spec.hint})`);
  return r;
}

/** Whether the newest run record of a dataset says its import step reused the last no-op's plan. */
function reusedPlan(dataset: string): boolean {
  const dir = path.join(dataset, '.dsp', 'runs');
  const newest = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => path.join(dir, f)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  const run = JSON.parse(fs.readFileSync(newest, 'utf8')) as { steps: { message?: string }[] };
  return run.steps.some((x) => /its plan stands/.test(x.message ?? ''));
}

async function noop(tool: ToolName, spec: CaseSpec, file: string, dest: string, res: CaseResult, fullPlan = false): Promise<Timed> {
  const t = spec.target;
  if (tool !== 'ours') return tool === 'aws' ? awsSync(t, dest) : rclone(t, dest, tool === 'rclone' ? RCLONE_TUNED : []);
  if (t.name === 'mem') await request(`${MEM}/__reset`, 'POST');
  if (fullPlan) fs.rmSync(path.join(dest, '.dsp', 'noop.json'), { force: true });
  const r = await ours(t, file);
  const reused = reusedPlan(dest);
  if (fullPlan && reused) throw new Error(`the no-op planned in full reused a plan (${spec.hint})`);
  if (!fullPlan && reused) res.reusedRounds = (res.reusedRounds ?? 0) + 1;
  if (t.name === 'mem') {
    const s = await memStats();
    if (s.get !== 0 || s.head !== 0) throw new Error(`our no-op re-sync made ${s.get} GET and ${s.head} HEAD requests (${spec.hint})`);
    res.noopRequests = s;
  }
  return r;
}

/** Every tool of a case, cold then no-op, interleaved round by round. */
async function runCase(spec: CaseSpec): Promise<CaseResult> {
  const tools = Object.keys(spec.rounds) as ToolName[];
  const res: CaseResult = { objects: spec.objects, objectBytes: 0, latencyMs: spec.latencyMs ?? 0, loadAvg: os.loadavg().map((x) => +x.toFixed(2)), tools: {} };
  if (spec.target.name === 'mem') await setLatency(spec.latencyMs ?? 0);
  const p = pipelineFile(spec.target, spec.hint);
  const dest = (tool: ToolName) => (tool === 'ours' ? p.dataset : path.join(WORK, `${spec.hint}-${tool}`));
  for (const tool of tools) res.tools[tool] = { coldMs: [], noopMs: [] };
  const most = Math.max(...tools.map((x) => spec.rounds[x]!));
  for (const kind of ['cold', 'noop'] as const) {
    for (let r = 0; r < most; r++) {
      const line: string[] = [];
      for (const tool of tools) {
        // A tool with fewer rounds still needs its copy in place for the no-op rounds.
        const rounds = kind === 'cold' ? Math.min(spec.rounds[tool]!, spec.coldRounds ?? Infinity) : spec.rounds[tool]!;
        if (r >= rounds && !(kind === 'noop' && r === 0)) continue;
        const t = kind === 'cold' ? await cold(tool, spec, p.file, dest(tool)) : await noop(tool, spec, p.file, dest(tool), res);
        keep(res.tools[tool]!, t, kind);
        line.push(`${tool} ${t.ms.toFixed(0)} ms`);
        if (kind === 'noop' && tool === 'ours') {
          // The same no-op planned in full (no memo), in the same round: what the first re-sync after a change costs.
          const f = await noop(tool, spec, p.file, dest(tool), res, true);
          (res.fullPlanMs ??= []).push(f.ms);
          res.fullPlanRssKb = Math.max(res.fullPlanRssKb ?? 0, f.maxRssKb ?? 0);
          line.push(`ours planned in full ${f.ms.toFixed(0)} ms`);
        }
      }
      // The preview in the same rounds as the no-ops, so a busy moment hits both alike.
      if (kind === 'noop' && spec.preview && r < spec.preview) {
        const pv = await ours(spec.target, p.file, 'preview');
        (res.previewMs ??= []).push(pv.ms);
        res.previewRssKb = Math.max(res.previewRssKb ?? 0, pv.maxRssKb ?? 0);
        line.push(`preview ${pv.ms.toFixed(0)} ms`);
      }
      log(`${spec.hint} ${kind} round ${r + 1}: ${line.join(', ')}`);
    }
  }
  for (const tool of tools) fs.rmSync(dest(tool), { recursive: true, force: true });
  if (spec.target.name === 'mem') await setLatency(0);
  return res;
}

/**
 * Sharded runs on one machine against a latency-bound endpoint: 1, 2 and 4 shard processes at once
 * (each with the same pinned transfers in flight, as each machine of a real deployment would have
 * its own network), then finalize; wall time from the first start to finalize's end.
 */
async function shardScaling(t: Target, objects: number, latencyMs: number, inFlight: number): Promise<{ shards: number; ms: number; finalizeMs: number }[]> {
  await setLatency(latencyMs);
  const out: { shards: number; ms: number; finalizeMs: number }[] = [];
  for (const n of [1, 2, 4]) {
    const p = pipelineFile(t, `shards-${n}`, undefined, undefined, inFlight);
    fs.rmSync(p.dataset, { recursive: true, force: true });
    const t0 = Date.now();
    await Promise.all(Array.from({ length: n }, (_, k) => timed(process.execPath, [CLI, 'run', p.file, '--shard', `${k + 1}/${n}`, '--quiet'], { BENCH_S3_SECRET: t.secretKey })));
    const f = await timed(process.execPath, [CLI, 'finalize', p.file, '--quiet'], { BENCH_S3_SECRET: t.secretKey });
    const ms = Date.now() - t0;
    if (countFiles(p.dataset) !== objects) throw new Error(`${n} shards synced ${countFiles(p.dataset)} of ${objects} files`);
    out.push({ shards: n, ms, finalizeMs: f.ms });
    fs.rmSync(p.dataset, { recursive: true, force: true });
  }
  await setLatency(0);
  log(`shards: ${JSON.stringify(out)}`);
  return out;
}

/** Ours with the transfers in flight pinned, against the adaptive default, one cold run each. */
async function concurrencySweep(t: Target, hint: string, latencyMs: number): Promise<[string, number][]> {
  await setLatency(latencyMs);
  const out: [string, number][] = [];
  for (const c of [0, 32, 64, 128, 256, 512]) {
    const p = pipelineFile(t, `${hint}-c${c}`, undefined, undefined, c || undefined);
    fs.rmSync(p.dataset, { recursive: true, force: true });
    out.push([c ? `pinned ${c}` : 'adaptive', (await ours(t, p.file)).ms]);
    fs.rmSync(p.dataset, { recursive: true, force: true });
  }
  await setLatency(0);
  log(`concurrency (${hint}): ${JSON.stringify(out)}`);
  return out;
}

function version(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', env: { ...env, AWS_CA_BUNDLE: '' } }).split('\n')[0].trim();
  } catch {
    return 'unknown';
  }
}

async function seedMem(bucket: string, count: number, size: number): Promise<void> {
  await request(`${MEM}/__seed?bucket=${bucket}&prefix=data/&count=${count}&size=${size}`, 'POST');
}

async function main(): Promise<void> {
  const started = Date.now();
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? '',
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    rclone: version('rclone', ['version']),
    aws: version(AWS, ['--version']),
    ceph: version('radosgw', ['--version']),
    filesLandIn: WORK,
    loadAvgBefore: os.loadavg().map((x) => +x.toFixed(2)),
  };
  log(`machine: ${JSON.stringify(machine)}`);
  const mem = (bucket: string): Target => ({ name: 'mem', endpoint: MEM, bucket, prefix: 'data/', accessKey: 'bench', secretKey: 'bench-secret', rcloneProvider: 'Other' });
  const rgw: Target = { name: 'rgw', endpoint: RGW, bucket: 'bench', prefix: 'data/', accessKey: env.S3_ACCESS_KEY!, secretKey: env.S3_SECRET_KEY!, rcloneProvider: 'Ceph' };
  await seedMem('bench', N, SIZE);
  await seedMem('far', FAR, SIZE);
  const all = { ours: ROUNDS, rclone: ROUNDS, rcloneDefault: 1, aws: 1 };
  const cases: Record<string, CaseResult> = {};
  cases.loopback = await runCase({ target: mem('bench'), hint: 'loopback', objects: N, rounds: all });
  cases.far = await runCase({ target: mem('far'), hint: 'far', objects: FAR, rounds: all, latencyMs: LATENCY_MS });
  const sweep = { loopback: await concurrencySweep(mem('bench'), 'loopback', 0), far: await concurrencySweep(mem('far'), 'far', LATENCY_MS) };
  const shards = await shardScaling(mem('far'), FAR, LATENCY_MS, SHARD_IN_FLIGHT);
  await request(`${MEM}/__clear?bucket=far`, 'POST');

  await seedMem('big', BIG, 1024);
  cases.big = await runCase({ target: mem('big'), hint: 'big', objects: BIG, rounds: { ours: ROUNDS, rclone: ROUNDS }, coldRounds: 1, preview: 3 });
  await request(`${MEM}/__clear?bucket=big`, 'POST');
  if (MILLION > 0) {
    await seedMem('million', MILLION, 256);
    cases.million = await runCase({ target: mem('million'), hint: 'million', objects: MILLION, rounds: { ours: 3, rclone: 1 }, coldRounds: 1, preview: 1 });
    await request(`${MEM}/__clear?bucket=million`, 'POST');
  }

  let t = Date.now();
  await seedRgw(rgw, N);
  log(`seeded RGW with ${N} objects in ${Date.now() - t} ms`);
  cases.rgw = await runCase({ target: rgw, hint: 'rgw', objects: N, rounds: { ours: Math.max(1, ROUNDS - 1), rclone: Math.max(1, ROUNDS - 1), aws: 1 } });

  // Where the per-request time goes: the AWS SDK's GetObject against our client (no disk).
  let clientOverhead: unknown;
  t = Date.now();
  try {
    clientOverhead = JSON.parse(execFileSync(process.execPath, [path.join(__dirname, 'client-overhead.js'), MEM, 'bench', 'data/', '32', '1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  } catch (err) {
    clientOverhead = { error: (err as Error).message };
  }
  log(`client overhead: ${JSON.stringify(clientOverhead)}`);

  const results = { date: new Date().toISOString(), machine: { ...machine, loadAvgAfter: os.loadavg().map((x) => +x.toFixed(2)) }, rounds: ROUNDS, cases, concurrencySweepMs: sweep, shards, shardInFlight: SHARD_IN_FLIGHT, clientOverhead, benchSeconds: Math.round((Date.now() - started) / 1000) };
  fs.mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'bench', 'results', 's3-sync.json'), JSON.stringify(results, null, 2) + '\n');
  writeMarkdown(results);
  fs.rmSync(WORK, { recursive: true, force: true });
}

const s = (ms: number) => (ms / 1000).toFixed(2) + ' s';
const mb = (kb?: number) => (kb ? `${Math.round(kb / 1024)} MB` : '');
const ratio = (a: number, b: number) => (a / b).toFixed(2) + '×';
const n = (x: number) => x.toLocaleString('en');

/** The goals of issue 12, each row a ratio from the same interleaved rounds. */
function goalRows(r: any): string[][] {
  const c = r.cases;
  const med = (cs: CaseResult, tool: ToolName, k: 'coldMs' | 'noopMs') => median(cs.tools[tool]![k]);
  const row = (what: string, cs: CaseResult, k: 'coldMs' | 'noopMs', goal: number) => {
    const q = med(cs, 'ours', k) / med(cs, 'rclone', k);
    return [what, s(med(cs, 'ours', k)), s(med(cs, 'rclone', k)), ratio(med(cs, 'ours', k), med(cs, 'rclone', k)), `≤ ${goal.toFixed(2)}×`, q <= goal ? 'met' : 'not met'];
  };
  // The same no-op planned in full (its memo removed first), against the same rclone rounds.
  const full = (what: string, cs: CaseResult, goal: number) => {
    const ms = median(cs.fullPlanMs ?? []);
    const q = ms / med(cs, 'rclone', 'noopMs');
    return [`${what}, planned in full`, s(ms), s(med(cs, 'rclone', 'noopMs')), ratio(ms, med(cs, 'rclone', 'noopMs')), `≤ ${goal.toFixed(2)}×`, q <= goal ? 'met' : 'not met'];
  };
  const reused = (cs: CaseResult) => ` (plan reused in ${cs.reusedRounds ?? 0} of ${cs.tools.ours!.noopMs.length} rounds)`;
  const rows = [
    row(`cold, ${n(c.loopback.objects)} × 4 KiB, loopback`, c.loopback, 'coldMs', 0.7),
    row(`no-op, ${n(c.loopback.objects)}, loopback${reused(c.loopback)}`, c.loopback, 'noopMs', 1),
    full(`no-op, ${n(c.loopback.objects)}, loopback`, c.loopback, 1),
    row(`cold, ${n(c.far.objects)} × 4 KiB, each request ${c.far.latencyMs} ms away`, c.far, 'coldMs', 0.7),
    row(`no-op, ${n(c.far.objects)}, ${c.far.latencyMs} ms away${reused(c.far)}`, c.far, 'noopMs', 1),
    full(`no-op, ${n(c.far.objects)}, ${c.far.latencyMs} ms away`, c.far, 1),
    row(`no-op, ${n(c.big.objects)} × 1 KiB${reused(c.big)}`, c.big, 'noopMs', 0.8),
    full(`no-op, ${n(c.big.objects)} × 1 KiB`, c.big, 0.8),
  ];
  const pv = median(c.big.previewMs);
  rows.push([`preview, ${n(c.big.objects)} keys`, s(pv), '', '', '≤ 1.5 s', pv <= 1500 ? 'met' : 'not met']);
  const rss = c.big.tools.ours.coldRssKb;
  rows.push([`peak RSS of the cold sync, ${n(c.big.objects)} × 1 KiB`, mb(rss), mb(c.big.tools.rclone.coldRssKb), '', '≤ 250 MB', rss <= 250 * 1024 ? 'met' : 'not met']);
  if (c.million) {
    const m = c.million;
    const noopOurs = median(m.tools.ours.noopMs);
    const noopRc = median(m.tools.rclone.noopMs);
    const gb = 1024 * 1024;
    rows.push([`preview, ${n(m.objects)} keys (peak RSS)`, `${s(median(m.previewMs))} (${mb(m.previewRssKb)})`, '', '', '≤ 1 GB', m.previewRssKb <= gb ? 'met' : 'not met']);
    rows.push([`no-op, ${n(m.objects)} keys (peak RSS)${reused(m)}`, `${s(noopOurs)} (${mb(m.tools.ours.noopRssKb)})`, `${s(noopRc)} (${mb(m.tools.rclone.noopRssKb)})`, ratio(noopOurs, noopRc), '≤ 1.00×, ≤ 1 GB', noopOurs <= noopRc && m.tools.ours.noopRssKb <= gb ? 'met' : 'not met']);
    const fullMs = median(m.fullPlanMs ?? []);
    rows.push([`no-op, ${n(m.objects)} keys, planned in full (peak RSS)`, `${s(fullMs)} (${mb(m.fullPlanRssKb)})`, `${s(noopRc)} (${mb(m.tools.rclone.noopRssKb)})`, ratio(fullMs, noopRc), '≤ 1.00×, ≤ 1 GB', fullMs <= noopRc && (m.fullPlanRssKb ?? 0) <= gb ? 'met' : 'not met']);
  }
  return rows;
}

/** Every tool in every case: medians, peak RSS, ratios to ours. */
function toolRows(r: any): string[][] {
  const rows: string[][] = [];
  const label: Record<string, string> = { loopback: 'in-memory, loopback', far: `in-memory, ${r.cases.far.latencyMs} ms away`, big: 'in-memory, loopback', million: 'in-memory, loopback', rgw: 'Ceph RGW, loopback' };
  for (const [name, cs] of Object.entries(r.cases) as [string, CaseResult][]) {
    const size = name === 'big' ? '1 KiB' : name === 'million' ? '256 B' : '4 KiB';
    for (const k of ['coldMs', 'noopMs'] as const) {
      const cell = (tool: ToolName) => {
        const x = cs.tools[tool];
        if (!x || !x[k].length) return '';
        const ms = median(x[k]);
        const rss = k === 'coldMs' ? x.coldRssKb : x.noopRssKb;
        const vs = tool === 'ours' ? '' : `, ours ${ratio(median(cs.tools.ours![k]), ms)}`;
        return `${s(ms)} (${mb(rss)}${vs})`;
      };
      rows.push([`${k === 'coldMs' ? 'cold' : 'no-op'}, ${n(cs.objects)} × ${size}, ${label[name]}`, cell('ours'), cell('rclone'), cell('rcloneDefault'), cell('aws'), cs.loadAvg.join('/')]);
    }
  }
  return rows;
}

function writeMarkdown(r: any): void {
  const rows: string[] = [];
  const table = (head: string[], body: string[][]) => {
    rows.push(`| ${head.join(' | ')} |`, `| ${head.map((h, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
    for (const b of body) rows.push(`| ${b.join(' | ')} |`);
    rows.push('');
  };
  rows.push(`Measured ${r.date.slice(0, 16).replace('T', ' ')} UTC by \`make bench\` (${r.benchSeconds} s). Machine: ${r.machine.cpus} CPUs (${r.machine.cpuModel}), ${r.machine.memGiB} GiB RAM, load average ${r.machine.loadAvgBefore.join('/')} before and ${r.machine.loadAvgAfter.join('/')} after. Node ${r.machine.node}; ${r.machine.rclone}; ${r.machine.aws}; ${r.machine.ceph.replace(/\(.*?\)/, '').trim()}. Files land in ${r.machine.filesLandIn.startsWith('/dev/shm') ? 'tmpfs (/dev/shm)' : r.machine.filesLandIn}. Medians of ${r.rounds} interleaved rounds (rclone at its defaults and aws s3 sync: 1 round; cold copies of 100,000 and 1,000,000 keys: 1 each). In every no-op round ours runs twice: as a scheduled re-sync would (the first no-op after a sync plans in full, the next ones reuse its plan: \`.dsp/noop.json\`), then with that memo removed ("planned in full": the cost of the first re-sync after a change).`);
  rows.push('');
  table(['case', 'ours', 'rclone --transfers 64 --checkers 64 --size-only', 'ours / rclone', 'goal', 'verdict'], goalRows(r));
  rows.push('All tools (median time, peak RSS, and ours as a ratio of each):');
  rows.push('');
  table(['case', 'ours', 'rclone tuned', 'rclone defaults', 'aws s3 sync', 'load average at the start'], toolRows(r));
  const sw = r.concurrencySweepMs;
  const fmt = (o: [string, number][]) => o.map(([c, ms]) => `${c} ${s(ms)}`).join(', ');
  rows.push(`Transfers in flight, ours, one cold run each: loopback ${fmt(sw.loopback)}; ${r.cases.far.latencyMs} ms away ${fmt(sw.far)}.`);
  rows.push('');
  rows.push(`Sharded runs on this machine (${n(r.cases.far.objects)} × 4 KiB, every request ${r.cases.far.latencyMs} ms away, ${r.shardInFlight} transfers in flight per shard, all shards at once, then finalize): ` + r.shards.map((x: { shards: number; ms: number; finalizeMs: number }) => `${x.shards} shard${x.shards > 1 ? 's' : ''} ${s(x.ms)} (${ratio(r.shards[0].ms, x.ms)} faster, finalize ${s(x.finalizeMs)})`).join('; ') + '.');
  const co = r.clientOverhead;
  if (co && !co.error) rows.push(`\nClient cost per request (${n(co.objects)} GETs from the in-memory endpoint, ${co.inFlight} in flight, bodies read and dropped, no disk): AWS SDK v3 \`GetObjectCommand\` ${s(co.getSdkMs)}, our SigV4 client ${s(co.getOwnMs)} (${ratio(co.getOwnMs, co.getSdkMs)}); full listing: SDK ${s(co.listSdkMs)}, ours ${s(co.listOwnMs)}.`);
  const md = path.join(ROOT, 'BENCHMARKS.md');
  const begin = '<!-- s3-sync results: begin (written by make bench) -->';
  const end = '<!-- s3-sync results: end -->';
  let text = fs.existsSync(md) ? fs.readFileSync(md, 'utf8') : '# Benchmarks\n\n## S3 sync\n\n';
  const block = `${begin}\n${rows.join('\n')}\n${end}`;
  if (text.includes(begin) && text.includes(end)) text = text.slice(0, text.indexOf(begin)) + block + text.slice(text.indexOf(end) + end.length);
  else if (text.includes('## S3 sync')) {
    const at = text.indexOf('\n', text.indexOf('## S3 sync')) + 1;
    text = text.slice(0, at) + '\n' + block + '\n' + text.slice(at);
  } else text += `\n## S3 sync\n\n${block}\n`;
  fs.writeFileSync(md, text);
  process.stdout.write(rows.join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
  fs.rmSync(WORK, { recursive: true, force: true });
  process.exit(1);
});
