import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPipelineFile, loadPipelineText } from '../../src/core/pipeline/validate';
import { nextCronRun, parseCron } from '../../src/core/schedule/cron';
import { parseInterval } from '../../src/core/schedule/interval';

/** Edge Impulse's example pipeline from the Data sources page, as JSON. */
export const EDGE_IMPULSE_EXAMPLE = `{
    "name": "Import data from s3",
    "steps": [
        {
            "name": "Fetch data from s3://data-pipeline/data-pipeline-example/infer-from-folder/",
            "builtinTransformationBlock": {
                "type": "s3-to-project",
                "endpoint": "",
                "path": "s3://data-pipeline/data-pipeline-example/infer-from-folder/",
                "region": "fr-par",
                "accessKey": "XXXXX",
                "category": "split",
                "labelStrategy": "infer-from-folder-name",
                "secretKeyEncrypted": "xxxxxx"
            }
        },
        {
            "name": "Refresh data explorer",
            "builtinTransformationBlock": {
                "type": "project-action",
                "refreshDataExplorer": true
            }
        },
        {
            "name": "Retrain model",
            "builtinTransformationBlock": {
                "type": "project-action",
                "retrainModel": true
            }
        },
        {
            "name": "Create new version",
            "builtinTransformationBlock": {
                "type": "project-action",
                "createVersion": true
            }
        },
        {
            "name": "Create on-device deployment (C++ library)",
            "builtinTransformationBlock": {
                "type": "project-action",
                "buildBinary": "zip",
                "buildBinaryModelType": "int8"
            }
        }
    ]
}`;

const load = (text: string, file = '/tmp/x.pipeline.json') => loadPipelineText(text, file);
const errors = (text: string) => load(text).problems.filter((p) => p.severity === 'error');

