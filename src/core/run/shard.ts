// Sharded runs: N processes (a Kubernetes Indexed Job's pods, a CI matrix) each list the same
// prefix and carry out only their share of the plan, into the one shared dataset folder; then
// `finalize` merges their states and runs the actions once. A sample's share is chosen by its
// folded destination path before collision suffixes, so keys that could collide (case, Unicode)
// always land in one shard and the collision rules hold as in a single run. Each shard keeps its
// own lock, journal, temporary folder and result under .dsp/shards/K-of-N/.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { foldPath } from '../dataset/layout';
import { metaDir } from '../dataset/state';
import { UserError } from '../util/errors';

export interface ShardSpec {
  /** 0-based: shard K of N is index K-1. */
  index: number;
  count: number;
}

export const MAX_SHARDS = 1024;

const label = (s: ShardSpec) => `${s.index + 1}/${s.count}`;
export { label as shardLabel };

/** `K/N` with 1 ≤ K ≤ N (shard 1 is the first). */
export function parseShard(text: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const k = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(k) || !Number.isInteger(n) || n < 1 || n > MAX_SHARDS || k < 1 || k > n) {
    throw new UserError(`--shard takes K/N, shard K (1 to N) of N shards (N at most ${MAX_SHARDS}), e.g. --shard 2/4; got "${text}".`, 'bad-shard');
  }
  return { index: k - 1, count: n };
}

/**
 * The shard a process is, from the command line or the environment: --shard K/N; else a
 * Kubernetes Indexed Job's JOB_COMPLETION_INDEX (0-based) with the count from --shards N or
 * DSP_SHARDS. Undefined when not sharded.
 */
export function shardFrom(flags: { shard?: string; shards?: number }, env: NodeJS.ProcessEnv): ShardSpec | undefined {
  if (flags.shard !== undefined) return parseShard(flags.shard);
  const index = env.JOB_COMPLETION_INDEX;
  const count = flags.shards ?? (env.DSP_SHARDS ? Number(env.DSP_SHARDS) : undefined);
  if (index === undefined || index === '') {
    if (flags.shards !== undefined) throw new UserError('--shards N needs the shard index: JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job), or use --shard K/N.', 'bad-shard');
    return undefined;
  }
  if (count === undefined) throw new UserError('JOB_COMPLETION_INDEX is set but not the number of shards: pass --shards N or set DSP_SHARDS.', 'bad-shard');
  const i = Number(index);
  if (!Number.isInteger(i) || !Number.isInteger(count) || count < 1 || count > MAX_SHARDS || i < 0 || i >= count) {
    throw new UserError(`JOB_COMPLETION_INDEX=${index} is not a shard of ${count} (0 to ${count - 1}).`, 'bad-shard');
  }
  return { index: i, count };
}

/** FNV-1a over the UTF-16 code units: stable across processes, machines and versions. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The shard a destination path (before any collision suffix) belongs to. */
export function shardOfPath(basePath: string, count: number): number {
  return count <= 1 ? 0 : fnv1a(foldPath(basePath)) % count;
}

/** Where a shard keeps its lock, journal, temporary files and result. */
export function shardDir(datasetDir: string, s: ShardSpec): string {
  return path.join(metaDir(datasetDir), 'shards', `${s.index + 1}-of-${s.count}`);
}

export const SHARD_RESULT = 'result.json';
export const SHARD_JOURNAL = 'state.journal';

/** The shards whose folders exist, by count: what finalize has to merge. */
export function shardsPresent(datasetDir: string): { count: number; indexes: number[] }[] {
  let names: string[];
  try {
    names = fs.readdirSync(path.join(metaDir(datasetDir), 'shards'));
  } catch {
    return [];
  }
  const byCount = new Map<number, number[]>();
  for (const n of names) {
    const m = /^(\d+)-of-(\d+)$/.exec(n);
    if (!m) continue;
    const [k, c] = [Number(m[1]), Number(m[2])];
    (byCount.get(c) ?? byCount.set(c, []).get(c)!).push(k - 1);
  }
  return [...byCount].map(([count, indexes]) => ({ count, indexes: indexes.sort((a, b) => a - b) }));
}
