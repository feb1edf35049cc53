// Small real images for the demo and the tests: a PNG encoder and a baseline JPEG encoder
// (flat 8x8 blocks, so each block is a DC value and an end-of-block code).
import { deflateSync } from 'node:zlib';
import { crc32 } from '../core/util/zip';

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** An RGB PNG; `pixel(x, y)` returns [r, g, b]. */
export function makePng(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  let o = 0;
  for (let y = 0; y < height; y++) {
    raw[o++] = 0;
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      raw[o++] = r;
      raw[o++] = g;
      raw[o++] = b;
    }
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0))]);
}

// Standard luminance DC table (ITU T.81 K.3): code lengths per category 0..11.
const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
// Standard luminance AC table (only EOB is used, but the decoder wants the whole table).
const AC_BITS = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_VALS = [
  0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
];

function huffCodes(bits: number[], vals: number[]): Map<number, { code: number; len: number }> {
  const out = new Map<number, { code: number; len: number }>();
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < bits[len - 1]; i++) out.set(vals[k++], { code: code++, len });
    code <<= 1;
  }
  return out;
}

class BitWriter {
  private bytes: number[] = [];
  private acc = 0;
  private n = 0;
  write(code: number, len: number): void {
    for (let i = len - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((code >> i) & 1);
      if (++this.n === 8) {
        this.bytes.push(this.acc);
        if (this.acc === 0xff) this.bytes.push(0); // byte stuffing
        this.acc = 0;
        this.n = 0;
      }
    }
  }
  finish(): Buffer {
    if (this.n) this.write((1 << (8 - this.n)) - 1, 8 - this.n);
    return Buffer.from(this.bytes);
  }
}

/** A grayscale baseline JPEG made of flat 8x8 blocks; `shade(bx, by)` gives each block's gray 0..255. */
export function makeJpeg(blocksX: number, blocksY: number, shade: (bx: number, by: number) => number): Buffer {
  const dc = huffCodes(DC_BITS, DC_VALS);
  const ac = huffCodes(AC_BITS, AC_VALS);
  const w = new BitWriter();
  let prev = 0;
  for (let by = 0; by < blocksY; by++) {
    for (let bx = 0; bx < blocksX; bx++) {
      // All quantizers are 1: a flat block of gray g has DC = 8 * (g - 128).
      const value = Math.round(8 * (Math.max(0, Math.min(255, shade(bx, by))) - 128));
      const diff = value - prev;
      prev = value;
      const mag = Math.abs(diff);
      const cat = mag === 0 ? 0 : Math.floor(Math.log2(mag)) + 1;
      const h = dc.get(cat)!;
      w.write(h.code, h.len);
      if (cat) w.write(diff > 0 ? diff : diff + (1 << cat) - 1, cat);
      const eob = ac.get(0)!;
      w.write(eob.code, eob.len);
    }
  }
  const scan = w.finish();
  const seg = (marker: number, body: Buffer) => {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(marker, 0);
    h.writeUInt16BE(body.length + 2, 2);
    return Buffer.concat([h, body]);
  };
  const jfif = Buffer.from([0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const dqt = Buffer.concat([Buffer.from([0]), Buffer.alloc(64, 1)]);
  const sof = Buffer.alloc(9);
  sof[0] = 8;
  sof.writeUInt16BE(blocksY * 8, 1);
  sof.writeUInt16BE(blocksX * 8, 3);
  sof[5] = 1;
  sof[6] = 1;
  sof[7] = 0x11;
  sof[8] = 0;
  const dht = Buffer.concat([Buffer.from([0x00]), Buffer.from(DC_BITS), Buffer.from(DC_VALS), Buffer.from([0x10]), Buffer.from(AC_BITS), Buffer.from(AC_VALS)]);
  const sos = Buffer.from([1, 1, 0x00, 0, 63, 0]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), seg(0xffe0, jfif), seg(0xffdb, dqt), seg(0xffc0, sof), seg(0xffc4, dht), seg(0xffda, sos), scan, Buffer.from([0xff, 0xd9])]);
}

/** A little picture per class, varied by seed so no two samples are identical. */
export function demoImage(kind: 'car' | 'unknown', seed: number, format: 'png' | 'jpg'): Buffer {
  const rnd = (n: number) => ((seed * 2654435761 + n * 40503) >>> 0) % 256;
  if (format === 'png') {
    return makePng(24, 16, (x, y) => {
      const body = kind === 'car' && y >= 6 && y <= 11 && x >= 3 && x <= 20;
      const wheel = kind === 'car' && y >= 11 && (Math.hypot(x - 7, y - 12) < 2.2 || Math.hypot(x - 17, y - 12) < 2.2);
      if (wheel) return [20, 20, 20];
      if (body) return [200, (40 + seed * 13) % 256, 40];
      return [rnd(x + 1) >> 2, 120 + (rnd(y + 7) >> 3), 200];
    });
  }
  return makeJpeg(6, 4, (bx, by) => {
    if (by === 3 && bx === 0) return seed % 256; // a per-sample mark, so no two samples are identical
    if (by === 3 && bx === 1) return (seed >> 8) % 256;
    return kind === 'car' ? (by >= 1 && by <= 2 && bx >= 1 && bx <= 4 ? 60 : 200 - (seed % 40)) : (rnd(bx * 7 + by) + seed) % 256;
  });
}
