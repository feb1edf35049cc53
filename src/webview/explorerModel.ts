// The Data Explorer's pure parts, shared by the page and unit tests: the map-to-screen transform,
// a grid index for hover and click at 100,000 points, lasso selection, filters and colours.

export const PAD = 24;

/** Pan and zoom: a screen point is (PAD + x·(w − 2·PAD))·scale + tx, likewise for y. */
export interface View {
  scale: number;
  tx: number;
  ty: number;
}

export function toScreen(v: View, w: number, h: number, x: number, y: number): [number, number] {
  return [(PAD + x * (w - 2 * PAD)) * v.scale + v.tx, (PAD + y * (h - 2 * PAD)) * v.scale + v.ty];
}

/** Zooms by `factor` keeping the screen point (sx, sy) where it is. */
export function zoomAt(v: View, sx: number, sy: number, factor: number): View {
  const scale = Math.min(200, Math.max(0.2, v.scale * factor));
  const f = scale / v.scale;
  return { scale, tx: sx - (sx - v.tx) * f, ty: sy - (sy - v.ty) * f };
}

export interface PointFilter {
  label: number | 'all';
  category: number | 'all';
  finding: number | 'all';
}

export function matches(f: PointFilter, label: number, category: number, findingMask: number): boolean {
  return (f.label === 'all' || f.label === label) && (f.category === 'all' || f.category === category) && (f.finding === 'all' || (findingMask & (1 << f.finding)) !== 0);
}

/** Screen positions bucketed in square cells, for the nearest point under the cursor. */
export class Grid {
  private readonly cells = new Map<number, number[]>();
  constructor(
    private readonly sx: Float32Array,
    private readonly sy: Float32Array,
    private readonly cell: number,
    visible: (i: number) => boolean,
  ) {
    for (let i = 0; i < sx.length; i++) {
      if (!visible(i)) continue;
      const k = this.key(Math.floor(sx[i] / cell), Math.floor(sy[i] / cell));
      const list = this.cells.get(k);
      if (list) list.push(i);
      else this.cells.set(k, [i]);
    }
  }

  private key(cx: number, cy: number): number {
    return (cx + 32768) * 65536 + (cy + 32768);
  }

  /** The nearest point within `radius` screen pixels, or -1. */
  nearest(x: number, y: number, radius: number): number {
    let best = -1;
    let bestD = radius * radius;
    const cx = Math.floor(x / this.cell);
    const cy = Math.floor(y / this.cell);
    const r = Math.ceil(radius / this.cell);
    for (let i = cx - r; i <= cx + r; i++) {
      for (let j = cy - r; j <= cy + r; j++) {
        for (const p of this.cells.get(this.key(i, j)) ?? []) {
          const d = (this.sx[p] - x) ** 2 + (this.sy[p] - y) ** 2;
          if (d <= bestD) {
            bestD = d;
            best = p;
          }
        }
      }
    }
    return best;
  }
}

/** Even-odd rule: is (x, y) inside the polygon? */
export function inPolygon(poly: [number, number][], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** The points of `candidates` inside the lasso, tested against its bounding box first. */
export function lassoSelect(poly: [number, number][], sx: Float32Array, sy: Float32Array, candidates: (i: number) => boolean): number[] {
  if (poly.length < 3) return [];
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const [x, y] of poly) {
    minX = Math.min(minX, x);
    minY = Math.min(minY, y);
    maxX = Math.max(maxX, x);
    maxY = Math.max(maxY, y);
  }
  const out: number[] = [];
  for (let i = 0; i < sx.length; i++) if (candidates(i) && sx[i] >= minX && sx[i] <= maxX && sy[i] >= minY && sy[i] <= maxY && inPolygon(poly, sx[i], sy[i])) out.push(i);
  return out;
}

// Tableau 10, readable on light and dark themes; unlabeled samples are grey.
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
export const UNLABELED_COLOR = '#8c8c8c';

export function labelColor(label: number): string {
  return label < 0 ? UNLABELED_COLOR : PALETTE[label % PALETTE.length];
}
