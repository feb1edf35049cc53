// Every rule of the label and category contract (ARCHITECTURE.md), one test or more per rule.
import * as assert from 'node:assert/strict';
import { judgeKey } from '../../src/core/dataset/safety';
import { categorize, hashCategory } from '../../src/core/dataset/split';
import { labelFor } from '../../src/core/dataset/labels';
import { fitName, samplePath } from '../../src/core/dataset/layout';
import { planStep } from '../../src/core/run/plan';
import type { FolderBlock } from '../../src/core/pipeline/model';
import type { PlanItem, SourceObject } from '../../src/core/types';

const obj = (rel: string, size = 10, version = 'v1'): SourceObject => ({ key: rel, rel, size, version });
const block = (extra: Partial<FolderBlock> = {}): FolderBlock => ({ type: 'folder-to-project', path: '.', ...extra });
function plan(keys: (string | SourceObject)[], extra: Partial<FolderBlock> = {}) {
  return planStep(
    keys.map((k) => (typeof k === 'string' ? obj(k) : k)),
    { sourceId: 'test:src', step: 's', type: 'folder-to-project', block: block(extra) },
  );
}
const byKey = (items: PlanItem[], key: string) => {
  const it = items.find((i) => i.key === key);
  assert.ok(it, `no item for ${JSON.stringify(key)}`);
  return it;
};

describe('contract 1: key safety', () => {
  const rejected: [string, RegExp][] = [
    ['a//b.jpg', /empty path segment/],
    ['a/../b.jpg', /"\.\." path segment/],
    ['../b.jpg', /"\.\." path segment/],
    ['a/./b.jpg', /"\." path segment/],
    ['a\\b.jpg', /backslash/],
    ['/abs/b.jpg', /starts with "\/"/],
    ['a/b\u0000.jpg', /NUL/],
    ['a/b\u0007.jpg', /control character/],
    ['a/b\n.jpg', /control character/],
    ['a/b\u009b.jpg', /control character/],
    ['a/\ud800x.jpg', /not valid Unicode/],
  ];
  for (const [key, reason] of rejected) {
    it(`rejects ${JSON.stringify(key)} with a reason`, () => {
      const v = judgeKey(key);
      assert.equal(v.kind, 'rejected');
      assert.match((v as { reason: string }).reason, reason);
      const it = byKey(plan([key]).items, key);
      assert.equal(it.action, 'reject');
      assert.equal(it.status, 'rejected');
      assert.equal(it.path, null);
    });
  }

  it('skips folder markers (keys ending in /)', () => {
    for (const key of ['cars/', 'a/b/']) {
      assert.equal(judgeKey(key).kind, 'folder-marker');
      const it = byKey(plan([key]).items, key);
      assert.equal(it.action, 'skip');
      assert.equal(it.reason, 'folder marker');
    }
  });

  it('skips hidden files and anything in hidden folders, and reports them', () => {
    const p = plan(['cars/.DS_Store', '.git/config.json', 'cars/.cache/x.jpg', 'cars/ok.jpg']);
    for (const k of ['cars/.DS_Store', '.git/config.json', 'cars/.cache/x.jpg']) {
      const it = byKey(p.items, k);
      assert.equal(it.action, 'skip');
      assert.match(it.reason!, /^hidden/);
    }
    assert.equal(byKey(p.items, 'cars/ok.jpg').action, 'download');
    assert.ok(p.warnings.some((w) => /3 hidden/.test(w)));
  });

  it('accepts odd but safe keys: spaces, +, %, unicode, emoji', () => {
    for (const key of ['my cars/a b.jpg', 'c+d/e%20f.jpg', 'vélo/ß.jpg', '猫/🐱.png']) {
      assert.equal(judgeKey(key).kind, 'ok', key);
    }
  });
});

