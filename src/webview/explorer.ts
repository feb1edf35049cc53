// The Data Explorer page: a canvas scatter plot of every sample (coloured by label), pan and zoom,
// hover with a thumbnail, click and lasso selection, filters by label, category and finding, and
// labeling of the selection through the host (assign, unlabel, move, undo). Browser code only.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { Grid, labelColor, lassoSelect, matches, toScreen, zoomAt, PAD, type PointFilter, type View } from './explorerModel';
import type { ExplorerData, ExplorerToHost, HostToExplorer } from './explorerProtocol';

interface VsCodeApi {
  postMessage(msg: ExplorerToHost): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>('map');
const ctx = canvas.getContext('2d')!;
const tip = $('tip');

let data: ExplorerData | undefined;
let view: View = { scale: 1, tx: 0, ty: 0 };
let filter: PointFilter = { label: 'all', category: 'all', finding: 'all' };
let selected = new Set<number>();
let sx = new Float32Array(0);
let sy = new Float32Array(0);
let grid: Grid | undefined;
let lasso: [number, number][] | undefined;
const thumbs = new Map<string, string>();
let hovered = -1;
/** A drag in progress: a pan, or (with Shift) a lasso. */
let drag: { x: number; y: number; view: View; moved: boolean; lasso: boolean } | undefined;
/** The point bitmap no longer matches the view, the filters or the data. */
let layerStale = true;

const visible = (i: number) => !!data && matches(filter, data.label[i], data.category[i], data.finding[i]);

function size(): { w: number; h: number } {
  const r = canvas.getBoundingClientRect();
  return { w: r.width, h: r.height };
}

/** Screen positions for the current view; the grid is rebuilt with them. */
function layout(): void {
  if (!data) return;
  const { w, h } = size();
  const n = data.x.length;
  if (sx.length !== n) {
    sx = new Float32Array(n);
    sy = new Float32Array(n);
  }
  for (let i = 0; i < n; i++) [sx[i], sy[i]] = toScreen(view, w, h, data.x[i], data.y[i]);
  grid = new Grid(sx, sy, 16, visible);
  layerStale = true;
  // What a test (or a person's tooling) needs to find a point on screen: the transform in CSS pixels.
  canvas.dataset.view = JSON.stringify({ pad: PAD, w, h, ...view });
}

let frame = 0;
function draw(): void {
  cancelAnimationFrame(frame);
  frame = requestAnimationFrame(paint);
}

/** The points, drawn once per view into a bitmap (pixels written directly: 100,000 points in a few
 * ms); panning moves the bitmap instead of drawing every point again. */
let layer: { canvas: HTMLCanvasElement; view: View; w: number; h: number } | undefined;
const colourCache = new Map<number, number>();

function packed(label: number): number {
  let c = colourCache.get(label);
  if (c === undefined) {
    const hex = labelColor(label);
    const [r, g, b] = [1, 3, 5].map((o) => parseInt(hex.slice(o, o + 2), 16));
    c = (255 << 24) | (b << 16) | (g << 8) | r; // RGBA bytes on a little-endian Uint32Array
    colourCache.set(label, c);
  }
  return c;
}

function renderLayer(w: number, h: number, dpr: number): void {
  const W = Math.round(w * dpr);
  const H = Math.round(h * dpr);
  const c = layer?.canvas ?? document.createElement('canvas');
  c.width = W;
  c.height = H;
  const lctx = c.getContext('2d')!;
  const img = lctx.createImageData(W, H);
  const px = new Uint32Array(img.data.buffer);
  const r = Math.max(1, Math.round((view.scale > 4 ? 3 : 2) * dpr));
  for (let i = 0; i < sx.length; i++) {
    if (!visible(i)) continue;
    const x0 = Math.round(sx[i] * dpr) - r;
    const y0 = Math.round(sy[i] * dpr) - r;
    if (x0 + 2 * r < 0 || y0 + 2 * r < 0 || x0 >= W || y0 >= H) continue;
    const colour = packed(data!.label[i]);
    for (let y = Math.max(0, y0); y < Math.min(H, y0 + 2 * r); y++) px.fill(colour, y * W + Math.max(0, x0), y * W + Math.min(W, x0 + 2 * r));
  }
  lctx.putImageData(img, 0, 0);
  layer = { canvas: c, view: { ...view }, w, h };
}

function paint(): void {
  const started = performance.now();
  const dpr = window.devicePixelRatio || 1;
  const { w, h } = size();
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    layer = undefined;
  }
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!data) return;
  const panning = !!drag && !drag.lasso && !!layer && layer.view.scale === view.scale && layer.w === w && layer.h === h;
  if (!panning && (!layer || layerStale)) {
    renderLayer(w, h, dpr);
    layerStale = false;
  }
  ctx.drawImage(layer!.canvas, Math.round((view.tx - layer!.view.tx) * dpr), Math.round((view.ty - layer!.view.ty) * dpr));
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const r = view.scale > 4 ? 3 : 2;
  ctx.strokeStyle = getComputedStyle(document.body).getPropertyValue('--vscode-focusBorder') || '#007fd4';
  ctx.lineWidth = 2;
  for (const i of selected) {
    if (!visible(i)) continue;
    const [x, y] = toScreen(view, w, h, data.x[i], data.y[i]);
    ctx.strokeRect(x - r - 2, y - r - 2, 2 * r + 4, 2 * r + 4);
  }
  if (lasso && lasso.length > 1) {
    ctx.beginPath();
    ctx.moveTo(lasso[0][0], lasso[0][1]);
    for (const [x, y] of lasso.slice(1)) ctx.lineTo(x, y);
    ctx.closePath();
    ctx.setLineDash([4, 3]);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  canvas.dataset.frameMs = (performance.now() - started).toFixed(2);
  canvas.dataset.paints = String(Number(canvas.dataset.paints ?? 0) + 1);
}

