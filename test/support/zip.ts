// Reads a zip back with yauzl, an independent reader that checks every CRC: what the tests use to
// look inside the archives the engine writes (deployments, zip helpers).
import * as yauzl from 'yauzl';

export interface ZipRead {
  names: string[];
  data: Map<string, Buffer>;
}

/** Reads a zip back with yauzl, an independent reader that checks every CRC. */
export function readZip(file: string): Promise<ZipRead> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }, (err, zip) => {
      if (err) return reject(err);
      const out: ZipRead = { names: [], data: new Map() };
      zip.on('error', reject);
      zip.on('end', () => resolve(out));
      zip.on('entry', (e: yauzl.Entry) => {
        out.names.push(e.fileName);
        zip.openReadStream(e, (err2, s) => {
          if (err2) return reject(err2);
          const chunks: Buffer[] = [];
          s.on('data', (c: Buffer) => chunks.push(c));
          s.on('error', reject);
          s.on('end', () => {
            out.data.set(e.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}
