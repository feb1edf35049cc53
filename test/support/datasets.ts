// Two datasets compared as a user (and a trainer) sees them: every sample file with its bytes,
// info.labels and labels.txt, and the sync state (without the time each entry was written).
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Every file under `dir` but .dsp/, as relative path -> MD5 of its bytes. */
export function fileHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const sub = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (sub !== '.dsp') walk(sub);
      } else out[sub] = createHash('md5').update(fs.readFileSync(path.join(dir, sub))).digest('hex');
    }
  };
  walk('');
  return out;
}

/** The state's entries without syncedAt, sorted: what two runs of the same data must agree on. */
export function stateEntries(datasetDir: string): string[] {
  const lines = fs.readFileSync(path.join(datasetDir, '.dsp', 'state.json'), 'utf8').split('\n').slice(1).filter(Boolean);
  return lines
    .map((l) => {
      const e = JSON.parse(l) as Record<string, unknown>;
      delete e.syncedAt;
      // The source id names the endpoint; two runs of one bucket through different URLs still match.
      e.source = String(e.source).replace(/^s3:[^/]*\/\/[^/]+/, 's3:');
      return JSON.stringify(e, Object.keys(e).sort());
    })
    .sort();
}

/** Asserts that `b` holds the same dataset as `a`: files and bytes, info.labels, labels.txt, state. */
export function assertSameDataset(a: string, b: string, what: string): void {
  assert.deepEqual(fileHashes(b), fileHashes(a), `${what}: the same files with the same bytes (info.labels and labels.txt included)`);
  assert.deepEqual(stateEntries(b), stateEntries(a), `${what}: the same sync state`);
}
