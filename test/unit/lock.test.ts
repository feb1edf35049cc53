import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const LOCK_JS = path.resolve(__dirname, '../../src/core/dataset/lock.js');
const CHILD = `
const fs = require('fs');
const { acquireLock } = require(${JSON.stringify(LOCK_JS)});
const [ds, log, go] = process.argv.slice(1);
while (Date.now() < Number(go)) {}
try {
  const release = acquireLock(ds, 'p');
  fs.appendFileSync(log, 'A ' + process.pid + '\\n');
  const until = Date.now() + 40; while (Date.now() < until) {}
  fs.appendFileSync(log, 'R ' + process.pid + '\\n');
  release();
  process.stdout.write('held');
} catch (e) {
  process.stdout.write(e.name + ': ' + e.message);
}
`;

function run(ds: string, log: string, go: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['-e', CHILD, ds, log, String(go)]);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('error', reject);
    p.on('close', () => resolve(out));
  });
}

describe('dataset lock (separate processes)', function () {
  this.timeout(120_000);
  it('never has two holders at once', async () => {
    let trials = 0;
    let doubles = 0;
    const modes = ['none', 'stale', 'empty-live'] as const;
    for (let t = 0; t < 40; t++) {
      const mode = modes[t % 3];
      const ds = fs.mkdtempSync(path.join(os.tmpdir(), 'lock-'));
      const meta = path.join(ds, '.dsp');
      fs.mkdirSync(meta, { recursive: true });
      if (mode === 'stale') fs.writeFileSync(path.join(meta, 'lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), since: new Date().toISOString() }));
      if (mode === 'empty-live') fs.writeFileSync(path.join(meta, 'lock'), '');
      const log = path.join(ds, 'log');
      fs.writeFileSync(log, '');
      const go = Date.now() + 300;
      const n = 2 + (t % 2);
      const outs = await Promise.all(Array.from({ length: n }, () => run(ds, log, go)));
      trials++;
      let depth = 0;
      for (const line of fs.readFileSync(log, 'utf8').split('\n').filter(Boolean)) {
        depth += line.startsWith('A') ? 1 : -1;
        if (depth > 1) doubles++;
      }
      for (const o of outs) {
        if (o !== 'held') assert.match(o, /DatasetLockedError: Another run is in progress on this dataset \(pid \d+ on /, o);
      }
      if (mode === 'empty-live') assert.ok(outs.every((o) => o !== 'held'), 'a lock being written by a live process is not taken over');
      else assert.ok(outs.some((o) => o === 'held'), `someone takes the lock (${mode}): ${outs.join(' | ')}`);
      fs.rmSync(ds, { recursive: true, force: true });
    }
    console.log(`lock: ${trials} trials, ${doubles} double holds`);
    assert.equal(doubles, 0);
  });
});
