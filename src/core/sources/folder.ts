// folder-to-project: a local or mounted folder. Symlinks that lead outside it are not followed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FolderBlock } from '../pipeline/model';
import type { Source, SourceErrorKind, SourceExplanation, SourceObject, VerifyResult } from '../types';
import type { SourceContext } from './index';
import { decodeName } from '../util/names';
import { errorMessage } from '../util/errors';
import { collectSampleFiles, errorKind } from './common';

/** File-system error codes -> the kind of failure. */
const FS_KINDS: Record<string, SourceErrorKind> = {
  ENOENT: 'not-found',
  EACCES: 'denied',
  EPERM: 'denied',
  ENOTDIR: 'invalid',
  EISDIR: 'invalid',
  ELOOP: 'invalid',
  ENAMETOOLONG: 'invalid',
  ETIMEDOUT: 'network',
  EHOSTDOWN: 'network',
  ESTALE: 'network',
};

/** folder-to-project: the folder, relative to the pipeline file; the dataset is never listed as a source. */
export async function createFolderSource(block: FolderBlock, ctx: SourceContext): Promise<Source> {
  return new FolderSource(path.resolve(ctx.baseDir, block.path), [ctx.datasetDir]);
}

interface WalkDir {
  abs: Buffer;
  key: string;
  rel: string;
  escaped: boolean;
}

/** What a listing walk shares: the folders seen, the ones left out, and the root's bounds. */
interface Walk {
  excluded: Set<string>;
  visited: Set<string>;
  inside: (p: string) => boolean;
}

export class FolderSource implements Source {
  readonly kind = 'folder';
  readonly id: string;
  readonly defaultConcurrency = 16;
  private readonly root: string;

  /** `exclude`: absolute folders never walked (the dataset itself when it sits inside the source). */
  constructor(root: string, private readonly exclude: string[] = []) {
    this.root = path.resolve(root);
    this.id = `folder:${this.root}`;
  }

  /** Keys whose names are not UTF-8: the bytes to open them by. */
  private readonly rawPaths = new Map<string, Buffer>();

  async *list(signal?: AbortSignal): AsyncIterable<SourceObject> {
    let realRoot: string;
    try {
      realRoot = await fs.promises.realpath(this.root);
    } catch (err) {
      throw new Error(`Folder ${this.root} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Check the step's path.`);
    }
    const walk: Walk = { excluded: new Set<string>(), visited: new Set<string>([realRoot]), inside: (p) => p === realRoot || p.startsWith(realRoot + path.sep) };
    for (const x of this.exclude) {
      try {
        walk.excluded.add(await fs.promises.realpath(x));
      } catch {
        /* not there yet */
      }
    }
    // Paths as bytes, so that names that are not UTF-8 are found and opened as they are.
    const stack: WalkDir[] = [{ abs: Buffer.from(this.root), key: '', rel: '', escaped: false }];
    while (stack.length) {
      signal?.throwIfAborted();
      const dir = stack.pop()!;
      let dirents: fs.Dirent<Buffer>[];
      try {
        dirents = await fs.promises.readdir(dir.abs, { withFileTypes: true, encoding: 'buffer' });
      } catch (err) {
        if (dir.key) yield { key: dir.key, rel: dir.rel, size: 0, version: 'unreadable', unreadable: `folder cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): its files are not listed` };
        continue;
      }
      dirents.sort((a, b) => Buffer.compare(b.name, a.name)); // popped in ascending order
      const files: SourceObject[] = [];
      for (const d of dirents) {
        const found = await this.visit(d, dir, walk);
        if (found && 'abs' in found) stack.push(found);
        else if (found) files.push(found);
      }
      files.reverse();
      for (const f of files) yield f;
    }
  }

  /** Where a symbolic link leads, or why it is not followed. */
  private async follow(abs: Buffer, walk: Walk): Promise<{ real: Buffer; isDir: boolean; isFile: boolean } | string> {
    let real: Buffer;
    try {
      real = await fs.promises.realpath(abs, { encoding: 'buffer' });
    } catch {
      return 'broken symbolic link: its target does not exist';
    }
    if (!walk.inside(real.toString())) return 'symbolic link leading outside the source folder: not followed';
    const st = await fs.promises.stat(real).catch(() => undefined);
    if (!st) return 'symbolic link whose target cannot be read';
    if (!st.isDirectory() && !st.isFile()) return `symbolic link to a ${kindOf(st)}: not a file`;
    return { real, isDir: st.isDirectory(), isFile: st.isFile() };
  }