function option(value: string, text: string): HTMLElement {
  const o = document.createElement('vscode-option');
  o.setAttribute('value', value);
  o.textContent = text;
  return o;
}

function fillSelect(id: string, all: string, names: string[], counts: number[]): void {
  const s = $(id);
  s.replaceChildren(option('all', all), ...names.map((n, i) => option(String(i), `${n} (${counts[i]})`)));
  (s as unknown as { value: string }).value = 'all';
}

function countBy(values: number[], n: number, mask = false): number[] {
  const out = new Array<number>(n).fill(0);
  for (const v of values) {
    if (mask) for (let b = 0; b < n; b++) out[b] += (v >> b) & 1;
    else if (v >= 0) out[v]++;
  }
  return out;
}

function legend(): void {
  if (!data) return;
  const counts = countBy(data.label, data.labels.length);
  const unlabeled = data.label.filter((l) => l < 0).length;
  const items = data.labels.map((l, i) => [labelColor(i), `${l} ${counts[i]}`]);
  if (unlabeled) items.push([labelColor(-1), `unlabeled ${unlabeled}`]);
  $('legend').replaceChildren(
    ...items.map(([c, t]) => {
      const e = document.createElement('span');
      e.className = 'item';
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = c;
      e.append(sw, t);
      return e;
    }),
  );
}

function status(): void {
  if (!data) return;
  let shown = 0;
  for (let i = 0; i < data.x.length; i++) if (visible(i)) shown++;
  $('shown-count').textContent = `${shown} of ${data.x.length} samples shown`;
  $('selected-count').textContent = `${selected.size} selected`;
  const q = Object.entries(data.quality).filter(([, n]) => n > 0);
  $('quality').textContent = q.length ? `Findings: ${q.map(([k, n]) => `${k} ${n}`).join(', ')}` : 'No data-quality findings.';
}

function show(d: ExplorerData): void {
  data = d;
  selected = new Set([...selected].filter((i) => i < d.x.length));
  $('status').hidden = true;
  $('content').hidden = false;
  $('title').textContent = d.title;
  $('subtitle').textContent = `${d.x.length} samples · map from ${d.embedding} · ${new Date(d.updatedAt).toLocaleString()}`;
  fillSelect('filter-label', 'All labels', [...d.labels, 'unlabeled'], [...countBy(d.label, d.labels.length), d.label.filter((l) => l < 0).length]);
  fillSelect('filter-category', 'All categories', d.categories, countBy(d.category, d.categories.length));
  fillSelect('filter-finding', 'All findings', d.findings, countBy(d.finding, d.findings.length, true));
  filter = { label: 'all', category: 'all', finding: 'all' };
  legend();
  layout();
  status();
  draw();
}

function setFilter(): void {
  const v = (id: string) => (document.getElementById(id) as unknown as { value: string }).value;
  const num = (s: string): number | 'all' => (s === 'all' || s === '' ? 'all' : Number(s));
  const label = num(v('filter-label'));
  filter = { label: label !== 'all' && data && label === data.labels.length ? -1 : label, category: num(v('filter-category')), finding: num(v('filter-finding')) };
  layout();
  status();
  draw();
}

function tooltip(i: number, x: number, y: number): void {
  if (i < 0 || !data) {
    tip.hidden = true;
    return;
  }
  const p = data.paths[i];
  const findings = data.findings.filter((_, b) => (data!.finding[i] >> b) & 1);
  $('tip-path').textContent = p;
  $('tip-meta').textContent = `${data.label[i] < 0 ? 'unlabeled' : data.labels[data.label[i]]} · ${data.categories[data.category[i]]}${findings.length ? ` · ${findings.join(', ')}` : ''}`;
  const img = $<HTMLImageElement>('tip-img');
  const src = thumbs.get(p);
  if (src) img.src = src;
  else {
    img.removeAttribute('src');
    vscode.postMessage({ type: 'thumb', path: p });
  }
  tip.hidden = false;
  tip.style.left = `${Math.min(x + 14, size().w - 200)}px`;
  tip.style.top = `${Math.min(y + 14, size().h - 180)}px`;
}

