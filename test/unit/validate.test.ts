import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPipelineText } from '../../src/core/pipeline/validate';
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
    assert.match(e!.message, /\$\{vault:AK\}/);
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
