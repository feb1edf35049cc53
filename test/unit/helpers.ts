// Test helpers: temporary folders, pipeline files, dataset snapshots, and waiting for conditions.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function tempDir(prefix = 'dsp-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeFiles(root: string, files: Record<string, string | Buffer>): void {
  for (const [rel, data] of Object.entries(files)) {
    const abs = path.join(root, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, data);
  }
}

export function writePipeline(dir: string, body: object, name = 'test.pipeline.json'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(body, null, 2));
  return file;
}

/** Calls `onFile` with each file's relative path under a folder, skipping the engine's top-level .dsp. */
function walkFiles(root: string, onFile: (rel: string, abs: string) => void): void {
  const walk = (dir: string, rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of entries) {
      if (d.name === '.dsp' && rel === '') continue;
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(path.join(dir, d.name), r);
      else onFile(r, path.join(dir, d.name));
    }
  };
  walk(root, '');
}

/** Every file under a folder (except the engine's .dsp), as relative path -> md5. */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  walkFiles(root, (rel, abs) => (out[rel] = createHash('md5').update(fs.readFileSync(abs)).digest('hex')));
  return out;
}

/** Number of files under a folder (except .dsp), without reading them: cheap enough to poll. */
export function countFiles(root: string): number {
  let n = 0;
  walkFiles(root, () => n++);
  return n;
}

/** Polls until `check` returns a truthy value: the tests' one wait helper, in test/support/waitFor.ts. */
export { waitFor } from '../support/waitFor';
