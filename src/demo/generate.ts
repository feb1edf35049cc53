// Writes the demo workspace: the two source layouts of Edge Impulse's Data sources page, made of
// small real images, a pipeline for each, and a training loop (sync, retrain with the example
// trainer that needs nothing installed, keep a version, build a deployment zip). Existing files
// are left alone, so a second `make demo` finds nothing new to sync.
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

const TRAIN_TEST_IMPORT = { name: 'Fetch data from sources/train-test/', builtinTransformationBlock: { type: 'folder-to-project', path: 'sources/train-test', category: 'split', labelStrategy: 'infer-from-folder-name' } };

/** The trainer templates: dist/templates/trainer next to dist/demo.js, else the repository's templates/trainer. */
function trainerTemplates(): string {
  for (let dir = __dirname, i = 0; i < 5; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'templates', 'trainer');
    if (fs.existsSync(path.join(candidate, 'example_train.js'))) return candidate;
  }
  throw new Error(`demo: templates/trainer/example_train.js not found above ${__dirname} (run node esbuild.mjs first)`);
}

/** The training loop: import, retrain with `trainCommand` (none: init-trainer wires one), keep a version, build an int8 zip. */
function trainLoop(name: string, dataset: string, trainCommand?: string): object {
  return {
    name,
    dataset,
    steps: [
      TRAIN_TEST_IMPORT,
      { name: 'Retrain', builtinTransformationBlock: { type: 'project-action', retrainModel: true, ...(trainCommand ? { trainCommand } : {}) } },
      { name: 'Version', builtinTransformationBlock: { type: 'project-action', createVersion: true } },
      { name: 'Deploy', builtinTransformationBlock: { type: 'project-action', buildBinary: 'zip', buildBinaryModelType: 'int8' } },
    ],
  };
}

/** The pipeline for the PyTorch reference trainer (demo.sh wires it with init-trainer when python3 has torch). */
export function demoTorch(root: string): string {
  const file = path.join(root, 'train-loop-torch.pipeline.json');
  write(file, JSON.stringify(trainLoop('Demo: retrain with the PyTorch reference trainer', 'datasets/train-loop-torch'), null, 2) + '\n');
  return file;
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
        steps: [TRAIN_TEST_IMPORT, { name: 'Refresh data explorer', builtinTransformationBlock: { type: 'project-action', refreshDataExplorer: true } }],
      },
    ],
    ['train-loop.pipeline.json', trainLoop('Demo: sync, retrain, version, deployment zip', 'datasets/train-loop', 'node trainer/example_train.js')],
  ];
  write(path.join(root, 'trainer', 'example_train.js'), fs.readFileSync(path.join(trainerTemplates(), 'example_train.js')));
  const files: string[] = [];
  for (const [name, body] of pipelines) {
    const file = path.join(root, name);
    write(file, JSON.stringify(body, null, 2) + '\n');
    files.push(file);
  }
  return files;
}

/** Uploads the folder-name layout to an S3-compatible endpoint and writes a pipeline that imports it. */
export async function demoS3(root: string, endpoint: string, bucket: string): Promise<string> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'; // Node 20 is what these machines run
  const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: process.env.DEMO_S3_SECRET ?? '' } });
  const base = path.join(root, 'sources', 'infer-from-folder');
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      if (d.isDirectory()) walk(path.join(dir, d.name));
      else files.push(path.join(dir, d.name));
    }
  };
  walk(base);
  await Promise.all(
    files.map((f) => client.send(new PutObjectCommand({ Bucket: bucket, Key: `datasets/cars/${path.relative(base, f).split(path.sep).join('/')}`, Body: fs.readFileSync(f) }))),
  );
  client.destroy();
  const file = path.join(root, 's3.pipeline.json');
  const body = {
    name: 'Demo: S3-compatible bucket',
    dataset: 'datasets/s3',
    steps: [
      {
        name: `Fetch data from s3://${bucket}/datasets/cars/`,
        builtinTransformationBlock: { type: 's3-to-project', endpoint, path: `s3://${bucket}/datasets/cars/`, region: 'us-east-1', accessKey: 'S3RVER', secretKey: '${env:DEMO_S3_SECRET}', category: 'split', labelStrategy: 'infer-from-folder-name' },
      },
      { name: 'Refresh data explorer', builtinTransformationBlock: { type: 'project-action', refreshDataExplorer: true } },
    ],
  };
  fs.writeFileSync(file, JSON.stringify(body, null, 2) + '\n');
  return file;
}

if (require.main === module) {
  const root = path.resolve(process.argv[2] ?? '.demo');
  const s3 = process.argv.indexOf('--s3');
  if (s3 > 0) {
    demoS3(root, process.argv[s3 + 1], process.argv[s3 + 2] ?? 'demo-bucket').then(
      (f) => process.stdout.write(f + '\n'),
      (err) => {
        process.stderr.write(`demo: upload to ${process.argv[s3 + 1]} failed: ${(err as Error).message}\n`);
        process.exitCode = 1;
      },
    );
  } else if (process.argv.includes('--torch')) process.stdout.write(demoTorch(root) + '\n');
  else for (const f of generateDemo(root)) process.stdout.write(f + '\n');
}
