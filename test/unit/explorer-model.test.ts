// The Data Explorer page's pure parts: the screen transform, zoom about the cursor, the hit-test
// grid (against a brute-force search), the lasso and the filters.
import * as assert from 'node:assert/strict';
import { Grid, inPolygon, lassoSelect, matches, toScreen, zoomAt, PAD } from '../../src/webview/explorerModel';

describe('data explorer page model', () => {
  it('maps [0,1] into the padded canvas and zooms about the cursor', () => {
    const v = { scale: 1, tx: 0, ty: 0 };
    assert.deepEqual(toScreen(v, 200, 100, 0, 0), [PAD, PAD]);
    assert.deepEqual(toScreen(v, 200, 100, 1, 1), [200 - PAD, 100 - PAD]);
    const z = zoomAt(v, 80, 40, 2);
    const before = toScreen(v, 200, 100, 0.4, 0.3);
    const after = toScreen(z, 200, 100, 0.4, 0.3);
    // The point under the cursor stays under it; others move away from it.
    const under = toScreen(v, 200, 100, (80 - PAD) / (200 - 2 * PAD), (40 - PAD) / (100 - 2 * PAD));
    assert.deepEqual(toScreen(z, 200, 100, (80 - PAD) / (200 - 2 * PAD), (40 - PAD) / (100 - 2 * PAD)).map((n) => +n.toFixed(6)), under.map((n) => +n.toFixed(6)));
    assert.ok(Math.hypot(after[0] - 80, after[1] - 40) > Math.hypot(before[0] - 80, before[1] - 40));
  });

  it('the grid finds the same nearest point as a brute-force search, and none beyond the radius', () => {
    let s = 7;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const n = 5000;
    const sx = new Float32Array(n).map(() => rnd() * 800);
    const sy = new Float32Array(n).map(() => rnd() * 600);
    const hidden = (i: number) => i % 10 === 3;
    const grid = new Grid(sx, sy, 16, (i) => !hidden(i));
    for (let k = 0; k < 300; k++) {
      const x = rnd() * 800;
      const y = rnd() * 600;
      let best = -1;
      let bestD = 8 * 8;
      for (let i = 0; i < n; i++) {
        const d = (sx[i] - x) ** 2 + (sy[i] - y) ** 2;
        if (!hidden(i) && d <= bestD) [best, bestD] = [i, d];
      }
      const got = grid.nearest(x, y, 8);
      if (best < 0) assert.equal(got, -1);
      else assert.equal((sx[got] - x) ** 2 + (sy[got] - y) ** 2, bestD);
    }
  });

  it('lasso selects the visible points inside the polygon only', () => {
    const square: [number, number][] = [[0, 0], [10, 0], [10, 10], [0, 10]];
    assert.equal(inPolygon(square, 5, 5), true);
    assert.equal(inPolygon(square, 15, 5), false);
    const sx = Float32Array.from([5, 15, 2, 9]);
    const sy = Float32Array.from([5, 5, 8, 9]);
    assert.deepEqual(lassoSelect(square, sx, sy, (i) => i !== 3), [0, 2]);
    assert.deepEqual(lassoSelect(square.slice(0, 2), sx, sy, () => true), [], 'two points are not a lasso');
  });

  it('filters by label (unlabeled is -1), category and finding bit', () => {
    assert.equal(matches({ label: 'all', category: 'all', finding: 'all' }, -1, 0, 0), true);
    assert.equal(matches({ label: -1, category: 'all', finding: 'all' }, -1, 2, 0), true);
    assert.equal(matches({ label: 0, category: 'all', finding: 'all' }, -1, 2, 0), false);
    assert.equal(matches({ label: 'all', category: 2, finding: 1 }, 3, 2, 0b10), true);
    assert.equal(matches({ label: 'all', category: 2, finding: 0 }, 3, 2, 0b10), false);
  });
});
