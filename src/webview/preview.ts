// The preview page: summary, warnings, a chart of samples per label × category, and a
// virtualized table of every object (100,000 rows stay responsive: only the visible rows exist
// in the DOM). Browser code only: it talks to the extension host through ./protocol messages.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { filterRows, labelBars, totals, UNLABELED, visibleWindow, type RowFilter } from './model';
import type { HostToWebview, PreviewData, PreviewRow, PreviewSource, PreviewViewState, WebviewToHost } from './protocol';

interface VsCodeApi {
  postMessage(msg: WebviewToHost): void;
  getState(): PreviewViewState | undefined;
  setState(s: PreviewViewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const ROW_HEIGHT = 24;

const saved = vscode.getState();
const filter: RowFilter = { search: saved?.search ?? '', action: saved?.action ?? '', category: saved?.category ?? '', label: saved?.label ?? '' };
let pendingScroll = saved?.scrollTop ?? 0;
// Kept in the state so that the host can restore this panel after a window reload.
let source: PreviewSource | undefined = saved?.source;
let data: PreviewData | undefined;
let shown: PreviewRow[] = [];

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function post(msg: WebviewToHost): void {
  vscode.postMessage(msg);
}

function saveState(): void {
  vscode.setState({ ...filter, scrollTop: $('rows').scrollTop, source });
}

function setStatus(kind: 'loading' | 'error' | 'ready', title: string, message = ''): void {
  $('status').dataset.kind = kind;
  $('status-title').textContent = title;
  $('status-message').textContent = message;
  $('status').hidden = kind === 'ready';
  $('content').hidden = kind !== 'ready';
}

function renderSummary(d: PreviewData): void {
  const t = totals(d.steps);
  $('title').textContent = d.title;
  $('subtitle').textContent = `${d.steps.length} import step${d.steps.length === 1 ? '' : 's'} · listed in ${d.durationMs} ms · ${new Date(d.generatedAt).toLocaleTimeString()}`;
  const cards: [string, string, number][] = [
    ['total-objects', 'Objects', t.objects],
    ['total-training', 'Training', t.training],
    ...(t.validation ? ([['total-validation', 'Validation', t.validation]] as [string, string, number][]) : []),
    ['total-testing', 'Testing', t.testing],
    ['total-labels', 'Labels', t.labels],
    ['total-download', 'To download', t.download],
    ['total-rejected', 'Rejected', t.rejected],
  ];
  const box = $('cards');
  box.replaceChildren();
  for (const [id, name, n] of cards) {
    const c = el('div', 'card');
    const v = el('div', 'card-value', n.toLocaleString('en-US'));
    v.id = id;
    c.append(v, el('div', 'card-name', name));
    if (id === 'total-rejected' && n > 0) c.classList.add('bad');
    box.append(c);
  }
}

function renderWarnings(d: PreviewData): void {
  const list = $('warnings');
  list.replaceChildren();
  const all = d.steps.flatMap((s) => s.warnings.map((w) => (d.steps.length > 1 ? `${s.step}: ${w}` : w)));
  $('warnings-section').hidden = all.length === 0;
  $('warnings-count').textContent = String(all.length);
  for (const w of all) {
    const li = el('li');
    const icon = document.createElement('vscode-icon');
    icon.setAttribute('name', 'warning');
    li.append(icon, el('span', undefined, w));
    list.append(li);
  }
}

function renderChart(d: PreviewData): void {
  const bars = labelBars(d.steps);
  const max = Math.max(1, ...bars.map((b) => b.total));
  const chart = $('chart');
  chart.replaceChildren();
  $('chart-empty').hidden = bars.length > 0;
  for (const b of bars) {
    const row = el('div', 'bar-row');
    row.dataset.label = b.label;
    const name = el('button', 'bar-label', b.label);
    name.title = `Filter the table by ${b.label}`;
    name.addEventListener('click', () => {
      filter.label = filter.label === b.label ? '' : b.label;
      syncControls();
      applyFilter();
    });
    const track = el('div', 'bar-track');
    const tr = el('div', 'bar training');
    tr.style.width = `${(b.training / max) * 100}%`;
    tr.title = `${b.label}: ${b.training} training`;
    const va = el('div', 'bar validation');
    va.style.width = `${(b.validation / max) * 100}%`;
    va.title = `${b.label}: ${b.validation} validation`;
    const te = el('div', 'bar testing');
    te.style.width = `${(b.testing / max) * 100}%`;
    te.title = `${b.label}: ${b.testing} testing`;
    track.append(tr, va, te);
    const withVal = bars.some((x) => x.validation > 0);
    const nums = el('div', 'bar-nums', withVal ? `${b.training} / ${b.validation} / ${b.testing}` : `${b.training} / ${b.testing}`);
    nums.title = withVal ? 'training / validation / testing' : 'training / testing';
    row.append(name, track, nums);
    chart.append(row);
  }
  // The label filter lists every label.
  const sel = $('filter-label');
  sel.replaceChildren(option('', 'All labels'), ...bars.map((b) => option(b.label, `${b.label} (${b.total})`)));
}

function option(value: string, text: string): HTMLElement {
  const o = document.createElement('vscode-option');
  o.setAttribute('value', value);
  o.textContent = text;
  return o;
}

function syncControls(): void {
  ($('search') as unknown as { value: string }).value = filter.search;
  ($('filter-action') as unknown as { value: string }).value = filter.action;
  ($('filter-category') as unknown as { value: string }).value = filter.category;
  ($('filter-label') as unknown as { value: string }).value = filter.label;
}

function applyFilter(): void {
  if (!data) return;
  shown = filterRows(data.rows, filter);
  $('shown-count').textContent = `${shown.length.toLocaleString('en-US')} of ${data.rows.length.toLocaleString('en-US')} objects`;
  $('spacer').style.height = `${shown.length * ROW_HEIGHT}px`;
  $('empty-rows').hidden = shown.length > 0;
  renderRows();
  saveState();
}

const pool: HTMLElement[] = [];

function renderRows(): void {
  const box = $('rows');
  const { start, end } = visibleWindow(box.scrollTop, box.clientHeight || 400, ROW_HEIGHT, shown.length);
  const body = $('rows-body');
  while (pool.length < end - start) {
    const r = el('div', 'row');
    r.setAttribute('role', 'row');
    for (const c of ['key', 'label', 'category', 'path', 'action']) {
      const cell = el('div', `cell ${c}`);
      cell.setAttribute('role', 'cell');
      r.append(cell);
    }
    pool.push(r);
    body.append(r);
  }
  for (let i = 0; i < pool.length; i++) {
    const r = pool[i];
    const item = shown[start + i];
    if (!item || start + i >= end) {
      r.hidden = true;
      continue;
    }
    r.hidden = false;
    r.style.transform = `translateY(${(start + i) * ROW_HEIGHT}px)`;
    const cells = r.children as HTMLCollectionOf<HTMLElement>;
    cells[0].textContent = item.key;
    cells[0].title = item.key;
    cells[1].textContent = (item.label ?? UNLABELED) + (item.labelSource === 'manual' ? ' (manual)' : '');
    cells[1].title = item.labelSource === 'manual' ? 'Labeled by a person: syncs keep this label' : '';
    cells[1].classList.toggle('muted', item.label === null);
    cells[2].textContent = item.category ?? '—';
    cells[3].textContent = item.path ?? '—';
    cells[3].title = item.path ?? '';
    cells[4].textContent = item.reason ? `${item.action}: ${item.reason}` : `${item.action} (${item.status})`;
    cells[4].title = cells[4].textContent;
    r.dataset.action = item.action;
  }
}

function render(d: PreviewData): void {
  data = d;
  setStatus('ready', '');
  renderSummary(d);
  renderWarnings(d);
  renderChart(d);
  syncControls();
  applyFilter();
  if (pendingScroll) {
    $('rows').scrollTop = pendingScroll;
    pendingScroll = 0;
    renderRows();
  }
}

function onControl(id: string, key: keyof RowFilter, event: string): void {
  $(id).addEventListener(event, (e) => {
    filter[key] = (e.target as unknown as { value: string }).value ?? '';
    applyFilter();
  });
}

function init(): void {
  onControl('search', 'search', 'input');
  onControl('filter-action', 'action', 'change');
  onControl('filter-category', 'category', 'change');
  onControl('filter-label', 'label', 'change');
  let frame = 0;
  $('rows').addEventListener('scroll', () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      renderRows();
      saveState();
    });
  });
  new ResizeObserver(() => renderRows()).observe($('rows'));
  $('refresh').addEventListener('click', () => post({ type: 'refresh' }));
  $('show-log').addEventListener('click', () => post({ type: 'showLog' }));
  window.addEventListener('message', (e: MessageEvent<HostToWebview>) => {
    const m = e.data;
    switch (m.type) {
      case 'source':
        source = m.source;
        saveState();
        break;
      case 'loading':
        if (!data) setStatus('loading', m.title, m.message);
        else $('subtitle').textContent = m.message;
        break;
      case 'progress':
        if (!data) $('status-message').textContent = m.message;
        else $('subtitle').textContent = m.message;
        break;
      case 'preview':
        render(m.data);
        break;
      case 'error':
        data = undefined;
        setStatus('error', m.title, m.message);
        break;
    }
  });
  post({ type: 'ready' });
}

init();
