// Writes the demo workspace: the two source layouts of Edge Impulse's Data sources page, made of
// small real images, and a pipeline for each. Existing files are left alone, so a second
// `make demo` finds nothing new to sync.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { demoImage } from './images';

function write(file: string, data: Buffer | string): void {
  if (fs.existsSync(file)) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

function sample(dir: string, kind: 'car' | 'unknown', n: number): void {
  const format = n % 3 === 0 ? 'png' : 'jpg';
  const name = kind === 'car' ? `cars.${String(1700 + n).padStart(5, '0')}.${format}` : `unknown.test_${2500 + n}.${format}`;
  write(path.join(dir, name), demoImage(kind, n + (kind === 'car' ? 0 : 1000), format));
}

export function generateDemo(root: string, perClass = 40): string[] {
  const byFolder = path.join(root, 'sources', 'infer-from-folder');
  const split = path.join(root, 'sources', 'train-test');
  for (let i = 0; i < perClass; i++) {
    sample(path.join(byFolder, 'cars'), 'car', i);
    sample(path.join(byFolder, 'unknown'), 'unknown', i);
    const cat = i % 5 === 0 ? 'testing' : 'training';
    sample(path.join(split, cat, 'cars'), 'car', 500 + i);
    sample(path.join(split, cat, 'unknown'), 'unknown', 500 + i);
  }
  for (let i = 0; i < 6; i++) {
    sample(path.join(byFolder, 'unlabeled'), 'car', 300 + i);
    sample(path.join(split, 'unlabeled'), 'car', 900 + i);
  }
  const pipelines: [string, object][] = [
    [
      'infer-from-folder.pipeline.json',
      {
        name: 'Demo: labels from folder names, 80/20 split',
        dataset: 'datasets/infer-from-folder',
        steps: [
          { name: 'Fetch data from sources/infer-from-folder/', builtinTransformationBlock: { type: 'folder-to-project', path: 'sources/infer-from-folder', category: 'split', labelStrategy: 'infer-from-folder-name' } },
          { name: 'Refresh data explorer', builtinTransformationBlock: { type: 'project-action', refreshDataExplorer: true } },
        ],
      },
    ],
    [
      'train-test.pipeline.json',
      {
        name: 'Demo: training/ and testing/ folders',
        dataset: 'datasets/train-test',
        steps: [
          { name: 'Fetch data from sources/train-test/', builtinTransformationBlock: { type: 'folder-to-project', path: 'sources/train-test', category: 'split', labelStrategy: 'infer-from-folder-name' } },
          { name: 'Refresh data explorer', builtinTransformationBlock: { type: 'project-action', refreshDataExplorer: true } },
        ],
      },
    ],
  ];
  const files: string[] = [];
  for (const [name, body] of pipelines) {
    const file = path.join(root, name);
    write(file, JSON.stringify(body, null, 2) + '\n');
    files.push(file);
  }
  return files;
}

if (require.main === module) {
  const root = path.resolve(process.argv[2] ?? '.demo');
  for (const f of generateDemo(root)) process.stdout.write(f + '\n');
}
