// The checklist matches what the consumers read: a truncated or undecodable image fails it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { checkDownloaded, readersWarning } from '../../src/core/dataset/checklist';
import { tempDir } from './helpers';

async function noise(format: 'png' | 'jpeg'): Promise<Buffer> {
  const img = sharp({ create: { width: 48, height: 48, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } });
  return format === 'png' ? img.png().toBuffer() : img.jpeg().toBuffer();
}

describe('checklist: decoded as the consumers decode', () => {
  const dir = tempDir();
  const put = (name: string, data: Buffer) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, data);
    return f;
  };

  it('a whole PNG and JPEG pass', async () => {
    for (const [name, data] of [['ok.png', await noise('png')], ['ok.jpg', await noise('jpeg')]] as const) {
      assert.equal(await checkDownloaded(name, put(name, data), data.length), undefined, name);
    }
  });

  it('a truncated PNG or JPEG fails (torchvision would raise "image file is truncated")', async () => {
    for (const [name, data] of [['t.png', await noise('png')], ['t.jpg', await noise('jpeg')]] as const) {
      const cut = data.subarray(0, Math.floor(data.length * 0.6));
      assert.match((await checkDownloaded(name, put(name, cut), cut.length)) ?? '', /truncated|decode/, name);
    }
  });

  it('a PNG with a corrupt body but a valid end marker fails on decoding', async () => {
    const data = Buffer.from(await noise('png'));
    data.fill(0, 100, 400);
    assert.match((await checkDownloaded('c.png', put('c.png', data), data.length)) ?? '', /does not decode/);
  });

  it('says which targets do not read a type', () => {
    assert.match(readersWarning('gif') ?? '', /torchvision/);
    assert.equal(readersWarning('jpg'), undefined);
  });
});
