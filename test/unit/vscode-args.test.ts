// The typed command arguments (src/vscode/lib/args.ts): tree nodes, CodeLens and commands share
// them, and each command narrows with one guard per shape. Plain Node: a Uri is checked by shape.
import * as assert from 'node:assert/strict';
import { isPipelineArg, isRunArg, isStepArg, isUri, pipelineArg, runArg, stepArg, triggerOfArg, uriOfArg } from '../../src/vscode/lib/args';
import { serviceAccountKeyProblem } from '../../src/vscode/lib/pipelineDoc';
import { emptyCounts, type RunRecord } from '../../src/core/types';

/** Enough of a vscode.Uri for the guards (they check scheme, path, fsPath and toString). */
function fakeUri(p: string): any {
  return { scheme: 'file', authority: '', path: p, query: '', fragment: '', fsPath: p, toString: () => `file://${p}` };
}

const run = { id: 'r1', pipeline: 'Cars', pipelineFile: '/w/cars.pipeline.json', trigger: 'ui', status: 'success', startedAt: '2026-01-01T00:00:00Z', steps: [], counts: emptyCounts() } as unknown as RunRecord;
const uri = fakeUri('/w/cars.pipeline.json');

describe('vscode command arguments', () => {
  it('builds each shape the guards accept, and only that one', () => {
    const shapes = { pipeline: pipelineArg(uri), step: stepArg(uri, 'Fetch cars'), run: runArg(run) };
    const guards = { pipeline: isPipelineArg, step: isStepArg, run: isRunArg };
    for (const [name, value] of Object.entries(shapes)) {
      for (const [g, guard] of Object.entries(guards)) assert.equal(guard(value), g === name, `${g} guard on a ${name} arg`);
    }
  });

  it('rejects what the palette, menus and old callers pass', () => {
    for (const x of [undefined, null, 'codelens', 42, {}, [], uri, { uri }, { uri, step: 'x' }, { run }, { kind: 'step', uri, step: '' }, { kind: 'step', uri, step: 3 }, { kind: 'pipeline', uri: '/w/cars.pipeline.json' }, { kind: 'pipeline', uri, trigger: 'cron' }, { kind: 'run', run: { id: 1 } }]) {
      assert.equal(isPipelineArg(x), false, JSON.stringify(x));
      assert.equal(isStepArg(x), false, JSON.stringify(x));
      assert.equal(isRunArg(x), false, JSON.stringify(x));
    }
  });

  it('tree nodes with extra fields are still their shape', () => {
    assert.ok(isPipelineArg({ ...pipelineArg(uri), name: 'Cars', steps: [], datasetDir: '/w/dataset' }));
    assert.ok(isStepArg({ ...stepArg(uri, 'Fetch cars'), location: { index: 0 }, datasetDir: '/w/dataset' }));
  });

  it('finds the pipeline file of a pipeline, a step or a bare Uri (editor title), and nothing else', () => {
    assert.equal(uriOfArg(pipelineArg(uri)), uri);
    assert.equal(uriOfArg(stepArg(uri, 's')), uri);
    assert.equal(uriOfArg(uri), uri, 'editor/title passes the resource Uri');
    assert.equal(uriOfArg(fakeUri('/w/notes.json')), undefined, 'a Uri that is no pipeline file');
    assert.equal(uriOfArg(undefined), undefined);
    assert.equal(uriOfArg(runArg(run)), undefined);
    assert.ok(isUri(uri));
    assert.ok(!isUri({ path: '/x' }));
  });

  it('says "codelens" only for a CodeLens argument', () => {
    assert.equal(triggerOfArg(pipelineArg(uri, 'codelens')), 'codelens');
    assert.equal(triggerOfArg(stepArg(uri, 's', 'codelens')), 'codelens');
    assert.equal(triggerOfArg(pipelineArg(uri)), 'ui');
    assert.equal(triggerOfArg('codelens'), 'ui');
    assert.equal(triggerOfArg(undefined), 'ui');
    assert.deepEqual(pipelineArg(uri), { kind: 'pipeline', uri }, 'no trigger key unless given');
  });
});

describe('vscode wizard: service-account keys', () => {
  it('accepts a service-account key and says what is wrong with anything else', () => {
    assert.equal(serviceAccountKeyProblem(JSON.stringify({ type: 'service_account', client_email: 'a@p.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\n' })), undefined);
    assert.equal(serviceAccountKeyProblem(JSON.stringify({ type: 'authorized_user', client_id: 'x' })), undefined);
    assert.match(serviceAccountKeyProblem('not json') ?? '', /not JSON/);
    assert.match(serviceAccountKeyProblem('[1]') ?? '', /not a JSON object/);
    assert.match(serviceAccountKeyProblem('{"type": "service_account"}') ?? '', /private_key/);
    assert.match(serviceAccountKeyProblem('{"client_email": "x"}') ?? '', /type/);
  });
});
