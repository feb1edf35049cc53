// Where things are in a pipeline file's text: steps, their kinds and exact offsets, from the
// parse tree (jsonc-parser), so CodeLens, quick fixes and the wizard edit the right bytes.
// Pure: no `vscode` import, unit-tested in plain Node.
import { applyEdits, findNodeAtLocation, getNodeValue, modify, parseTree, type Edit, type JSONPath, type Node } from 'jsonc-parser';
import type { ImportType, Step, StepKind } from '../../core/pipeline/model';

/**
 * The import block types. A type-checked copy of the core's IMPORT_TYPES (a type-only import keeps
 * the engine out of the extension bundle): the compiler fails here when the core adds or drops one.
 */
const IMPORT_TYPE_SET: Record<ImportType, true> = { 's3-to-project': true, 'gcs-to-project': true, 'azure-to-project': true, 'folder-to-project': true };
const isImportType = (type: string): type is ImportType => Object.prototype.hasOwnProperty.call(IMPORT_TYPE_SET, type);

export interface StepLocation {
  index: number;
  name: string;
  kind: StepKind;
  /** The block's type ("s3-to-project", "project-action", "transformation-block"). */
  type: string;
  /** The `path` of an import step, when it is a string. */
  sourcePath?: string;
  /** A project-action step's actions that are on, and whether its retrain has a trainCommand. */
  actions?: { retrainModel?: boolean; trainCommand?: boolean; createVersion?: boolean; buildBinary?: boolean; refreshDataExplorer?: boolean };
  enabled: boolean;
  /** Offset and length of the step's object. */
  offset: number;
  length: number;
}

export interface PipelineOutline {
  name?: string;
  /** Offset of the top-level object (where the pipeline-wide lenses go). */
  offset: number;
  intervalStr?: string;
  schedule?: string;
  steps: StepLocation[];
}

function kindOf(step: Partial<Step>): { kind: StepKind; type: string } {
  const type = step.builtinTransformationBlock?.type;
  if (typeof type === 'string' && isImportType(type)) return { kind: 'import', type };
  if (type === 'project-action') return { kind: 'action', type };
  return { kind: 'custom', type: typeof type === 'string' ? type : 'transformation-block' };
}

/** The outline of a pipeline text; tolerant of errors (what parses is outlined). */
export function outlinePipeline(text: string): PipelineOutline | undefined {
  const tree = parseTree(text, [], { disallowComments: true, allowTrailingComma: true });
  // A bare steps array (Edge Impulse's "Run pipeline from code") is a pipeline too.
  if (!tree || (tree.type !== 'object' && tree.type !== 'array')) return undefined;
  const str = (p: JSONPath): string | undefined => {
    if (tree.type === 'array') return undefined;
    const n = findNodeAtLocation(tree, p);
    return n?.type === 'string' ? (n.value as string) : undefined;
  };
  const out: PipelineOutline = { name: str(['name']), offset: tree.offset, intervalStr: str(['intervalStr']), schedule: str(['schedule']), steps: [] };
  const steps = tree.type === 'array' ? tree : findNodeAtLocation(tree, ['steps']);
  if (steps?.type !== 'array') return out;
  (steps.children ?? []).forEach((node, index) => {
    if (node.type !== 'object') return;
    const step = safeValue(node) as Partial<Step>;
    const { kind, type } = kindOf(step);
    const block = step.builtinTransformationBlock as { path?: unknown; retrainModel?: unknown; trainCommand?: unknown; createVersion?: unknown; buildBinary?: unknown; refreshDataExplorer?: unknown } | undefined;
    out.steps.push({
      index,
      name: typeof step.name === 'string' ? step.name : `Step ${index + 1}`,
      kind,
      type,
      sourcePath: kind === 'import' && typeof block?.path === 'string' ? block.path : undefined,
      actions: kind === 'action' && block ? { retrainModel: block.retrainModel === true, trainCommand: typeof block.trainCommand === 'string' && block.trainCommand.trim() !== '', createVersion: block.createVersion === true, buildBinary: !!block.buildBinary, refreshDataExplorer: block.refreshDataExplorer === true } : undefined,
      enabled: step.enabled !== false,
      offset: node.offset,
      length: node.length,
    });
  });
  return out;
}

function safeValue(node: Node): unknown {
  try {
    return getNodeValue(node);
  } catch {
    return {};
  }
}

/** A text replacement: offset and length into the original text. */
export interface TextEdit {
  offset: number;
  length: number;
  content: string;
}

export function secretRef(name: string): string {
  return '${secret:' + name + '}';
}

export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Why a secret name is not usable, or undefined when it is. */
export function validateSecretName(name: string): string | undefined {
  if (!name) return 'Give the secret a name.';
  if (!SECRET_NAME.test(name)) return 'Use letters, digits, _ . - and start with a letter or _ (it doubles as an environment variable name for the CLI).';
  return undefined;
}