describe('contract 2: category', () => {
  it('training/ and testing/ folders decide the category and are removed from the path', () => {
    const p = plan(['training/cars/a.jpg', 'testing/cars/b.jpg']);
    const a = byKey(p.items, 'training/cars/a.jpg');
    assert.equal(a.category, 'training');
    assert.equal(a.label, 'cars');
    assert.equal(a.path, 'training/cars/a.jpg');
    const b = byKey(p.items, 'testing/cars/b.jpg');
    assert.equal(b.category, 'testing');
    assert.equal(b.path, 'testing/cars/b.jpg');
  });

  it('category training|testing puts everything there, even a testing/ folder', () => {
    const p = plan(['testing/cars/a.jpg', 'cars/b.jpg'], { category: 'training' });
    for (const it of p.items) assert.equal(it.category, 'training');
    // the testing folder is then just a folder: it becomes the label
    assert.equal(byKey(p.items, 'testing/cars/a.jpg').label, 'testing');
  });

  it('split is about 80/20 and deterministic', () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `cars/img${i}.jpg`);
    const n = keys.filter((k) => hashCategory(k) === 'training').length;
    assert.ok(n > 3850 && n < 4150, `training share ${n / 5000}`);
    for (const k of keys.slice(0, 100)) assert.equal(hashCategory(k), hashCategory(k));
  });

  it('splitRatio changes the share', () => {
    const keys = Array.from({ length: 4000 }, (_, i) => `x/${i}.jpg`);
    const n = keys.filter((k) => hashCategory(k, 0.5) === 'training').length;
    assert.ok(n > 1850 && n < 2150, `training share ${n / 4000}`);
  });

  it('a key keeps its category when other files are added to the bucket', () => {
    const before = plan(Array.from({ length: 200 }, (_, i) => `cars/${i}.jpg`));
    const after = plan([...Array.from({ length: 200 }, (_, i) => `cars/${i}.jpg`), ...Array.from({ length: 500 }, (_, i) => `cars/new${i}.jpg`), 'unknown/z.jpg']);
    for (const it of before.items) assert.equal(byKey(after.items, it.key).category, it.category, it.key);
  });

  it('a file named training at the root is not a category folder', () => {
    const { category, rest } = categorize(['training'], 'split');
    assert.deepEqual(rest, ['training']);
    assert.ok(category === 'training' || category === 'testing');
  });
});

describe('contract 3 and 4: labels', () => {
  it('infer-from-folder-name: first folder is the label; deeper folders organise within a class', () => {
    const p = plan(['cars/a.jpg', 'cars/red/b.jpg', 'unknown/c.jpg']);
    assert.equal(byKey(p.items, 'cars/a.jpg').label, 'cars');
    assert.equal(byKey(p.items, 'cars/red/b.jpg').label, 'cars');
    assert.match(byKey(p.items, 'cars/red/b.jpg').path!, /\/cars\/b\.jpg$/);
    assert.equal(byKey(p.items, 'unknown/c.jpg').label, 'unknown');
  });

  it('a file at the prefix root is unlabeled, with a warning', () => {
    const p = plan(['root.jpg', 'cars/a.jpg', 'dogs/b.jpg']);
    const it = byKey(p.items, 'root.jpg');
    assert.equal(it.label, null);
    assert.equal(it.action, 'download');
    assert.match(it.path!, /^\.unlabeled\/(training|testing)\/root\.jpg$/);
    assert.ok(it.warnings?.some((w) => /root/.test(w)));
    assert.ok(p.warnings.some((w) => /1 file\(s\) at the root/.test(w)));
  });

  it('unlabeled/ keeps samples unlabeled, also under training/ and testing/', () => {
    const p = plan(['unlabeled/a.jpg', 'testing/unlabeled/b.jpg', 'cars/c.jpg', 'dogs/d.jpg']);
    const a = byKey(p.items, 'unlabeled/a.jpg');
    assert.equal(a.label, null);
    assert.match(a.path!, /^\.unlabeled\/(training|testing)\/a\.jpg$/);
    const b = byKey(p.items, 'testing/unlabeled/b.jpg');
    assert.equal(b.label, null);
    assert.equal(b.category, 'testing');
    assert.equal(b.path, '.unlabeled/testing/b.jpg');
  });

  it('infer-from-file-name: the name up to its first dot', () => {
    assert.equal(labelFor(['x', 'cars.01741.jpg'], 'infer-from-file-name').label, 'cars');
    assert.equal(labelFor(['unknown.test_2547.jpg'], 'infer-from-file-name').label, 'unknown');
    assert.equal(labelFor(['noext'], 'infer-from-file-name').label, 'noext');
    const p = plan(['any/cars.01741.jpg'], { labelStrategy: 'infer-from-file-name' });
    assert.equal(p.items[0].label, 'cars');
  });

  it('keep-unlabeled labels nothing; a fixed label labels everything', () => {
    assert.equal(plan(['cars/a.jpg'], { labelStrategy: 'keep-unlabeled' }).items[0].label, null);
    assert.equal(plan(['cars/a.jpg', 'b.jpg'], { label: 'vehicle' }).items.every((i) => i.label === 'vehicle'), true);
  });

  it('warns when there is only one label', () => {
    assert.ok(plan(['cars/a.jpg', 'cars/b.jpg']).warnings.some((w) => /Only one label \(cars\)/.test(w)));
  });
});

