// The schema VS Code's JSON service gets for *.pipeline.json: the shipped schema with every
// validation keyword taken out, so the JSON service offers completion and hover from it but never
// reports a problem of its own. The extension reports every problem once, at the severity and range
// the core's `validate` gives (src/vscode/lib/problems.ts). Used by esbuild.mjs; unit-tested.
'use strict';

// Keywords that make the JSON service report a problem.
const VALIDATION = new Set([
  'required', 'additionalProperties', 'pattern', 'format', 'minLength', 'maxLength', 'minimum', 'maximum',
  'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'minItems', 'maxItems', 'uniqueItems', 'minProperties',
  'maxProperties', 'not', 'type', 'deprecationMessage', 'deprecated', 'errorMessage', 'patternErrorMessage',
  'dependencies', 'dependentRequired', 'propertyNames', 'contains',
]);

/** Completion values for a schema that had an enum (the JSON service suggests defaultSnippets). */
function snippetsFor(node) {
  const descs = Array.isArray(node.enumDescriptions) ? node.enumDescriptions : [];
  return node.enum.map((v, i) => ({ label: JSON.stringify(v), description: descs[i], body: v }));
}

/** Insert text for a property of this type, kept although `type` goes. */
function bodyForType(type) {
  switch (type) {
    case 'object':
      return [{ body: {} }];
    case 'array':
      return [{ body: [] }];
    case 'string':
      return [{ body: '' }];
    case 'boolean':
      return [{ body: true }, { body: false }];
    default:
      return undefined;
  }
}

function strip(node, inIf) {
  if (Array.isArray(node)) return node.map((n) => strip(n, inIf));
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (VALIDATION.has(k)) continue;
    if (k === 'enum' || k === 'enumDescriptions') continue;
    // const decides which if/then branch applies; elsewhere it would validate.
    if (k === 'const' && !inIf) continue;
    // "matches more than one" would be reported once the branches lose their validation.
    const key = k === 'oneOf' ? 'anyOf' : k;
    if (k === 'properties' || k === 'definitions' || k === '$defs' || k === 'patternProperties') {
      out[key] = Object.fromEntries(Object.entries(v).map(([name, sub]) => [name, strip(sub, inIf)]));
    } else out[key] = strip(v, inIf || k === 'if');
  }
  if (Array.isArray(node.enum) && !inIf) out.defaultSnippets = [...(out.defaultSnippets ?? []), ...snippetsFor(node)];
  else if (typeof node.const !== 'undefined' && !inIf) out.defaultSnippets = [{ label: JSON.stringify(node.const), body: node.const }];
  else if (typeof node.type === 'string' && !out.defaultSnippets && out.default === undefined) {
    const b = bodyForType(node.type);
    if (b) out.defaultSnippets = b;
  }
  return out;
}

function editorSchema(schema) {
  const out = strip(schema, false);
  out.$id = `${schema.$id ?? 'pipeline'}#editor`;
  out.description = `${schema.description ?? ''} (completion and hover only: the Data Pipelines extension reports problems)`.trim();
  return out;
}

module.exports = { editorSchema, VALIDATION };
