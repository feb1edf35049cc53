// The editor glue's pure helpers, in plain Node (no vscode module).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { getLocation } from 'jsonc-parser';
import { datasetDirFor, IMPORT_TYPES, loadPipelineText, nextRunTime } from '../../src/core';
import { formatBytes as coreFormatBytes } from '../../src/core/util/format';
import { mayOpenFromPreview } from '../../src/vscode/lib/paths';
import { readRuns } from '../../src/vscode/lib/runRecords';
import { addStepEdits, applyTextEdits, outlinePipeline, replaceEncryptedSecret, replaceValueWithSecretRef, suggestSecretName, validateSecretName } from '../../src/vscode/lib/pipelineDoc';
import { editorProblems, isJsonServiceProblem } from '../../src/vscode/lib/problems';
import { orderedMetrics, tableCells } from '../../src/core/train/metrics';
import { countsSummary, describeNextRun, formatBytes, formatDuration, nextRun, runReportMarkdown, throttle } from '../../src/vscode/lib/runFormat';
import { blockTypeDoc, propertyDoc } from '../../src/vscode/lib/schemaDocs';
import { BLOCK_SNIPPETS, completionSite, expandSnippet, stepSnippet } from '../../src/vscode/lib/snippets';
import { emptyCounts, type RunRecord } from '../../src/core/types';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dsp-vscode-unit-'));
const file = path.join(tmp, 'p.pipeline.json');
fs.mkdirSync(path.join(tmp, 'raw-images'));

const S3_LITERAL = `{
  "name": "Cars",
  "steps": [
    {
      "name": "Fetch cars",
      "builtinTransformationBlock": {
        "type": "s3-to-project",
        "path": "s3://bucket/cars/",
        "accessKey": "AKIAEXAMPLE",
        "secretKey": "wJalrXUtnFEMI/K7MDENG"
      }
    },
    {
      "name": "Actions",
      "builtinTransformationBlock": { "type": "project-action", "refreshDataExplorer": true }
    }
  ]
}
`;

