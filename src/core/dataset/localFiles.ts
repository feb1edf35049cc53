// What the dataset folder holds, for the planner: a sample the state calls unchanged is fetched
// again when its file is gone. One readdir per folder instead of one stat per file, so a no-op
// sync of 10,000 files reads a handful of folders.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface LocalFiles {
  /** Whether the dataset holds a file at `rel` (a '/'-separated path relative to the dataset). */
  has(rel: string): boolean;
}

export function localFiles(datasetDir: string): LocalFiles {
  const listed = new Map<string, Set<string>>();
  return {
    has(rel: string): boolean {
      const slash = rel.lastIndexOf('/');
      const dir = slash < 0 ? '' : rel.slice(0, slash);
      let names = listed.get(dir);
      if (!names) {
        try {
          names = new Set(fs.readdirSync(path.join(datasetDir, ...dir.split('/'))));
        } catch {
          names = new Set();
        }
        listed.set(dir, names);
      }
      return names.has(rel.slice(slash + 1));
    },
  };
}
