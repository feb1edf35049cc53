// Edge Impulse's per-sample checklist (newChecklistOK / newChecklistFail): non-empty, a known
// sample type, and for images a header that parses.

const IMAGE = new Set(['jpg', 'jpeg', 'png', 'gif', 'bmp', 'webp']);
const OTHER = new Set(['wav', 'mp3', 'ogg', 'flac', 'm4a', 'mp4', 'avi', 'mov', 'csv', 'json', 'cbor', 'txt', 'npy', 'parquet', 'labels']);

export function extensionOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? fileName.slice(dot + 1).toLowerCase() : '';
}

/** Checks that need no bytes: type and size. Returns the failure reason, or undefined. */
export function checkBeforeDownload(fileName: string, size: number): string | undefined {
  const ext = extensionOf(fileName);
  if (!IMAGE.has(ext) && !OTHER.has(ext)) return ext ? `checklist: unknown file type ".${ext}"` : 'checklist: no file extension, so the sample type is unknown';
  if (size === 0) return 'checklist: empty file';
  return undefined;
}

/** Checks on the first bytes of a downloaded file. */
export function checkContent(fileName: string, head: Buffer, size: number): string | undefined {
  if (size === 0) return 'checklist: empty file';
  const ext = extensionOf(fileName);
  if (!IMAGE.has(ext)) {
    if (ext === 'wav' && !(head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'WAVE')) return 'checklist: not a readable WAV header';
    return undefined;
  }
  const dims = imageSize(head);
  if (!dims) return `checklist: not a readable ${ext.toUpperCase()} image header`;
  if (dims.width === 0 || dims.height === 0) return 'checklist: image has zero width or height';
  return undefined;
}

/** Width/height from an image header (PNG, JPEG, GIF, BMP, WEBP), or undefined when unreadable. */
export function imageSize(b: Buffer): { type: string; width: number; height: number } | undefined {
  if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47 && b.toString('latin1', 12, 16) === 'IHDR') {
    return { type: 'png', width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
  }
  if (b.length >= 10 && b.toString('latin1', 0, 4) === 'GIF8') return { type: 'gif', width: b.readUInt16LE(6), height: b.readUInt16LE(8) };
  if (b.length >= 26 && b.toString('latin1', 0, 2) === 'BM') return { type: 'bmp', width: Math.abs(b.readInt32LE(18)), height: Math.abs(b.readInt32LE(22)) };
  if (b.length >= 30 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') {
    const chunk = b.toString('latin1', 12, 16);
    if (chunk === 'VP8X') return { type: 'webp', width: 1 + b.readUIntLE(24, 3), height: 1 + b.readUIntLE(27, 3) };
    if (chunk === 'VP8 ') return { type: 'webp', width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff };
    if (chunk === 'VP8L') {
      const bits = b.readUInt32LE(21);
      return { type: 'webp', width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
    }
    return undefined;
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) {
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) return undefined;
      const marker = b[i + 1];
      if (marker === 0xff) {
        i++;
        continue;
      }
      const len = b.readUInt16BE(i + 2);
      // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC)
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { type: 'jpeg', height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
      }
      i += 2 + len;
    }
    return undefined;
  }
  return undefined;
}

/** How many leading bytes the content check wants (JPEG frame headers can sit behind EXIF). */
export const HEAD_BYTES = 256 * 1024;

/** Which consumer reads each sample type (torchvision IMG_EXTENSIONS, Keras image_dataset_from_directory, Edge Impulse uploader). */
export const READERS: Record<string, { torchvision: boolean; keras: boolean; edgeImpulse: boolean }> = {
  jpg: { torchvision: true, keras: true, edgeImpulse: true },
  jpeg: { torchvision: true, keras: true, edgeImpulse: true },
  png: { torchvision: true, keras: true, edgeImpulse: true },
  bmp: { torchvision: true, keras: true, edgeImpulse: false },
  gif: { torchvision: false, keras: true, edgeImpulse: false },
  webp: { torchvision: true, keras: false, edgeImpulse: false },
};

/** A warning naming the image targets that skip this type, or undefined. */
export function readersWarning(ext: string): string | undefined {
  const r = READERS[ext.toLowerCase().replace(/^\./, '')];
  if (!r) return undefined;
  const names = { torchvision: "torchvision's ImageFolder", keras: "Keras' image_dataset_from_directory", edgeImpulse: "Edge Impulse's uploader" };
  const skip = Object.entries(r).filter(([, ok]) => !ok).map(([k]) => names[k as keyof typeof names]);
  const read = Object.entries(r).filter(([, ok]) => ok).map(([k]) => names[k as keyof typeof names]);
  return skip.length ? `.${ext.replace(/^\./, '')} is read by ${read.join(' and ') || 'none of the usual trainers'}, not by ${skip.join(' or ')}` : undefined;
}

let sharpMod: Promise<any> | undefined;
let sharpWarned = false;
/** What the fetch kept of a downloaded file: its first bytes, its last 16, and the whole body when small. */
export interface DownloadedBytes {
  /** The temporary file. */
  tmp: string;
  size: number;
  head: Buffer;
  tail: Buffer;
  /** The body, when the fetch held it in memory anyway: decoded from memory instead of the file. */
  body?: Buffer;
}

/** Full check of a downloaded file: header, end marker, and a decode with sharp when it loads.
 * Reads nothing back from disk but what sharp decodes from a large file (the fetch kept the head and tail). */
export async function checkDownloaded(fileName: string, f: DownloadedBytes): Promise<string | undefined> {
  const { head, tail, size } = f;
  const quick = checkContent(fileName, head, size);
  if (quick) return quick;
  const ext = extensionOf(fileName);
  if (!IMAGE.has(ext)) return undefined;
  if (ext === 'png' && !tail.includes(Buffer.from('IEND', 'latin1'))) return 'checklist: truncated PNG (no IEND chunk)';
  if (ext === 'gif' && tail[tail.length - 1] !== 0x3b) return 'checklist: truncated GIF (no trailer)';
  sharpMod ??= import('sharp').then((m) => (m as any).default ?? m).catch(() => undefined);
  const sharp = await sharpMod;
  if (!sharp) {
    if (!sharpWarned) {
      sharpWarned = true;
      process.emitWarning('checklist: sharp could not be loaded, so images are checked by header and end marker only, not decoded');
    }
    // Without a decoder: JPEG's end-of-image marker (checked only here: cameras may append bytes after it).
    if ((ext === 'jpg' || ext === 'jpeg') && !(tail[tail.length - 2] === 0xff && tail[tail.length - 1] === 0xd9)) return 'checklist: truncated JPEG (no end-of-image marker)';
    return undefined;
  }
  try {
    await sharp(f.body ?? f.tmp, { failOn: 'truncated' }).raw().toBuffer();
  } catch (e) {
    return `checklist: image does not decode (${(e as Error).message})`;
  }
  return undefined;
}
