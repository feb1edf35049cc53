// The trainer templates (templates/trainer/ in the repository, dist/templates/trainer/ in the
// bundle): the reference PyTorch train.py, its predict.py, and the dependency-free example trainer.
import * as fs from 'node:fs';
import * as path from 'node:path';

let found: string | undefined;

export function templatesDir(): string {
  if (found) return found;
  // dist/templates (bundle), or the repository's templates/ from out/src/core/train or src/core/train.
  for (let dir = __dirname, i = 0; i < 6; i++, dir = path.dirname(dir)) {
    for (const candidate of [path.join(dir, 'templates', 'trainer'), path.join(dir, 'dist', 'templates', 'trainer')]) {
      if (fs.existsSync(path.join(candidate, 'train.py'))) return (found = candidate);
    }
  }
  throw new Error(`The trainer templates are missing from this installation (looked above ${__dirname}). Reinstall the extension or the CLI.`);
}

export function templateFile(name: string): string {
  return path.join(templatesDir(), name);
}