function selectedPaths(): string[] {
  return data ? [...selected].map((i) => data!.paths[i]) : [];
}

// ------------------------------------------------------------------------ pointer and keys

function local(e: MouseEvent): [number, number] {
  const r = canvas.getBoundingClientRect();
  return [e.clientX - r.left, e.clientY - r.top];
}

canvas.addEventListener('pointerdown', (e) => {
  const [x, y] = local(e);
  canvas.setPointerCapture(e.pointerId);
  drag = { x, y, view, moved: false, lasso: e.shiftKey };
  if (e.shiftKey) lasso = [[x, y]];
});

canvas.addEventListener('pointermove', (e) => {
  const [x, y] = local(e);
  if (drag) {
    drag.moved ||= Math.abs(x - drag.x) + Math.abs(y - drag.y) > 3;
    if (drag.lasso) lasso!.push([x, y]);
    else view = { ...drag.view, tx: drag.view.tx + x - drag.x, ty: drag.view.ty + y - drag.y };
    draw();
    return;
  }
  const i = grid?.nearest(x, y, 8) ?? -1;
  if (i !== hovered) {
    hovered = i;
    tooltip(i, x, y);
  }
});

canvas.addEventListener('pointerup', (e) => {
  const [x, y] = local(e);
  const d = drag;
  drag = undefined;
  if (!d) return;
  if (d.moved && !d.lasso) layout(); // the pan ended: positions for hover and click, a fresh bitmap
  if (d.lasso) {
    const got = lassoSelect(lasso ?? [], sx, sy, visible);
    if (!(e.ctrlKey || e.metaKey)) selected.clear();
    for (const i of got) selected.add(i);
    lasso = undefined;
  } else if (!d.moved) {
    const i = grid?.nearest(x, y, 8) ?? -1;
    if (!(e.ctrlKey || e.metaKey)) selected.clear();
    if (i >= 0) {
      if (selected.has(i)) selected.delete(i);
      else selected.add(i);
    }
  }
  status();
  draw();
});

canvas.addEventListener('pointerleave', () => {
  hovered = -1;
  tip.hidden = true;
});

canvas.addEventListener(
  'wheel',
  (e) => {
    e.preventDefault();
    const [x, y] = local(e);
    view = zoomAt(view, x, y, Math.exp(-e.deltaY / 400));
    layout();
    draw();
  },
  { passive: false },
);

canvas.addEventListener('dblclick', () => {
  const i = [...selected][0];
  if (i !== undefined && data) vscode.postMessage({ type: 'open', path: data.paths[i] });
});

new ResizeObserver(() => {
  layout();
  draw();
}).observe(canvas);

for (const id of ['filter-label', 'filter-category', 'filter-finding']) $(id).addEventListener('change', setFilter);

$('assign').addEventListener('click', () => {
  const label = ((document.getElementById('label-input') as unknown as { value: string }).value ?? '').trim();
  if (!label) return message('Type the label to give the selected samples.');
  if (!selected.size) return message('Select samples first: click one, or Shift-drag a lasso around several.');
  vscode.postMessage({ type: 'assign', paths: selectedPaths(), label });
});
$('unlabel').addEventListener('click', () => (selected.size ? vscode.postMessage({ type: 'assign', paths: selectedPaths(), label: null }) : message('Select samples first.')));
$('move').addEventListener('click', () => {
  const category = (document.getElementById('move-category') as unknown as { value: string }).value;
  if (!selected.size) return message('Select samples first.');
  vscode.postMessage({ type: 'move', paths: selectedPaths(), category });
});
$('undo').addEventListener('click', () => vscode.postMessage({ type: 'undo' }));
$('refresh').addEventListener('click', () => vscode.postMessage({ type: 'refresh' }));
$('select-shown').addEventListener('click', () => {
  if (!data) return;
  selected = new Set();
  for (let i = 0; i < data.x.length; i++) if (visible(i)) selected.add(i);
  status();
  draw();
});
$('reset-view').addEventListener('click', () => {
  view = { scale: 1, tx: 0, ty: 0 };
  layout();
  draw();
});

function message(text: string): void {
  $('message').textContent = text;
}

window.addEventListener('message', (e: MessageEvent<HostToExplorer>) => {
  const m = e.data;
  switch (m.type) {
    case 'loading':
      $('status').hidden = false;
      $('status-title').textContent = 'Data Explorer';
      $('status-message').textContent = m.message;
      break;
    case 'data':
      show(m.data);
      break;
    case 'thumb':
      thumbs.set(m.path, m.src);
      if (hovered >= 0 && data?.paths[hovered] === m.path) $<HTMLImageElement>('tip-img').src = m.src;
      break;
    case 'applied':
      message(m.change.message);
      ($('undo') as unknown as { disabled: boolean }).disabled = !m.change.canUndo;
      break;
    case 'error':
      $('status').hidden = false;
      $('status').dataset.kind = 'error';
      $('status-title').textContent = m.title;
      $('status-message').textContent = m.message;
      break;
  }
});

vscode.postMessage({ type: 'ready' });
