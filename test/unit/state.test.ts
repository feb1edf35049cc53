// The sync state survives a round trip at any size: snapshot lines read in blocks, journal replay,
// and a journal line cut short by a crash.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SyncState, type StateEntry } from '../../src/core/dataset/state';
import { tempDir } from './helpers';

const entry = (i: number): StateEntry => ({
  source: 's3:http://x/b/p/',
  key: `猫/ünïcödé-${i}-${'é'.repeat(i % 7)}.png`,
  version: `v${i}`,
  size: i,
  hash: String(i).padStart(32, '0'),
  path: `training/猫/${i}.png`,
  label: '猫',
  category: 'training',
  status: 'synced',
  syncedAt: '2026-11-25T00:00:00.000Z',
});

describe('sync state', () => {
  it('round-trips 20,000 entries with multi-byte keys across 1 MiB read blocks', () => {
    const dir = tempDir();
    const s = SyncState.load(dir);
    for (let i = 0; i < 20_000; i++) s.set(entry(i));
    s.compact();
    assert.ok(fs.statSync(path.join(dir, '.dsp', 'state.json')).size > 3 * (1 << 20), 'bigger than a few read blocks');
    const back = SyncState.load(dir);
    assert.equal(back.size, 20_000);
    for (const i of [0, 1, 4097, 12_345, 19_999]) assert.deepEqual(back.get('s3:http://x/b/p/', entry(i).key), entry(i));
    assert.equal(back.changed, false);
  });

  it('replays the journal of a killed run and skips a line cut short', () => {
    const dir = tempDir();
    const s = SyncState.load(dir);
    s.set(entry(1));
    s.set(entry(2));
    s.delete(entry(1).source, entry(1).key);
    s.flush();
    fs.appendFileSync(path.join(dir, '.dsp', 'state.journal'), '{"op":"set","e":{"source":"s3:http');
    const back = SyncState.load(dir);
    assert.equal(back.size, 1);
    assert.deepEqual(back.get(entry(2).source, entry(2).key), entry(2));
    // The next run appends after the cut line: its first record must not be swallowed by it.
    back.set(entry(3));
    back.flush();
    const again = SyncState.load(dir);
    assert.deepEqual(again.get(entry(3).source, entry(3).key), entry(3));
    assert.equal(again.size, 2);
  });
});
