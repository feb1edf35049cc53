// The preview page's filtering and counting (pure; the page renders only what these return).
import * as assert from 'node:assert/strict';
import { filterRows, labelBars, totals, visibleWindow } from '../../src/webview/model';
import type { PreviewRow, PreviewStepSummary } from '../../src/webview/protocol';

function rows(n: number): PreviewRow[] {
  const out: PreviewRow[] = [];
  for (let i = 0; i < n; i++) {
    const label = ['cars', 'bikes', 'trucks'][i % 3];
    out.push({ step: 's', key: `${label}/${i}.jpg`, size: 10, label, category: i % 5 === 0 ? 'testing' : 'training', path: `training/${label}/${i}.jpg`, status: 'new', action: i % 1000 === 7 ? 'reject' : 'download', reason: i % 1000 === 7 ? 'bad key' : undefined });
  }
  return out;
}

describe('vscode webview model', () => {
  it('filters 100,000 rows by search, action, category and label', () => {
    const all = rows(100_000);
    const r = filterRows(all, { search: 'bikes', action: 'download', category: 'testing', label: '' });
    assert.ok(r.length > 0 && r.every((x) => x.label === 'bikes' && x.category === 'testing' && x.action === 'download'));
    assert.equal(filterRows(all, { search: '', action: 'reject', category: '', label: '' }).length, 100);
    assert.equal(filterRows(all, { search: 'BAD KEY', action: '', category: '', label: '' }).length, 100);
  });

  it('counts labels × categories across steps', () => {
    const steps: PreviewStepSummary[] = [
      { step: 'a', type: 'folder-to-project', sourceId: 'x', objects: 5, byCategoryLabel: { training: { cars: 3 }, validation: { cars: 2 }, testing: { cars: 1, '(unlabeled)': 1 } }, counts: { new: 5, rejected: 0 }, warnings: [] },
      { step: 'b', type: 'folder-to-project', sourceId: 'y', objects: 2, byCategoryLabel: { training: { bikes: 2 } }, counts: { new: 1, changed: 1, rejected: 1 }, warnings: ['w'] },
    ];
    assert.deepEqual(labelBars(steps), [
      { label: 'cars', training: 3, validation: 2, testing: 1, total: 6 },
      { label: 'bikes', training: 2, validation: 0, testing: 0, total: 2 },
      { label: '(unlabeled)', training: 0, validation: 0, testing: 1, total: 1 },
    ]);
    assert.deepEqual(totals(steps), { objects: 7, training: 5, validation: 2, testing: 2, download: 7, rejected: 1, labels: 2 });
  });

  it('renders only the visible window of rows', () => {
    assert.deepEqual(visibleWindow(0, 240, 24, 100_000), { start: 0, end: 20 });
    assert.deepEqual(visibleWindow(24 * 50_000, 240, 24, 100_000), { start: 49_990, end: 50_020 });
    assert.deepEqual(visibleWindow(0, 240, 24, 3), { start: 0, end: 3 });
  });
});
