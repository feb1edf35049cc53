// The schema VS Code's JSON service gets (dist/pipeline.editor.schema.json) must let it complete and
// hover but never report a problem of its own: checked with the JSON language service VS Code runs
// (vscode-json-languageservice), on files `validate` calls broken.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { getLanguageService, type JSONSchema } from 'vscode-json-languageservice';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { loadPipelineText } from '../../src/core/pipeline/validate';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { editorSchema } = require('../../../scripts/editor-schema.cjs') as { editorSchema: (s: unknown) => JSONSchema };
const root = path.resolve(__dirname, '../../..');
// A fresh copy each time: the language service resolves $refs in place.
const shipped = () => JSON.parse(fs.readFileSync(path.join(root, 'schemas/pipeline.schema.json'), 'utf8'));

function service(schema: JSONSchema) {
  const ls = getLanguageService({ schemaRequestService: () => Promise.reject(new Error('no network')) });
  ls.configure({ validate: true, allowComments: false, schemas: [{ uri: 'inmemory://pipeline.schema.json', fileMatch: ['*.pipeline.json'], schema }] });
  return ls;
}

async function diagnostics(schema: JSONSchema, text: string) {
  const ls = service(schema);
  const doc = TextDocument.create('file:///w/x.pipeline.json', 'json', 1, text);
  return ls.doValidation(doc, ls.parseJSONDocument(doc), { schemaValidation: 'error', trailingCommas: 'error', comments: 'error' });
}

const BROKEN = [
  '{"name": "x", "steps": [{"name": "a", "builtinTransformationBlock": {"type": "folder-to-projet", "path": "."}}]}',
  '{"name": 3, "steps": [{"name": "a", "uplodType": "project", "builtinTransformationBlock": {"type": "s3-to-project", "path": "http://x", "colour": 1}}]}',
  '{"steps": [{"name": "a", "builtinTransformationBlock": {"type": "project-action", "retrainModel": "yes"}}], "intervalStr": "5 weeks"}',
  '[{"name": "a", "builtinTransformationBlock": {"type": "portal-to-project"}}]',
  '{"name": "x", "steps": [{"name": "a", "builtinTransformationBlock": {"type": "folder-to-project", "path": ".", "splitRatio": {"training": 2}}}]}',
];

describe('the editor schema (what VS Code\'s JSON service sees)', () => {
  it('the shipped schema would make the JSON service report its own (warning) problems: the reason for the editor schema', async () => {
    const d = await diagnostics(shipped(), BROKEN[0]);
    assert.ok(d.length > 0);
  });

  it('reports nothing on files validate calls broken, so every problem shows once, at validate\'s severity', async () => {
    const schema = editorSchema(shipped());
    for (const text of BROKEN) {
      assert.ok(loadPipelineText(text, '/w/x.pipeline.json').problems.some((p) => p.severity === 'error'), text);
      assert.deepEqual((await diagnostics(schema, text)).map((x) => x.message), [], text);
    }
  });

  it('still completes block types with their descriptions, and hovers with the schema\'s descriptions', async () => {
    const ls = service(editorSchema(shipped()));
    const text = '{"name": "x", "steps": [{"name": "a", "builtinTransformationBlock": {"type": }}]}';
    const doc = TextDocument.create('file:///w/x.pipeline.json', 'json', 1, text);
    const at = doc.positionAt(text.indexOf('"type": ') + 8);
    const list = await ls.doComplete(doc, at, ls.parseJSONDocument(doc));
    const labels = list?.items.map((i) => i.label) ?? [];
    for (const t of ['s3-to-project', 'gcs-to-project', 'azure-to-project', 'folder-to-project', 'project-action']) assert.ok(labels.some((l) => l.includes(t)), `${t} in ${labels.join(', ')}`);
    const s3 = '{"name": "x", "steps": [{"name": "a", "builtinTransformationBlock": {"type": "s3-to-project", "path": "s3://b/"}}]}';
    const d2 = TextDocument.create('file:///w/x.pipeline.json', 'json', 1, s3);
    const hover = await ls.doHover(d2, d2.positionAt(s3.indexOf('"path"') + 2), ls.parseJSONDocument(d2));
    assert.ok(hover && JSON.stringify(hover.contents).length > 10, JSON.stringify(hover));
    const props = await ls.doComplete(d2, d2.positionAt(s3.indexOf('"path"')), ls.parseJSONDocument(d2));
    assert.ok(props?.items.some((i) => i.label === 'endpoint'), "the s3 block's own properties are offered");
  });

  it('dist/ holds the editor schema package.json points VS Code at', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    const url = pkg.contributes.jsonValidation[0].url as string;
    assert.equal(url, './dist/pipeline.editor.schema.json');
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(root, url), 'utf8')), JSON.parse(JSON.stringify(editorSchema(shipped()))));
  });
});
