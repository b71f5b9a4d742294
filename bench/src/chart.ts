import { writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { StepRecord } from './measure.js';

interface Series {
  label: string;
  color: string;
  dash?: string;
  points: { x: number; y: number }[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

/**
 * Builds an SVG chart of end-to-end latency (p50 and p99) against delivered envelopes/s for
 * every load scenario (log-scale latency).
 * @param records the run's steps
 * @param title chart title
 * @returns SVG markup
 */
export function latencySvg(records: StepRecord[], title: string): string {
  const byScenario = new Map<string, StepRecord[]>();
  for (const r of records) {
    if (r.e2eMs.count === 0) continue;
    byScenario.set(r.scenario, [...(byScenario.get(r.scenario) ?? []), r]);
  }
  const series: Series[] = [];
  let ci = 0;
  for (const [scenario, rs] of byScenario) {
    const color = COLORS[ci++ % COLORS.length] as string;
    const sorted = [...rs].sort((a, b) => a.deliveredPerSec - b.deliveredPerSec);
    series.push({ label: `${scenario} p50`, color, points: sorted.map((r) => ({ x: r.deliveredPerSec, y: r.e2eMs.p50 })) });
    series.push({ label: `${scenario} p99`, color, dash: '6 4', points: sorted.map((r) => ({ x: r.deliveredPerSec, y: r.e2eMs.p99 })) });
  }
  const W = 960;
  const H = 560;
  const m = { l: 80, r: 260, t: 50, b: 60 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const all = series.flatMap((s) => s.points);
  const xMax = niceMax(Math.max(1, ...all.map((p) => p.x)));
  const yMinLog = Math.floor(Math.log10(Math.max(0.1, Math.min(...all.map((p) => Math.max(p.y, 0.1)), 1))));
  const yMaxLog = Math.ceil(Math.log10(Math.max(10, ...all.map((p) => p.y))));
  const sx = (x: number) => m.l + (x / xMax) * pw;
  const sy = (y: number) => m.t + ph - ((Math.log10(Math.max(y, 0.1)) - yMinLog) / (yMaxLog - yMinLog || 1)) * ph;
  const parts: string[] = [];
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${m.l}" y="28" font-size="18" font-weight="bold">${esc(title)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const x = (xMax / 5) * i;
    parts.push(`<line x1="${sx(x)}" y1="${m.t}" x2="${sx(x)}" y2="${m.t + ph}" stroke="#eee"/>`);
    parts.push(`<text x="${sx(x)}" y="${m.t + ph + 20}" font-size="12" text-anchor="middle">${Math.round(x).toLocaleString('en')}</text>`);
  }
  for (let e = yMinLog; e <= yMaxLog; e++) {
    const y = 10 ** e;
    parts.push(`<line x1="${m.l}" y1="${sy(y)}" x2="${m.l + pw}" y2="${sy(y)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.l - 8}" y="${sy(y) + 4}" font-size="12" text-anchor="end">${y >= 1 ? y : y.toFixed(1)} ms</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 15}" font-size="14" text-anchor="middle">delivered envelopes / s</text>`);
  parts.push(`<text transform="translate(20 ${m.t + ph / 2}) rotate(-90)" font-size="14" text-anchor="middle">end-to-end latency (log)</text>`);
  series.forEach((s, i) => {
    const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2" ${s.dash ? `stroke-dasharray="${s.dash}"` : ''}/>`);
    for (const p of s.points) parts.push(`<circle cx="${sx(p.x)}" cy="${sy(p.y)}" r="3.5" fill="${s.color}"/>`);
    const ly = m.t + 10 + i * 22;
    parts.push(`<line x1="${m.l + pw + 20}" y1="${ly}" x2="${m.l + pw + 50}" y2="${ly}" stroke="${s.color}" stroke-width="2" ${s.dash ? `stroke-dasharray="${s.dash}"` : ''}/>`);
    parts.push(`<text x="${m.l + pw + 58}" y="${ly + 4}" font-size="12">${esc(s.label)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">${parts.join('')}</svg>`;
}

function niceMax(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const f of [1, 2, 2.5, 5, 10]) if (f * p >= v) return f * p;
  return 10 * p;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Renders the SVG in Debian's Chromium (playwright-core, never a downloaded browser) and
 * writes a PNG. Also writes the SVG next to it.
 * @param svg the chart
 * @param pngPath output path
 */
export async function renderPng(svg: string, pngPath: string): Promise<void> {
  writeFileSync(pngPath.replace(/\.png$/, '.svg'), svg);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 960, height: 560 } });
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    await page.locator('svg').screenshot({ path: pngPath });
  } finally {
    await browser.close();
  }
}
