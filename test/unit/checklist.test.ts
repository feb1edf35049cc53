// The checklist matches what the consumers read: a truncated or undecodable image fails it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { checkDownloaded, HEAD_BYTES, readersWarning, type DownloadedBytes } from '../../src/core/dataset/checklist';
import { tempDir } from './helpers';

async function noise(format: 'png' | 'jpeg'): Promise<Buffer> {
  const img = sharp({ create: { width: 48, height: 48, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } });
  return format === 'png' ? img.png().toBuffer() : img.jpeg().toBuffer();
}

describe('checklist: decoded as the consumers decode', () => {
  const dir = tempDir();
  // What the fetch hands the checklist, both ways: the body held in memory (a small file), or
  // only its head and tail with the bytes on disk (a large one, decoded from the file).
  const both = (name: string, data: Buffer): DownloadedBytes[] => {
    const tmp = path.join(dir, name);
    fs.writeFileSync(tmp, data);
    const f = { tmp, size: data.length, head: data.subarray(0, HEAD_BYTES), tail: data.subarray(Math.max(0, data.length - 16)) };
    return [{ ...f, body: data }, f];
  };
  const check = async (name: string, data: Buffer) => {
    const [inMemory, onDisk] = both(name, data);
    const a = await checkDownloaded(name, inMemory);
    const b = await checkDownloaded(name, onDisk);
    assert.equal(b?.replace(/_buffer/g, ''), a?.replace(/_buffer/g, ''), `${name}: the same verdict from memory and from the file`);
    return a;
  };

  it('a whole PNG and JPEG pass', async () => {
    for (const [name, data] of [['ok.png', await noise('png')], ['ok.jpg', await noise('jpeg')]] as const) {
      assert.equal(await check(name, data), undefined, name);
    }
  });

  it('a truncated PNG or JPEG fails (torchvision would raise "image file is truncated")', async () => {
    for (const [name, data] of [['t.png', await noise('png')], ['t.jpg', await noise('jpeg')]] as const) {
      const cut = data.subarray(0, Math.floor(data.length * 0.6));
      assert.match((await check(name, cut)) ?? '', /truncated|decode/, name);
    }
  });

  it('a PNG with a corrupt body but a valid end marker fails on decoding', async () => {
    const data = Buffer.from(await noise('png'));
    data.fill(0, 100, 400);
    assert.match((await check('c.png', data)) ?? '', /does not decode/);
  });

  it('says which targets do not read a type', () => {
    assert.match(readersWarning('gif') ?? '', /torchvision/);
    assert.equal(readersWarning('jpg'), undefined);
  });
});
