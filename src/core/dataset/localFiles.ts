// What the dataset folder holds, for the planner: a sample the state calls unchanged is fetched
// again when its file is gone. Nothing is stat'ed per file by default: each folder's modification
// time is recorded after a sync (.dsp/folders.json), and only a folder whose time has moved since
// (a file deleted, added or renamed in it) is read again, with one readdir. So a no-op sync of a
// million files makes one stat per folder. `verify` (--verify-local) stats every file the state
// vouches for and compares its size, which also catches a file rewritten in place.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { metaDir, type SyncState } from './state';
import { writeFileAtomic } from '../util/files';

export interface LocalFiles {
  /** Whether the dataset holds the file at `rel` (a '/'-separated path relative to the dataset), of `size` bytes when verifying. */
  has(rel: string, size?: number): boolean;
  /** Folders whose recorded time had moved: the record is rewritten after the run. */
  readonly moved: number;
}

const FOLDERS_FILE = 'folders.json';
const folderOf = (rel: string) => rel.slice(0, Math.max(0, rel.lastIndexOf('/')));
const abs = (datasetDir: string, dir: string) => path.join(datasetDir, ...dir.split('/'));

function mtimeOf(p: string): string | undefined {
  try {
    return String(fs.statSync(p, { bigint: true }).mtimeNs);
  } catch {
    return undefined;
  }
}

function recorded(datasetDir: string): Record<string, string> {
  try {
    const r = JSON.parse(fs.readFileSync(path.join(metaDir(datasetDir), FOLDERS_FILE), 'utf8')) as unknown;
    return r && typeof r === 'object' && !Array.isArray(r) ? (r as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export function localFiles(datasetDir: string, opts: { verify?: boolean } = {}): LocalFiles {
  if (opts.verify) {
    return {
      moved: 0,
      has(rel: string, size?: number): boolean {
        try {
          const st = fs.statSync(abs(datasetDir, rel));
          return st.isFile() && (size === undefined || st.size === size);
        } catch {
          return false;
        }
      },
    };
  }
  const times = recorded(datasetDir);
  /** Per folder: trusted (its time is the recorded one), or the names it holds. */
  const seen = new Map<string, true | Set<string>>();
  const lf = {
    moved: 0,
    has(rel: string): boolean {
      const dir = folderOf(rel);
      let names = seen.get(dir);
      if (names === undefined) {
        const now = mtimeOf(abs(datasetDir, dir));
        if (now !== undefined && now === times[dir]) names = true;
        else {
          if (times[dir] !== undefined) lf.moved++;
          try {
            names = new Set(fs.readdirSync(abs(datasetDir, dir)));
          } catch {
            names = new Set();
          }
        }
        seen.set(dir, names);
      }
      return names === true || names.has(rel.slice(rel.lastIndexOf('/') + 1));
    },
  };
  return lf;
}

/** Records the modification time of every folder that holds a synced file (after the run's last write). */
export function recordFolders(datasetDir: string, state: SyncState): void {
  const dirs = new Set<string>();
  for (const e of state.all()) if (e.status === 'synced' && e.path) dirs.add(folderOf(e.path));
  const out: Record<string, string> = {};
  for (const d of dirs) {
    const t = mtimeOf(abs(datasetDir, d));
    if (t !== undefined) out[d] = t;
  }
  writeFileAtomic(path.join(metaDir(datasetDir), FOLDERS_FILE), JSON.stringify(out));
}

/** Whether the folder record is missing (a dataset synced before it existed). */
export function foldersRecorded(datasetDir: string): boolean {
  return fs.existsSync(path.join(metaDir(datasetDir), FOLDERS_FILE));
}

/**
 * The folder record's text when every folder it names still has its recorded time (nothing was
 * added, deleted or renamed in the dataset since), else undefined: the no-op memo's local input.
 */
export function foldersAsRecorded(datasetDir: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(metaDir(datasetDir), FOLDERS_FILE), 'utf8');
  } catch {
    return undefined;
  }
  let times: unknown;
  try {
    times = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!times || typeof times !== 'object' || Array.isArray(times)) return undefined;
  for (const [dir, t] of Object.entries(times as Record<string, string>)) if (mtimeOf(abs(datasetDir, dir)) !== t) return undefined;
  return text;
}
