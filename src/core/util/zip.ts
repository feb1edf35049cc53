// Zip archives for deployments (model files and manifests), written by yazl: deflate, UTF-8
// names, and zip64 records added by itself when an entry or the archive passes 4 GiB or there are
// more than 65,535 entries.
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import bufferCrc32 from 'buffer-crc32';

/** CRC-32 (IEEE), as zip and PNG use it. */
export function crc32(buf: Buffer): number {
  return bufferCrc32.unsigned(buf);
}

/** An entry from memory (`data`) or streamed from a file on disk (`file`, for big models). */
export type ZipEntry = { name: string; data: Buffer } | { name: string; file: string };

/**
 * Writes `entries` to `file`. The archive is built under a temporary name and renamed into place,
 * so `file` is either absent or complete.
 */
export async function writeZip(file: string, entries: ZipEntry[]): Promise<void> {
  const { ZipFile } = await import('yazl'); // its own bundle: only deployments need it
  const zip = new ZipFile();
  const out = zip.outputStream as Readable;
  // yazl reports a failed read (say, a model file that vanished) on the ZipFile itself.
  zip.on('error', (err: Error) => out.destroy(err));
  for (const e of entries) {
    if ('file' in e) zip.addFile(e.file, e.name);
    else zip.addBuffer(e.data, e.name);
  }
  zip.end();
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await pipeline(out, fs.createWriteStream(tmp));
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
}