describe('vscode glue: pipeline outline and edits', () => {
  it('outlines steps with kinds and exact offsets', () => {
    const o = outlinePipeline(S3_LITERAL);
    assert.ok(o);
    assert.equal(o.name, 'Cars');
    assert.deepEqual(
      o.steps.map((s) => [s.name, s.kind, s.type, s.sourcePath]),
      [
        ['Fetch cars', 'import', 's3-to-project', 's3://bucket/cars/'],
        ['Actions', 'action', 'project-action', undefined],
      ],
    );
    assert.equal(S3_LITERAL[o.steps[0].offset], '{');
    assert.ok(S3_LITERAL.slice(o.steps[1].offset).startsWith('{\n      "name": "Actions"'));
  });

  it('tolerates broken JSON', () => {
    assert.equal(outlinePipeline('"x"'), undefined);
    assert.deepEqual(outlinePipeline('[1,2]')?.steps, [], 'a bare steps array is outlined (here with no step objects)');
    assert.equal(outlinePipeline('[{"name": "a", "builtinTransformationBlock": {"type": "folder-to-project", "path": "."}}]')?.steps[0].kind, 'import');
    const o = outlinePipeline('{"name": "x", "steps": [ {"name": "a", "builtinTransformationBlock": {"type": "folder-to-project", "path": "./x"}}, ');
    assert.equal(o?.steps.length, 1);
  });

  it('moves a literal secret to a ${secret:} reference at the core problem path, and the problem goes away', () => {
    const before = loadPipelineText(S3_LITERAL, file);
    const p = before.problems.find((x) => x.code === 'literal-secret');
    assert.ok(p, 'core reports the literal secret');
    assert.equal(S3_LITERAL.slice(p.range.offset, p.range.offset + p.range.length), '"wJalrXUtnFEMI/K7MDENG"');
    const edit = replaceValueWithSecretRef(S3_LITERAL, p.path, 'S3_CARS_SECRET_KEY');
    assert.ok(edit);
    const after = applyTextEdits(S3_LITERAL, [edit]);
    assert.ok(after.includes('"secretKey": "${secret:S3_CARS_SECRET_KEY}"'));
    assert.ok(!after.includes('wJalr'));
    assert.equal(loadPipelineText(after, file).problems.filter((x) => x.severity === 'error').length, 0);
  });

  it('replaces secretKeyEncrypted in place with secretKey', () => {
    const text = S3_LITERAL.replace('"secretKey": "wJalrXUtnFEMI/K7MDENG"', '"secretKeyEncrypted": "ENC(abc)"');
    const p = loadPipelineText(text, file).problems.find((x) => x.code === 'secret-key-encrypted');
    assert.ok(p);
    const edits = replaceEncryptedSecret(text, p.path.slice(0, -1), 'KEY');
    const after = applyTextEdits(text, edits);
    assert.ok(after.includes('"accessKey": "AKIAEXAMPLE",\n        "secretKey": "${secret:KEY}"\n'), after);
    assert.ok(!after.includes('secretKeyEncrypted'));
    assert.equal(loadPipelineText(after, file).pipeline?.name, 'Cars');
  });

  it('adds an import step before the actions, and an action at the end', () => {
    const base = S3_LITERAL.replace('"wJalrXUtnFEMI/K7MDENG"', '"${secret:K}"');
    let text = applyTextEdits(base, addStepEdits(base, { name: 'Local', builtinTransformationBlock: { type: 'folder-to-project', path: './raw-images' } }));
    text = applyTextEdits(text, addStepEdits(text, { name: 'More actions', builtinTransformationBlock: { type: 'project-action', createVersion: true } }));
    const loaded = loadPipelineText(text, file);
    assert.deepEqual(loaded.problems.filter((p) => p.severity === 'error'), []);
    assert.deepEqual(loaded.pipeline?.steps.map((s) => s.name), ['Fetch cars', 'Local', 'Actions', 'More actions']);
  });

  it('suggests and validates secret names', () => {
    assert.equal(suggestSecretName('Fetch data from s3://my-bucket/cars', 'secretKey', 's3-to-project'), 'S3_MY_BUCKET_CARS_SECRET_KEY');
    assert.equal(validateSecretName('S3_KEY'), undefined);
    assert.ok(validateSecretName('1abc'));
    assert.ok(validateSecretName(''));
  });

  it('finds the dataset folder the way the core does (top-level key only)', () => {
    // The editor asks the core's datasetDirFor (through the loader); these are the cases its own copies got wrong or right.
    assert.equal(datasetDirFor('/w/p.pipeline.json', '{"dataset": "data/x"}'), path.resolve('/w/data/x'));
    assert.equal(datasetDirFor('/w/p.pipeline.json', '{'), path.resolve('/w/dataset'));
    assert.equal(datasetDirFor('/w/p.pipeline.json', '{"steps": [{"dataset": "nested"}]}'), path.resolve('/w/dataset'));
  });

  it('knows every import block type the core knows', () => {
    for (const type of IMPORT_TYPES) {
      const o = outlinePipeline(JSON.stringify({ steps: [{ name: 'x', builtinTransformationBlock: { type, path: 'p' } }] }));
      assert.equal(o?.steps[0].kind, 'import', type);
    }
    assert.equal(outlinePipeline(JSON.stringify({ steps: [{ name: 'x', builtinTransformationBlock: { type: 'project-action' } }] }))?.steps[0].kind, 'action');
  });
});

