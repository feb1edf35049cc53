// Writing a file so that a reader (or a crash) sees the old content or the new, never a part.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Writes `data` to a temporary name beside `file` (its folder made if missing), then renames it into place. */
export function writeFileAtomic(file: string, data: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}
