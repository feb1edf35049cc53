// folder-to-project: a local or mounted folder. Symlinks that lead outside it are not followed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Source, SourceObject, VerifyResult } from '../types';

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

  async *list(signal?: AbortSignal): AsyncIterable<SourceObject> {
    let realRoot: string;
    try {
      realRoot = await fs.promises.realpath(this.root);
    } catch (err) {
      throw new Error(`Folder ${this.root} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Check the step's path.`);
    }
    const excluded = new Set<string>();
    for (const x of this.exclude) {
      try {
        excluded.add(await fs.promises.realpath(x));
      } catch {
        /* not there yet */
      }
    }
    const inside = (p: string) => p === realRoot || p.startsWith(realRoot + path.sep);
    const visited = new Set<string>([realRoot]);
    const stack: { abs: string; rel: string }[] = [{ abs: this.root, rel: '' }];
    while (stack.length) {
      signal?.throwIfAborted();
      const { abs, rel } = stack.pop()!;
      let dirents: fs.Dirent[];
      try {
        dirents = await fs.promises.readdir(abs, { withFileTypes: true });
      } catch {
        continue; // unreadable subfolder: nothing to list
      }
      dirents.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0)); // popped in ascending order
      const files: SourceObject[] = [];
      for (const d of dirents) {
        const childAbs = path.join(abs, d.name);
        const childRel = rel ? `${rel}/${d.name}` : d.name;
        let isDir = d.isDirectory();
        let isFile = d.isFile();
        let real = childAbs;
        if (d.isSymbolicLink()) {
          try {
            real = await fs.promises.realpath(childAbs);
          } catch {
            continue; // dangling link
          }
          if (!inside(real)) continue; // leads outside the folder: never followed
          const st = await fs.promises.stat(real);
          isDir = st.isDirectory();
          isFile = st.isFile();
        }
        if (isDir) {
          const realDir = d.isSymbolicLink() ? real : await fs.promises.realpath(childAbs).catch(() => childAbs);
          if (visited.has(realDir) || excluded.has(realDir)) continue;
          visited.add(realDir);
          stack.push({ abs: childAbs, rel: childRel });
        } else if (isFile) {
          const st = await fs.promises.stat(real).catch(() => undefined);
          if (!st) continue;
          files.push({ key: childRel, rel: childRel, size: st.size, version: `${st.size}-${Math.trunc(st.mtimeMs)}`, lastModified: st.mtime.toISOString() });
        }
      }
      files.reverse();
      for (const f of files) yield f;
    }
  }

  async open(obj: SourceObject, signal?: AbortSignal): Promise<NodeJS.ReadableStream> {
    const abs = path.join(this.root, ...obj.key.split('/'));
    const real = await fs.promises.realpath(abs);
    const realRoot = await fs.promises.realpath(this.root);
    if (!(real === realRoot || real.startsWith(realRoot + path.sep))) throw new Error(`${obj.key} leads outside the source folder; not read.`);
    return fs.createReadStream(real, { signal });
  }

  async verify(signal?: AbortSignal): Promise<VerifyResult> {
    try {
      const st = await fs.promises.stat(this.root);
      if (!st.isDirectory()) return { ok: false, detail: `${this.root} is a file, not a folder. Point the step's path at a folder.`, code: 'ENOTDIR', sampleFiles: [] };
      await fs.promises.access(this.root, fs.constants.R_OK | fs.constants.X_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { ok: false, code, detail: code === 'ENOENT' ? `Folder ${this.root} does not exist. Fix the step's path (relative paths start at the pipeline file's folder).` : `Folder ${this.root} cannot be read (${code}). Check its permissions.`, sampleFiles: [] };
    }
    const sampleFiles: VerifyResult['sampleFiles'] = [];
    for await (const o of this.list(signal)) {
      const slash = o.rel.lastIndexOf('/');
      sampleFiles.push({ name: o.rel.slice(slash + 1), size: o.size, folder: slash >= 0 ? o.rel.slice(0, slash) : '' });
      if (sampleFiles.length >= 20) break;
    }
    return { ok: true, detail: sampleFiles.length ? `Folder ${this.root} is readable.` : `Folder ${this.root} is readable but holds no files.`, credentialSource: 'local file system', sampleFiles };
  }
}