describe('pipeline validation', () => {
  it('the compiled schema validator matches schemas/pipeline.schema.json (else: node scripts/gen-schema-validator.cjs)', () => {
    // The validator is compiled ahead of time (no schema compile on each CLI start); a schema edit without regenerating it fails here.
    const r = spawnSync(process.execPath, [path.resolve(__dirname, '../../../scripts/gen-schema-validator.cjs'), '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });


  it("loads Edge Impulse's example; its one error is secretKeyEncrypted, which says what to do", () => {
    const r = load(EDGE_IMPULSE_EXAMPLE);
    const errs = r.problems.filter((p) => p.severity === 'error');
    assert.equal(errs.length, 1, JSON.stringify(errs.map((e) => e.message)));
    const e = errs[0];
    assert.equal(e.code, 'secret-key-encrypted');
    assert.match(e.message, /\$\{secret:NAME\}/);
    assert.match(e.message, /\$\{env:VAR\}/);
    assert.ok(!e.message.includes('xxxxxx'), 'the encrypted value is not echoed');
    assert.deepEqual(e.path, ['steps', 0, 'builtinTransformationBlock', 'secretKeyEncrypted']);
    const line = EDGE_IMPULSE_EXAMPLE.split('\n').findIndex((l) => l.includes('"secretKeyEncrypted"')) + 1;
    assert.equal(e.range.line, line);
    assert.equal(e.range.column, EDGE_IMPULSE_EXAMPLE.split('\n')[line - 1].indexOf('"secretKeyEncrypted"') + 1);
  });

  it('with the secret given as a reference, the example is valid', () => {
    const fixed = EDGE_IMPULSE_EXAMPLE.replace('"secretKeyEncrypted": "xxxxxx"', '"secretKey": "${secret:SCW_SECRET}"');
    const r = load(fixed);
    assert.deepEqual(r.problems.filter((p) => p.severity === 'error'), []);
    assert.ok(r.pipeline);
    assert.equal(r.pipeline!.steps.length, 5);
  });

  it('a literal secret is an error that never echoes the value', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const text = JSON.stringify({ name: 'x', steps: [{ name: 's', builtinTransformationBlock: { type: 's3-to-project', path: 's3://b/p/', accessKey: 'AK', secretKey: secret } }] }, null, 2);
    const errs = errors(text);
    const e = errs.find((x) => x.code === 'literal-secret');
    assert.ok(e, JSON.stringify(errs));
    for (const x of errs) assert.ok(!x.message.includes(secret));
    assert.equal(text.slice(e!.range.offset, e!.range.offset + e!.range.length), JSON.stringify(secret));
  });

  it('unknown ${...} references are errors', () => {
    const text = JSON.stringify({ name: 'x', steps: [{ name: 's', builtinTransformationBlock: { type: 's3-to-project', path: 's3://b/p/', accessKey: '${vault:AK}', secretKey: '${secret:OK}' } }] });
    const e = errors(text).find((x) => x.code === 'unknown-reference');
    assert.ok(e);
    assert.match(e!.message, /"accessKey" holds a reference this tool cannot read: only \$\{secret:NAME\} and \$\{env:VAR\} are known/);
    assert.equal(text.slice(e!.range.offset, e!.range.offset + e!.range.length), '"${vault:AK}"', 'the range points at it');
    // A secret pasted into a broken reference is never echoed, whatever the field.
    for (const [field, value] of [['secretKey', '${secret:wJalrXUtnFEMI/K7MDENG}'], ['secretK\ud83dey', '${env:wJalrXUtnFEMI'], ['accessKey', '${wJalrXUtnFEMI}']]) {
      const t = JSON.stringify({ name: 'x', steps: [{ name: 's', builtinTransformationBlock: { type: 's3-to-project', path: 's3://b/p/', accessKey: 'A', secretKey: '${env:SK}', [field]: value } }] });
      const msgs = load(t).problems.map((p) => p.message).join('\n');
      assert.ok(msgs.length > 0 && !msgs.includes('wJalr'), msgs);
    }
  });

  it('duplicate step names point at the second name', () => {
    const text = `{"name":"x","steps":[
 {"name":"a","builtinTransformationBlock":{"type":"project-action","refreshDataExplorer":true}},
 {"name":"a","builtinTransformationBlock":{"type":"project-action","createVersion":true}}]}`;
    const e = errors(text).find((x) => x.code === 'duplicate-step-name');
    assert.ok(e);
    assert.equal(e!.range.line, 3);
    assert.deepEqual(e!.path, ['steps', 1, 'name']);
  });

  it('buildBinary without retrainModel is an error; with a retrain step before it, fine', () => {
    const bad = JSON.stringify({ name: 'x', steps: [{ name: 'b', builtinTransformationBlock: { type: 'project-action', buildBinary: 'zip' } }] });
    assert.ok(errors(bad).some((x) => x.code === 'build-without-retrain'));
    const good = JSON.stringify({ name: 'x', steps: [{ name: 'r', builtinTransformationBlock: { type: 'project-action', retrainModel: true, trainCommand: 'true' } }, { name: 'b', builtinTransformationBlock: { type: 'project-action', buildBinary: 'zip' } }] });
    assert.deepEqual(errors(good), []);
  });

  it('a folder that does not exist is an error at its path; relative to the pipeline file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsp-val-'));
    fs.mkdirSync(path.join(dir, 'here'));
    const text = (p: string) => JSON.stringify({ name: 'x', steps: [{ name: 's', builtinTransformationBlock: { type: 'folder-to-project', path: p } }] });
    assert.deepEqual(loadPipelineText(text('here'), path.join(dir, 'a.pipeline.json')).problems, []);
    const e = loadPipelineText(text('missing'), path.join(dir, 'a.pipeline.json')).problems.find((p) => p.code === 'unreachable-path');
    assert.ok(e);
    assert.match(e!.message, /does not exist/);
  });

  it('JSON syntax errors and comments are reported at their place', () => {
    const e = errors('{"name": "x",\n "steps": [\n  // no comments\n ]}');
    assert.ok(e.length >= 1);
    assert.equal(e[0].range.line, 3);
    assert.match(e[0].message, /comments are not allowed/);
    const trailing = errors('{"name": "x", "steps": [],}');
    assert.ok(trailing.length >= 1);
  });

  it('schema errors name the property and the fix: unknown properties, enums, bad paths', () => {
    const text = JSON.stringify({ name: 'x', steps: [{ name: 's', builtinTransformationBlock: { type: 's3-to-project', path: 'http://nope', labelStrategy: 'by-color', colour: 1 } }] }, null, 1);
    const msgs = errors(text).map((e) => e.message);
    assert.ok(msgs.some((m) => /Unknown property "colour" in a s3-to-project block/.test(m)), msgs.join('\n'));
    assert.ok(msgs.some((m) => /must be one of "infer-from-folder-name", "infer-from-file-name", "keep-unlabeled"/.test(m)), msgs.join('\n'));
    assert.ok(msgs.some((m) => /s3:\/\/bucket\/prefix\//.test(m)), msgs.join('\n'));
  });

  it('missing name/steps and a step without a block are explained', () => {
    assert.ok(errors('{}').some((e) => /missing "name"/.test(e.message)));
    assert.ok(errors('{"name":"x","steps":[{"name":"s"}]}').some((e) => /needs a "builtinTransformationBlock"/.test(e.message)));
  });

  it('schedules: intervalStr and cron are checked', () => {
    assert.equal(parseInterval('15m'), 900_000);
    assert.equal(parseInterval('2h'), 7_200_000);
    assert.equal(parseInterval('1d'), 86_400_000);
    assert.equal(parseInterval('0m'), undefined);
    assert.ok(errors('{"name":"x","steps":[],"schedule":"61 * * * *"}').some((e) => /minute field: 61 is outside 0-59/.test(e.message)));
    assert.ok(errors('{"name":"x","steps":[],"intervalStr":"5 weeks"}').length > 0);
    const c = parseCron('30 3 * * 1-5');
    const next = nextCronRun(c, new Date(2026, 10, 28, 12, 0)); // Saturday
    assert.equal(next!.getDay(), 1);
    assert.equal(next!.getHours(), 3);
    assert.equal(next!.getMinutes(), 30);
  });
});

describe("Edge Impulse's pipeline JSON as it comes, and hostile structure", () => {
  const importStep = { name: 'Fetch', builtinTransformationBlock: { type: 'folder-to-project', path: '.', category: 'validation' } };

  it('a bare steps array loads, named from the file name, with positions in the array', () => {
    const text = JSON.stringify([importStep, { name: 'Refresh', builtinTransformationBlock: { type: 'project-action', refreshDataExplorer: true } }], null, 2);
    const r = load(text, path.join(os.tmpdir(), 'cars-import.pipeline.json'));
    assert.deepEqual(r.problems.filter((p) => p.severity !== 'info'), []);
    assert.equal(r.pipeline?.name, 'cars-import');
    assert.equal(r.pipeline?.steps.length, 2);
    const bad = JSON.stringify([importStep, { name: 'x', builtinTransformationBlock: { type: 'project-action', refreshDataExplorer: 'yes' } }], null, 2);
    const e = load(bad, path.join(os.tmpdir(), 'b.pipeline.json')).problems.find((p) => p.severity === 'error')!;
    assert.deepEqual(e.path, ['steps', 1, 'builtinTransformationBlock', 'refreshDataExplorer']);
    assert.equal(bad.split('\n')[e.range.line - 1].trim().startsWith('"refreshDataExplorer"'), true, `line ${e.range.line}`);
  });

  it("the API's read-only fields are warnings that say what each means here", () => {
    const text = JSON.stringify({ id: 12, created: '2024-01-01T00:00:00Z', nextRun: '2024-01-02T00:00:00Z', lastRun: null, emailRecipientUids: [4, 5], name: 'x', steps: [importStep] }, null, 2);
    const r = load(text);
    assert.ok(r.pipeline, JSON.stringify(r.problems.map((p) => p.message)));
    const warns = r.problems.filter((p) => p.code === 'edge-impulse-field');
    assert.deepEqual(warns.map((w) => w.path[0]).sort(), ['created', 'emailRecipientUids', 'id', 'lastRun', 'nextRun']);
    assert.ok(warns.every((w) => w.severity === 'warning'));
    assert.match(warns.find((w) => w.path[0] === 'emailRecipientUids')!.message, /use "emailRecipients" with e-mail addresses/);
    assert.equal(text.slice(warns[0].range.offset, warns[0].range.offset + warns[0].range.length).startsWith('"'), true, 'points at the key');
  });

  it('step fields with no local meaning warn; uploadType is checked; a misspelt field is an error with a suggestion', () => {
    const fields = { uploadType: 'project', projectId: 1, newProjectName: 'n', outputDatasetName: 'd', pathFilters: [], transformationParallel: 2, extraCliArguments: '--x' };
    const r = load(JSON.stringify({ name: 'x', steps: [{ ...importStep, ...fields }] }));
    assert.ok(r.pipeline, JSON.stringify(r.problems.map((p) => p.message)));
    assert.deepEqual(r.problems.filter((p) => p.code === 'edge-impulse-field').map((p) => p.path[2]).sort(), Object.keys(fields).sort());
    const wrong = errors(JSON.stringify({ name: 'x', steps: [{ ...importStep, uploadType: 'projcet' }] }));
    assert.ok(wrong.some((e) => /uploadType must be "project" or "dataset"/.test(e.message)), wrong.map((e) => e.message).join('\n'));
    const misspelt = errors(JSON.stringify({ name: 'x', steps: [{ ...importStep, uplodType: 'project' }] }));
    assert.ok(misspelt.some((e) => /Unknown property "uplodType"\. Did you mean "uploadType"\?/.test(e.message)), misspelt.map((e) => e.message).join('\n'));
  });

  it('Edge Impulse-only block types get an error that names Edge Impulse and what to use instead', () => {
    for (const type of ['portal-to-project', 'dataset-to-project']) {
      const e = errors(JSON.stringify({ name: 'x', steps: [{ name: 's', builtinTransformationBlock: { type } }] }));
      const m = e.find((p) => p.path.join('.') === 'steps.0.builtinTransformationBlock.type');
      assert.ok(m, e.map((p) => p.message).join('\n'));
      assert.match(m.message, /Edge Impulse/);
      assert.match(m.message, /folder-to-project/);
      assert.doesNotMatch(m.message, /must be one of/);
    }
  });

  it('category validation is accepted', () => {
    assert.deepEqual(errors(JSON.stringify({ name: 'x', steps: [importStep] })), []);
  });

  it('deep nesting gives a positioned error, not a stack overflow; a valid deep-ish file still loads', () => {
    const deep = '{"name":"x","steps":[],"description":"d","dataset":"d"' + ',"x":' + '['.repeat(5000) + ']'.repeat(5000) + '}';
    const r = load(deep);
    const e = r.problems.find((p) => p.code === 'too-deep')!;
    assert.ok(e, JSON.stringify(r.problems));
    assert.equal(e.range.line, 1);
    assert.ok(e.range.column > 40);
    const ok = JSON.stringify({ name: 'x', steps: [{ name: 'c', transformationBlock: { command: 'true' }, parameters: JSON.parse('{"a":'.repeat(100) + '1' + '}'.repeat(100)) }] });
    assert.ok(load(ok).pipeline, JSON.stringify(load(ok).problems.map((p) => p.message)));
  });

  it('duplicate keys: an error when the values differ (a hidden literal secret), a warning when equal; values never echoed', () => {
    const text = '{"name":"x","steps":[{"name":"s","builtinTransformationBlock":{"type":"s3-to-project","path":"s3://b/","accessKey":"AK","secretKey":"wJalrXUtnFEMI","secretKey":"${env:SK}"}}]}';
    const r = load(text);
    const dup = r.problems.filter((p) => p.code === 'duplicate-key');
    assert.equal(dup.length, 1);
    assert.equal(dup[0].severity, 'error');
    assert.equal(r.pipeline, undefined);
    assert.equal(text.slice(dup[0].range.offset, dup[0].range.offset + dup[0].range.length), '"secretKey"');
    assert.ok(text.indexOf('"secretKey"') < dup[0].range.offset, 'points at the second key');
    assert.ok(!r.problems.some((p) => p.message.includes('wJalr')));
    const same = load('{"name":"x","name":"x","steps":[]}');
    assert.deepEqual(same.problems.map((p) => [p.code, p.severity]), [['duplicate-key', 'warning']]);
    assert.ok(same.pipeline);
  });

  it('a file that is not UTF-8 is refused at the first bad byte', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsp-utf8-'));
    const file = path.join(dir, 'bad.pipeline.json');
    fs.writeFileSync(file, Buffer.concat([Buffer.from('{"name":"x",\n"description":"caf'), Buffer.from([0xe9]), Buffer.from('","steps":[]}')]));
    const r = loadPipelineFile(file);
    assert.equal(r.pipeline, undefined);
    assert.equal(r.problems[0].code, 'not-utf8');
    assert.deepEqual([r.problems[0].range.line, r.problems[0].range.column], [2, 19]);
    fs.writeFileSync(file, '\ufeff{"name":"x","steps":[]}');
    assert.ok(loadPipelineFile(file).pipeline, 'a BOM is fine');
  });
});

describe('datasetDirFor', () => {
  it('is "dataset" beside the file, or the top-level "dataset", never a nested one; tolerant of broken JSON', async () => {
    const { datasetDirFor } = await import('../../src/core/pipeline/datasetDir');
    const f = path.join(os.tmpdir(), 'w', 'a.pipeline.json');
    assert.equal(datasetDirFor(f, '{"name":"x","steps":[]}'), path.join(os.tmpdir(), 'w', 'dataset'));
    assert.equal(datasetDirFor(f, '{"name":"x","dataset":"../out/ds","steps":[]}'), path.join(os.tmpdir(), 'out', 'ds'));
    assert.equal(datasetDirFor(f, '{"name":"x","steps":[{"dataset":"nested"}]}'), path.join(os.tmpdir(), 'w', 'dataset'));
    assert.equal(datasetDirFor(f, '{"name":"x","dataset":"d", "steps": ['), path.join(os.tmpdir(), 'w', 'd'));
    assert.equal(datasetDirFor(f, '[{"name":"s"}]'), path.join(os.tmpdir(), 'w', 'dataset'));
    assert.equal(load('{"name":"x","dataset":"../o","steps":[]}', f).datasetDir, path.join(os.tmpdir(), 'o'));
  });
});
