// Hover text from the shipped schema's descriptions: what a block type does and which fields it
// takes, and what a property means. Pure: walks schemas/pipeline.schema.json by JSON path.
import type { JSONPath } from 'jsonc-parser';
import schema from '../../../schemas/pipeline.schema.json';

type SchemaNode = {
  $ref?: string;
  description?: string;
  type?: string | string[];
  enum?: unknown[];
  enumDescriptions?: string[];
  default?: unknown;
  examples?: unknown[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  required?: string[];
  const?: unknown;
};

const root = schema as unknown as SchemaNode & { definitions: Record<string, SchemaNode> };

function resolve(node: SchemaNode | undefined): SchemaNode | undefined {
  let n = node;
  for (let i = 0; n?.$ref && i < 10; i++) {
    const parts = n.$ref.replace(/^#\//, '').split('/');
    let cur: any = root;
    for (const p of parts) cur = cur?.[p];
    n = cur as SchemaNode | undefined;
  }
  return n;
}

const BLOCK_DEFS: Record<string, string> = {
  's3-to-project': 's3Block',
  'gcs-to-project': 'gcsBlock',
  'azure-to-project': 'azureBlock',
  'folder-to-project': 'folderBlock',
  'project-action': 'actionBlock',
};

export function blockSchema(type: string): SchemaNode | undefined {
  const def = BLOCK_DEFS[type];
  return def ? root.definitions[def] : undefined;
}

/** The schema node of a property at `path`; `blockType` picks the block's own fields. */
export function schemaAt(path: JSONPath, blockType?: string): SchemaNode | undefined {
  let node: SchemaNode | undefined = root;
  for (let i = 0; i < path.length && node; i++) {
    const key = path[i];
    node = resolve(node);
    if (!node) return undefined;
    if (typeof key === 'number') {
      node = node.items;
      continue;
    }
    const own: SchemaNode | undefined = node.properties?.[key];
    if (node === root.definitions.builtinBlock && key !== 'type' && blockType) {
      node = blockSchema(blockType)?.properties?.[key];
    } else node = own;
  }
  return resolve(node);
}

/** Markdown: what a block type does and every field it takes (required ones first). */
export function blockTypeDoc(type: string): string | undefined {
  const typeNode = root.definitions.builtinBlock.properties?.type;
  const i = typeNode?.enum?.indexOf(type) ?? -1;
  const def = blockSchema(type);
  if (i < 0 || !def) return undefined;
  const lines = [`**${type}**: ${typeNode?.enumDescriptions?.[i] ?? ''}`, ''];
  const required = new Set(def.required ?? []);
  const names = Object.keys(def.properties ?? {}).filter((k) => k !== 'type');
  names.sort((a, b) => Number(required.has(b)) - Number(required.has(a)));
  for (const k of names) {
    const d = resolve(def.properties?.[k]);
    const desc = d?.description ?? '';
    lines.push(`- \`${k}\`${required.has(k) ? ' (required)' : ''}: ${firstSentence(desc)}`);
  }
  return lines.join('\n');
}

function firstSentence(s: string): string {
  const m = /^(.+?\.)(\s|$)/.exec(s);
  return m ? m[1] : s;
}

/** Markdown for a property: its description, allowed values, default and examples. */
export function propertyDoc(path: JSONPath, blockType?: string): string | undefined {
  const node = schemaAt(path, blockType);
  if (!node?.description) return undefined;
  const key = path[path.length - 1];
  const lines = [`**${String(key)}**: ${node.description}`];
  if (node.enum) {
    lines.push('');
    node.enum.forEach((v, j) => lines.push(`- \`${JSON.stringify(v)}\`${node.enumDescriptions?.[j] ? `: ${node.enumDescriptions[j]}` : ''}`));
  }
  if (node.default !== undefined) lines.push('', `Default: \`${JSON.stringify(node.default)}\``);
  if (node.examples?.length) lines.push('', `Examples: ${node.examples.map((e) => `\`${JSON.stringify(e)}\``).join(', ')}`);
  return lines.join('\n');
}
