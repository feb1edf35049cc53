// Which files the editor opens on a page's behalf. Pure (no vscode import), unit-tested.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** Whether `file` is `root` or inside it. */
function isInside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** The real path (symlinks resolved) when the file exists, else the path as given. */
async function realOrResolved(p: string): Promise<string> {
  return fs.realpath(p).catch(() => path.resolve(p));
}

/**
 * Whether the page may open `file`: only inside the pipeline's dataset folder or a workspace folder
 * (the page shows keys and paths from a bucket, which must not name files elsewhere on the machine).
 */
export async function mayOpenFromPreview(file: string, roots: string[]): Promise<boolean> {
  const lexical = path.resolve(file);
  const real = await realOrResolved(lexical);
  for (const root of roots) {
    const r = path.resolve(root);
    if (isInside(r, lexical) && isInside(await realOrResolved(r), real)) return true;
  }
  return false;
}