  /** One folder entry: a folder to walk, a file (or an entry that cannot be imported, with why), or nothing. */
  private async visit(d: fs.Dirent<Buffer>, dir: WalkDir, walk: Walk): Promise<WalkDir | SourceObject | undefined> {
    const name = decodeName(d.name);
    const abs = Buffer.concat([dir.abs, Buffer.from(path.sep), d.name]);
    const key = dir.key ? `${dir.key}/${name.key}` : name.key;
    const rel = dir.rel ? `${dir.rel}/${name.rel}` : name.rel;
    const escaped = dir.escaped || name.escaped;
    const entry = (unreadable: string): SourceObject => ({ key, rel, size: 0, version: 'unreadable', unreadable });
    let target: { real: Buffer; isDir: boolean; isFile: boolean } = { real: abs, isDir: d.isDirectory(), isFile: d.isFile() };
    if (d.isSymbolicLink()) {
      const followed = await this.follow(abs, walk);
      if (typeof followed === 'string') return entry(followed);
      target = followed;
    }
    if (target.isDir) {
      const realDir = d.isSymbolicLink() ? target.real.toString() : await fs.promises.realpath(abs, { encoding: 'buffer' }).then((b) => b.toString(), () => abs.toString());
      if (walk.excluded.has(realDir)) return undefined; // the dataset itself, inside the source
      if (walk.visited.has(realDir)) return entry('folder already listed through another path (a symbolic link loop or a second link): listed once');
      walk.visited.add(realDir);
      return { abs, key, rel, escaped };
    }
    if (!target.isFile) {
      const st = await fs.promises.lstat(abs).catch(() => undefined);
      return entry(`${st ? kindOf(st) : 'special file'}: not a regular file, not imported`);
    }
    const st = await fs.promises.stat(target.real).catch(() => undefined);
    if (!st) return entry('file cannot be read');
    if (escaped) this.rawPaths.set(key, target.real);
    return {
      key,
      rel,
      size: st.size,
      version: `${st.size}-${Math.trunc(st.mtimeMs)}`,
      lastModified: st.mtime.toISOString(),
      note: escaped ? `the name is not valid UTF-8: imported as ${rel.slice(rel.lastIndexOf('/') + 1)} (each byte that is not UTF-8 written as %XX)` : undefined,
    };
  }

  async open(obj: SourceObject, signal?: AbortSignal): Promise<NodeJS.ReadableStream> {
    const abs = this.rawPaths.get(obj.key) ?? path.join(this.root, ...obj.key.split('/'));
    const real = (await fs.promises.realpath(abs, { encoding: 'buffer' })).toString();
    const realRoot = await fs.promises.realpath(this.root);
    if (!(real === realRoot || real.startsWith(realRoot + path.sep))) throw new Error(`${obj.rel} leads outside the source folder; not read.`);
    return fs.createReadStream(this.rawPaths.has(obj.key) ? abs : real, { signal });
  }

  async verify(signal?: AbortSignal): Promise<VerifyResult> {
    try {
      const st = await fs.promises.stat(this.root);
      if (!st.isDirectory()) return { ok: false, detail: `${this.root} is a file, not a folder. Point the step's path at a folder.`, code: 'ENOTDIR', kind: 'invalid', sampleFiles: [] };
      await fs.promises.access(this.root, fs.constants.R_OK | fs.constants.X_OK);
    } catch (err) {
      const e = this.explain(err);
      return { ok: false, code: (err as NodeJS.ErrnoException).code, detail: e.detail, kind: e.kind, sampleFiles: [] };
    }
    const sampleFiles = await collectSampleFiles(this.list(signal), (o) => o.rel, (o) => o.size);
    return { ok: true, detail: sampleFiles.length ? `Folder ${this.root} is readable.` : `Folder ${this.root} is readable but holds no files.`, credentialSource: 'local file system', sampleFiles };
  }

  /** A failure -> what went wrong and what to do, with the file system's code (ENOENT, EACCES, ENOTDIR, ...). */
  explain(err: unknown): SourceExplanation {
    const c = (err as NodeJS.ErrnoException)?.code;
    const code = typeof c === 'string' && c ? c : err instanceof Error ? err.name : 'Error';
    const kind = FS_KINDS[code] ?? errorKind(err, code);
    switch (code) {
      case 'ENOENT':
        return { code, kind, detail: `Folder ${this.root} does not exist. Fix the step's path (relative paths start at the pipeline file's folder).` };
      case 'ENOTDIR':
        return { code, kind, detail: `${this.root} is a file, not a folder (or a part of its path is a file). Point the step's path at a folder.` };
      case 'EACCES':
      case 'EPERM':
        return { code, kind, detail: `Folder ${this.root} cannot be read (${code}). Check its permissions.` };
      default:
        return { code, kind, detail: c ? `Folder ${this.root} cannot be read (${code}). Check its permissions.` : `Reading folder ${this.root} failed: ${errorMessage(err)}` };
    }
  }
}

function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'named pipe (FIFO)';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  return 'special file';
}