describe('contract 5: layout and collisions', () => {
  it('<category>/<label>/<file> and unlabeled/<category>/<file>', () => {
    assert.equal(samplePath('training', 'cars', 'a.jpg', 'k'), 'training/cars/a.jpg');
    assert.equal(samplePath('testing', null, 'a.jpg', 'k'), '.unlabeled/testing/a.jpg');
  });

  it('same file name in two subfolders of one class is kept apart with a hash suffix', () => {
    const p = plan(['training/cars/red/a.jpg', 'training/cars/blue/a.jpg']);
    const paths = p.items.map((i) => i.path);
    assert.equal(new Set(paths).size, 2);
    assert.ok(paths.includes('training/cars/a.jpg'));
    assert.ok(paths.some((x) => /^training\/cars\/a~[0-9a-f]{8}\.jpg$/.test(x!)));
    assert.ok(p.warnings.some((w) => /1 name collision/.test(w)));
  });

  it('case-only differences collide (case-insensitive file systems)', () => {
    const p = plan(['training/cars/A.jpg', 'training/cars/a.jpg']);
    const folded = p.items.map((i) => i.path!.toLowerCase());
    assert.equal(new Set(folded).size, 2);
  });

  it('NFC and NFD spellings of one name collide and are kept apart', () => {
    const nfc = 'training/cars/caf\u00e9.jpg';
    const nfd = 'training/cars/cafe\u0301.jpg';
    assert.notEqual(nfc, nfd);
    const p = plan([nfc, nfd]);
    const normalized = p.items.map((i) => i.path!.normalize('NFC'));
    assert.equal(new Set(normalized).size, 2);
  });

  it('the suffix is stable: the same key gets the same path whatever order it is listed in', () => {
    const keys = ['training/cars/x/a.jpg', 'training/cars/y/a.jpg', 'training/cars/z/a.jpg'];
    const one = plan(keys).items.map((i) => `${i.key}=${i.path}`).sort();
    const two = plan([...keys].reverse()).items.map((i) => `${i.key}=${i.path}`).sort();
    assert.deepEqual(one, two);
  });

  it('names longer than 255 bytes are shortened stably', () => {
    const long = 'é'.repeat(200) + '.jpg';
    const a = fitName(long, 'k1');
    assert.ok(Buffer.byteLength(a) <= 255);
    assert.ok(a.endsWith('.jpg'));
    assert.equal(fitName(long, 'k1'), a);
    assert.notEqual(fitName(long, 'k2'), a);
  });

  it('plan-time duplicates: two new objects with the same declared MD5', () => {
    const etag = '"0123456789abcdef0123456789abcdef"';
    const md5 = (o: SourceObject): SourceObject => ({ ...o, md5: '0123456789abcdef0123456789abcdef' });
    const p = plan([md5(obj('cars/a.jpg', 5, etag)), md5(obj('cars/b.jpg', 5, etag)), obj('dogs/c.jpg', 5, 'other')]);
    const dup = p.items.filter((i) => i.status === 'duplicate');
    assert.equal(dup.length, 1);
    assert.match(dup[0].reason!, /same content as/);
    assert.equal(dup[0].action, 'skip');
    const allowed = plan([md5(obj('cars/a.jpg', 5, etag)), md5(obj('cars/b.jpg', 5, etag))], { allowDuplicates: true });
    // A version that looks like an MD5 is not taken for one: only what the source declares counts.
    assert.equal(plan([obj('cars/a.jpg', 5, etag), obj('cars/b.jpg', 5, etag)]).items.filter((i) => i.status === 'duplicate').length, 0);
    assert.equal(allowed.items.filter((i) => i.action === 'download').length, 2);
  });

  it('include/exclude globs filter keys with a reason', () => {
    const p = plan(['cars/a.jpg', 'cars/b.png', 'dogs/c.jpg'], { include: ['**/*.jpg'], exclude: ['dogs/**'] });
    assert.equal(byKey(p.items, 'cars/a.jpg').action, 'download');
    assert.match(byKey(p.items, 'cars/b.png').reason!, /not matched by include/);
    assert.match(byKey(p.items, 'dogs/c.jpg').reason!, /excluded by "dogs\/\*\*"/);
  });

  it('unknown file types and empty files fail the checklist before download', () => {
    const p = plan(['cars/a.exe', obj('cars/empty.jpg', 0), 'cars/noext']);
    for (const it of p.items) {
      assert.equal(it.action, 'skip');
      assert.match(it.reason!, /^checklist/);
    }
  });
});
