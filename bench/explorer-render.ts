// The Data Explorer page in Chromium (Debian's, through playwright-core): time to first render
// and the frame time while panning, at 10,000 and 100,000 points. The page is the real bundle
// (dist/webview/explorer.js) in a page that stands in for the webview (acquireVsCodeApi). Run
// after `node esbuild.mjs && npx tsc -p .`: node out/bench/explorer-render.js
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { EXPLORER_BODY } from '../src/webview/explorerMarkup';
import type { ExplorerData } from '../src/webview/explorerProtocol';

const ROOT = path.resolve(__dirname, '../..');
const SIZES = (process.env.BENCH_POINTS ?? '10000,100000').split(',').map(Number);

function synthetic(n: number): ExplorerData {
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const labels = ['cars', 'bikes', 'trucks', 'people', 'dogs'];
  const d: ExplorerData = { title: `${n} points`, pipelineFile: 'x', updatedAt: new Date().toISOString(), embedding: 'image features', labels, categories: ['training', 'validation', 'testing'], findings: ['leakage', 'mislabeled'], paths: [], x: [], y: [], label: [], category: [], finding: [], quality: {} };
  for (let i = 0; i < n; i++) {
    const l = i % 6 === 5 ? -1 : i % 5;
    d.paths.push(`training/${l}/s${i}.png`);
    d.x.push(Math.min(1, Math.max(0, 0.15 + 0.17 * (l < 0 ? 2 : l) + (rnd() - 0.5) * 0.2)));
    d.y.push(rnd());
    d.label.push(l);
    d.category.push(i % 5 === 0 ? 2 : 0);
    d.finding.push(i % 97 === 0 ? 1 : 0);
  }
  return d;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsp-explorer-bench-'));
  const html = path.join(dir, 'page.html');
  fs.writeFileSync(html, `<!DOCTYPE html><html><head><link rel="stylesheet" href="file://${ROOT}/media/explorer.css"><style>body{width:1280px;height:800px}</style></head><body>${EXPLORER_BODY}<script>window.acquireVsCodeApi=()=>({postMessage(){}})</script><script src="file://${ROOT}/dist/webview/explorer.js"></script></body></html>`);
  const browser = await chromium.launch({ executablePath: process.env.E2E_CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
  const results: Record<string, unknown>[] = [];
  try {
    for (const n of SIZES) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`file://${html}`);
      const data = synthetic(n);
      const firstRenderMs = await page.evaluate(async (d) => {
        const canvas = document.getElementById('map')!;
        const t0 = performance.now();
        window.postMessage({ type: 'data', data: d }, '*');
        await new Promise<void>((resolve) => {
          const check = () => (Number(canvas.dataset.paints ?? 0) > 0 ? resolve() : requestAnimationFrame(check));
          check();
        });
        return performance.now() - t0;
      }, data);
      // Panning: 60 pointer moves of a drag, each followed by its frame; the JS work per frame is
      // the move handler (re-projecting every point) plus the paint.
      const frames = await page.evaluate(async () => {
        const canvas = document.getElementById('map') as HTMLCanvasElement;
        const r = canvas.getBoundingClientRect();
        const ev = (type: string, x: number) => new PointerEvent(type, { clientX: r.left + x, clientY: r.top + 300, pointerId: 1, bubbles: true });
        canvas.setPointerCapture = () => undefined;
        canvas.dispatchEvent(ev('pointerdown', 200));
        const out: number[] = [];
        for (let k = 1; k <= 60; k++) {
          const t = performance.now();
          canvas.dispatchEvent(ev('pointermove', 200 + k * 5));
          const handler = performance.now() - t;
          const before = Number(canvas.dataset.paints);
          await new Promise<void>((resolve) => {
            const check = () => (Number(canvas.dataset.paints) > before ? resolve() : requestAnimationFrame(check));
            requestAnimationFrame(check);
          });
          out.push(handler + Number(canvas.dataset.frameMs));
        }
        canvas.dispatchEvent(ev('pointerup', 500));
        return out;
      });
      // Zooming re-projects and redraws every point: 20 wheel steps, each with its frame.
      const zooms = await page.evaluate(async () => {
        const canvas = document.getElementById('map') as HTMLCanvasElement;
        const r = canvas.getBoundingClientRect();
        const out: number[] = [];
        for (let k = 0; k < 20; k++) {
          const t = performance.now();
          canvas.dispatchEvent(new WheelEvent('wheel', { clientX: r.left + 400, clientY: r.top + 300, deltaY: k < 10 ? -100 : 100, bubbles: true, cancelable: true }));
          const handler = performance.now() - t;
          const before = Number(canvas.dataset.paints);
          await new Promise<void>((resolve) => {
            const check = () => (Number(canvas.dataset.paints) > before ? resolve() : requestAnimationFrame(check));
            requestAnimationFrame(check);
          });
          out.push(handler + Number(canvas.dataset.frameMs));
        }
        return out;
      });
      const row = { points: n, firstRenderMs: Math.round(firstRenderMs), panFrameMsMedian: +median(frames).toFixed(1), panFrameMsMax: +Math.max(...frames).toFixed(1), zoomFrameMsMedian: +median(zooms).toFixed(1) };
      results.push(row);
      process.stdout.write(JSON.stringify(row) + '\n');
      await page.close();
    }
  } finally {
    await browser.close();
  }
  fs.mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'bench', 'results', 'explorer-render.json'), JSON.stringify({ at: new Date().toISOString(), results }, null, 1) + '\n');
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