/** A name for a secret that reads well as an environment variable too: S3_CARS_SECRET_KEY. */
export function suggestSecretName(stepName: string, field: string, blockType?: string): string {
  const prefix = blockType?.startsWith('s3') ? 'S3' : blockType?.startsWith('gcs') ? 'GCS' : blockType?.startsWith('azure') ? 'AZURE' : '';
  const words = stepName
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]+/g, ' ')
    .trim()
    .split(/\s+/)
    .filter((w) => w && !/^(fetch|data|from|import|step|s3|gs|az|to)$/i.test(w))
    .slice(0, 3);
  const fieldWords = field.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
  const name = [prefix, ...words.map((w) => w.toUpperCase()), fieldWords].filter(Boolean).join('_');
  return /^[A-Za-z_]/.test(name) ? name : `_${name}`;
}

/** Replaces the string value at `path` with a ${secret:NAME} reference. */
export function replaceValueWithSecretRef(text: string, path: JSONPath, name: string): TextEdit | undefined {
  const tree = parseTree(text);
  const node = tree && findNodeAtLocation(tree, path);
  if (!node || node.type !== 'string') return undefined;
  return { offset: node.offset, length: node.length, content: JSON.stringify(secretRef(name)) };
}

/**
 * Replaces `"secretKeyEncrypted": "…"` in the block at `blockPath` with `"secretKey": "${secret:NAME}"`,
 * in place (same position, same indentation). An existing secretKey is overwritten instead.
 */
export function replaceEncryptedSecret(text: string, blockPath: JSONPath, name: string): TextEdit[] {
  const tree = parseTree(text);
  const enc = tree && findNodeAtLocation(tree, [...blockPath, 'secretKeyEncrypted']);
  if (!tree || !enc?.parent) return [];
  const existing = findNodeAtLocation(tree, [...blockPath, 'secretKey']);
  const prop = enc.parent;
  if (!existing) return [{ offset: prop.offset, length: prop.length, content: `"secretKey": ${JSON.stringify(secretRef(name))}` }];
  // Keep secretKey where it is and drop the encrypted one (with its comma).
  const edits: TextEdit[] = [{ offset: existing.offset, length: existing.length, content: JSON.stringify(secretRef(name)) }];
  for (const e of modify(text, [...blockPath, 'secretKeyEncrypted'], undefined, { formattingOptions: { insertSpaces: true, tabSize: 2 } })) edits.push(e);
  return edits.sort((a, b) => b.offset - a.offset);
}

export function detectIndent(text: string): { insertSpaces: boolean; tabSize: number } {
  const m = /\n([ \t]+)"/.exec(text);
  if (!m) return { insertSpaces: true, tabSize: 2 };
  if (m[1].startsWith('\t')) return { insertSpaces: false, tabSize: 4 };
  return { insertSpaces: true, tabSize: Math.min(8, m[1].length) };
}

/**
 * Adds a step: import steps go after the last import (before the post-sync actions), other
 * steps at the end, as Edge Impulse orders them. Returns edits to the text.
 */
export function addStepEdits(text: string, step: Step): Edit[] {
  const outline = outlinePipeline(text);
  const fmt = { formattingOptions: { ...detectIndent(text), eol: text.includes('\r\n') ? '\r\n' : '\n' } };
  if (!outline) throw new Error('The pipeline file is not a JSON object; fix it first.');
  const tree = parseTree(text);
  const stepsNode = tree && findNodeAtLocation(tree, ['steps']);
  if (!stepsNode || stepsNode.type !== 'array') return modify(text, ['steps'], [step], fmt);
  let at = outline.steps.length;
  if (kindOf(step).kind === 'import') {
    const firstLater = outline.steps.find((s) => s.kind !== 'import');
    if (firstLater) at = firstLater.index;
  }
  at = Math.min(at, stepsNode.children?.length ?? 0);
  return modify(text, ['steps', at], step, { ...fmt, isArrayInsertion: true });
}

/** A new pipeline file's text holding these steps. */
export function newPipelineText(name: string, steps: Step[]): string {
  return JSON.stringify({ name, description: 'Imports a dataset, labels and splits it, then runs the post-sync actions.', steps }, null, 2) + '\n';
}

export function applyTextEdits(text: string, edits: TextEdit[]): string {
  return applyEdits(text, edits);
}

/** The service-account key JSON, checked enough to say what is wrong before a verification does. */
export function serviceAccountKeyProblem(text: string): string | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'This is not JSON: pick the service-account key file (JSON) downloaded from the Google Cloud console.';
  }
  const o = json as Record<string, unknown> | null;
  if (!o || typeof o !== 'object' || Array.isArray(o)) return 'The key is not a JSON object.';
  if (o.type !== 'service_account' && o.type !== 'authorized_user' && o.type !== 'external_account') return `The key's "type" is ${JSON.stringify(o.type)}, not "service_account".`;
  if (o.type === 'service_account' && (typeof o.private_key !== 'string' || typeof o.client_email !== 'string')) return 'The key has no private_key or client_email.';
  return undefined;
}