describe('vscode glue: completion snippets', () => {
  it('offers every builtin block type', () => {
    const types = new Set(BLOCK_SNIPPETS.map((s) => s.type));
    assert.deepEqual([...types].sort(), ['azure-to-project', 'folder-to-project', 'gcs-to-project', 'project-action', 's3-to-project']);
  });

  it('every snippet, expanded with its defaults, is a valid step the core accepts', () => {
    for (const s of BLOCK_SNIPPETS) {
      const step = expandSnippet(stepSnippet(s));
      const text = `{"name": "t", "steps": [${step}]}`;
      const loaded = loadPipelineText(text, file);
      const errors = loaded.problems.filter((p) => p.severity === 'error');
      assert.deepEqual(errors.map((e) => e.message), [], `${s.label}:\n${step}`);
      assert.ok(/\$\{1[:|]/.test(s.block), `${s.label} has a first tab stop`);
    }
  });

  it('knows where a whole step or block can go', () => {
    const text = '{"name": "x", "steps": [ ], "z": {"steps": 1}}';
    const inSteps = getLocation(text, text.indexOf('[') + 1);
    assert.equal(completionSite(inSteps.path, inSteps.isAtPropertyKey, false), 'step');
    const t2 = '{"name": "x", "steps": [{"name": "a", "builtinTransformationBlock": }]}';
    const atBlock = getLocation(t2, t2.indexOf('Block": ') + 8);
    assert.equal(completionSite(atBlock.path, atBlock.isAtPropertyKey, false), 'block');
    const atName = getLocation(t2, t2.indexOf('"a"') + 1);
    assert.equal(completionSite(atName.path, atName.isAtPropertyKey, false), undefined);
  });
});

describe('vscode glue: schema docs and problems', () => {
  it('documents a block type with its fields from the schema', () => {
    const d = blockTypeDoc('s3-to-project');
    assert.ok(d?.includes('Import from AWS S3'));
    assert.ok(d?.includes('`path` (required)'));
    assert.ok(d?.includes('`secretKey`'));
    assert.equal(blockTypeDoc('nope'), undefined);
  });

  it('documents a property by path, through the block type', () => {
    const d = propertyDoc(['steps', 0, 'builtinTransformationBlock', 'labelStrategy'], 'folder-to-project');
    assert.ok(d?.includes('infer-from-file-name'));
    assert.ok(propertyDoc(['intervalStr'])?.includes('15m'));
  });

  it('shows schema and semantic problems itself and leaves only JSON syntax to the JSON service', () => {
    const text = '{"name": "x", "steps": [{"name": "a", "builtinTransformationBlock": {"type": "folder-to-project", "path": "./missing", "bogus": 1}}]}';
    const loaded = loadPipelineText(text, file);
    const shown = editorProblems(loaded.problems);
    assert.ok(shown.some((p) => p.source === 'schema' && p.message.startsWith('Unknown property "bogus"')));
    assert.ok(shown.some((p) => p.code === 'unreachable-path'));
    const syntax = loadPipelineText('{"name": "x",, "steps": []}', file).problems;
    assert.ok(syntax.length > 0 && syntax.every(isJsonServiceProblem));
    assert.deepEqual(editorProblems(syntax), []);
  });
});

describe('vscode glue: runs', () => {
  const run: RunRecord = {
    id: '20250101T000000Z-abc',
    pipeline: 'Cars',
    pipelineFile: file,
    trigger: 'codelens',
    startedAt: '2025-01-01T00:00:00.000Z',
    endedAt: '2025-01-01T00:00:02.500Z',
    durationMs: 2500,
    status: 'partial',
    dryRun: false,
    counts: { ...emptyCounts(), new: 3, rejected: 1 },
    steps: [
      {
        name: 'Fetch',
        type: 'folder-to-project',
        status: 'partial',
        counts: { ...emptyCounts(), new: 3, rejected: 1 },
        byCategoryLabel: { training: { cars: { ...emptyCounts(), new: 2 } }, testing: { cars: { ...emptyCounts(), new: 1 } } },
        warnings: ['1 file at the root'],
        errors: [],
        problems: [{ key: 'a/../b', reason: 'a ".." segment' }],
        durationMs: 2400,
      },
    ],
  };

  it('formats durations and counts', () => {
    assert.equal(formatDuration(850), '850 ms');
    assert.equal(formatDuration(2500), '2.5 s');
    assert.equal(formatDuration(125_000), '2 min 5 s');
    assert.equal(countsSummary(run.counts), '3 new · 1 rejected');
  });

  it('writes a report per step and per category × label, with warnings and rejections', () => {
    const md = runReportMarkdown(run, { orderedMetrics, tableCells });
    assert.ok(md.includes('Cars: partial'));
    assert.ok(md.includes('| training | cars | 2 | 0 | 0 | 0 |'));
    assert.ok(md.includes('1 file at the root'));
    assert.ok(md.includes('a ".." segment'));
  });

  it('computes the next scheduled run', () => {
    const now = new Date(2025, 0, 1, 10, 7);
    const c = { nextRunTime };
    assert.equal(nextRun(c, { schedule: '0 3 * * *' }, undefined, now)?.getHours(), 3);
    assert.equal(nextRun(c, { intervalStr: '15m' }, new Date(2025, 0, 1, 10, 0).toISOString(), now)?.getMinutes(), 15);
    // An interval whose last run is long past: the next slot after now.
    const n = nextRun(c, { intervalStr: '1h' }, new Date(2024, 0, 1, 9, 30).toISOString(), now);
    assert.ok(n && n.getTime() > now.getTime() && n.getTime() - now.getTime() <= 3_600_000);
    assert.equal(nextRun(c, {}, undefined, now), undefined);
    assert.ok(describeNextRun(c, { intervalStr: '4h' }, undefined, now)?.startsWith('Next run '));
  });

  it('formats bytes as the core does', () => {
    for (const n of [0, 1, 1023, 1024, 1536, 10 * 1024, 5 * 1024 ** 2, 3.2 * 1024 ** 3, 2 * 1024 ** 4, 5000 * 1024 ** 4]) assert.equal(formatBytes(n), coreFormatBytes(n), String(n));
  });

  it('throttles progress but always delivers the last value', () => {
    let t = 0;
    const seen: number[] = [];
    const th = throttle<number>(100, (v) => seen.push(v), () => t);
    for (let i = 0; i < 10; i++) {
      th.push(i);
      t += 30;
    }
    th.flush();
    assert.deepEqual(seen, [0, 4, 8, 9]);
  });
});

describe('vscode glue: run records and files the preview may open', () => {
  it('reads the newest run records without blocking, skipping broken ones', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsp-runs-'));
    const rec = (id: string) => ({ id, pipeline: 'P', pipelineFile: file, trigger: 'manual', startedAt: id, status: 'success', dryRun: false, steps: [], counts: emptyCounts() });
    for (const id of ['20250101T000000Z-a', '20250102T000000Z-b', '20250103T000000Z-c']) fs.writeFileSync(path.join(dir, `${id}.json`), JSON.stringify(rec(id)));
    fs.writeFileSync(path.join(dir, '20250104T000000Z-d.json'), '{"cut short');
    fs.writeFileSync(path.join(dir, '20250105T000000Z-e.json.tmp-1'), '{}');
    assert.deepEqual((await readRuns(dir, 50)).map((r) => r.id), ['20250103T000000Z-c', '20250102T000000Z-b', '20250101T000000Z-a']);
    assert.deepEqual((await readRuns(dir, 2)).map((r) => r.id), ['20250103T000000Z-c']);
    assert.deepEqual(await readRuns(path.join(dir, 'missing'), 50), []);
  });

  it('opens only files inside the dataset folder or the workspace', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'dsp-open-'));
    const ws = path.join(root, 'ws');
    const dataset = path.join(root, 'elsewhere', 'dataset');
    fs.mkdirSync(path.join(ws, 'sub'), { recursive: true });
    fs.mkdirSync(dataset, { recursive: true });
    fs.writeFileSync(path.join(ws, 'sub', 'a.txt'), 'a');
    fs.writeFileSync(path.join(dataset, 'b.jpg'), 'b');
    fs.writeFileSync(path.join(root, 'secret.txt'), 's');
    fs.symlinkSync(path.join(root, 'secret.txt'), path.join(ws, 'link.txt'));
    const roots = [dataset, ws];
    assert.equal(await mayOpenFromPreview(path.join(ws, 'sub', 'a.txt'), roots), true);
    assert.equal(await mayOpenFromPreview(path.join(dataset, 'b.jpg'), roots), true);
    assert.equal(await mayOpenFromPreview(path.join(root, 'secret.txt'), roots), false);
    assert.equal(await mayOpenFromPreview(path.join(ws, '..', 'secret.txt'), roots), false);
    assert.equal(await mayOpenFromPreview(path.join(ws, 'link.txt'), roots), false, 'a symlink out of the workspace');
    assert.equal(await mayOpenFromPreview('/etc/passwd', roots), false);
  });
});
