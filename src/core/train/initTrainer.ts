// init-trainer: writes the reference trainer (train.py and predict.py) next to a pipeline and
// wires it in as the retrainModel steps' trainCommand. A train.py the user has edited is kept, and
// a trainCommand the pipeline already has is never replaced.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyEdits, findNodeAtLocation, modify, parseTree, type JSONPath } from 'jsonc-parser';
import { UserError } from '../util/errors';
import { templateFile } from './templates';
import { writeFileAtomic } from '../util/files';

export interface InitTrainerOptions {
  /** Where train.py goes; default: the pipeline file's folder, else the working folder. */
  dir?: string;
  pipelineFile?: string;
  /** Pass --no-pretrained to train.py (offline: random initial weights). */
  noPretrained?: boolean;
  /** Python interpreters to try, in order; the first that imports torch and torchvision is used. */
  pythons?: string[];
}

export interface InitTrainerResult {
  files: { path: string; written: boolean; note?: string }[];
  python: string;
  pythonHasTorch: boolean;
  command: string;
  /** Steps of the pipeline that now run the command, and those left alone (with why). */
  wired: string[];
  kept: { step: string; why: string }[];
  addedStep?: string;
  warnings: string[];
}

const TEMPLATES = ['train.py', 'predict.py'];

/** The first interpreter that can import torch and torchvision, else the first one named. */
export function findTorchPython(candidates: string[]): { python: string; hasTorch: boolean } {
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch, torchvision'], { stdio: 'ignore', timeout: 60_000 });
    if (r.status === 0) return { python: py, hasTorch: true };
  }
  return { python: candidates[0] ?? 'python3', hasTorch: false };
}

function shellWord(s: string): string {
  return /^[\w./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function copyTemplate(name: string, dir: string): InitTrainerResult['files'][number] {
  const to = path.join(dir, name);
  const text = fs.readFileSync(templateFile(name));
  if (fs.existsSync(to)) {
    if (fs.readFileSync(to).equals(text)) return { path: to, written: false, note: 'already up to date' };
    return { path: to, written: false, note: 'kept: it differs from the template (your edits); delete it to get the template again' };
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(to, text);
  return { path: to, written: true };
}

type Edit = { path: JSONPath; value: unknown };

/** The edits that make every retrainModel step run `command`, or add a Retrain step. */
function wiringEdits(text: string, command: string, r: InitTrainerResult): Edit[] {
  const root = parseTree(text);
  const steps = root && findNodeAtLocation(root, ['steps']);
  if (!steps || steps.type !== 'array') throw new UserError('The pipeline file has no "steps" array, so there is nowhere to wire the trainer. Fix the file (data-pipelines validate FILE) and run init-trainer again.');
  const edits: Edit[] = [];
  (steps.children ?? []).forEach((node, i) => {
    const name = String(findNodeAtLocation(node, ['name'])?.value ?? `step ${i + 1}`);
    const block = findNodeAtLocation(node, ['builtinTransformationBlock']);
    if (!block || findNodeAtLocation(block, ['retrainModel'])?.value !== true) return;
    const existing = findNodeAtLocation(block, ['trainCommand'])?.value;
    if (typeof existing === 'string' && existing.trim() && existing !== command) r.kept.push({ step: name, why: `it already has "trainCommand": ${JSON.stringify(existing)}` });
    else {
      edits.push({ path: ['steps', i, 'builtinTransformationBlock', 'trainCommand'], value: command });
      r.wired.push(name);
    }
  });
  if (!r.wired.length && !r.kept.length) {
    r.addedStep = 'Retrain';
    edits.push({ path: ['steps', -1], value: { name: 'Retrain', builtinTransformationBlock: { type: 'project-action', retrainModel: true, trainCommand: command } } });
  }
  return edits;
}

function wirePipeline(file: string, command: string, r: InitTrainerResult): void {
  let text = fs.readFileSync(file, 'utf8');
  for (const e of wiringEdits(text, command, r)) {
    text = applyEdits(text, modify(text, e.path, e.value, { isArrayInsertion: e.path[e.path.length - 1] === -1, formattingOptions: { insertSpaces: true, tabSize: 2 } }));
  }
  writeFileAtomic(file, text);
}

export function initTrainer(o: InitTrainerOptions): InitTrainerResult {
  const pipelineFile = o.pipelineFile && path.resolve(o.pipelineFile);
  if (pipelineFile && !fs.existsSync(pipelineFile)) throw new UserError(`${pipelineFile} does not exist. Give the pipeline file to wire the trainer into with --pipeline FILE.`);
  const dir = path.resolve(o.dir ?? (pipelineFile ? path.dirname(pipelineFile) : '.'));
  const { python, hasTorch } = findTorchPython(o.pythons ?? [process.env.DSP_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p));
  const base = pipelineFile ? path.dirname(pipelineFile) : dir;
  const script = path.relative(base, path.join(dir, 'train.py')) || 'train.py';
  const command = [python, script, ...(o.noPretrained ? ['--no-pretrained'] : [])].map(shellWord).join(' ');
  const r: InitTrainerResult = { files: TEMPLATES.map((n) => copyTemplate(n, dir)), python, pythonHasTorch: hasTorch, command, wired: [], kept: [], warnings: [] };
  if (!hasTorch) r.warnings.push(`${python} cannot import torch and torchvision, so the trainer cannot run yet. Install them (pip install torch torchvision, or on Debian: apt-get install python3-torchvision), or set DSP_PYTHON to an interpreter that has them, and run init-trainer again.`);
  if (pipelineFile) wirePipeline(pipelineFile, command, r);
  return r;
}
