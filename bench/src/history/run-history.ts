/**
 * `npm run history -w bench [-- --messages=10000 --runs=9]`: the time to open a conversation
 * of 10,000 stored messages in Chromium with the real IndexedDB store (docs/benchmarks.md
 * "History"). Prints a JSON summary and writes bench/results/history-<timestamp>.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { REPO_ROOT } from '../stack.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    others: { type: 'string', default: '200' },
    conversations: { type: 'string', default: '5' },
    runs: { type: 'string', default: '9' },
    limit: { type: 'string', default: '30' },
    out: { type: 'string', default: path.join(REPO_ROOT, 'bench', 'results') },
  },
});
const n = (v: string | undefined) => Number(v);
const runs = n(values.runs);
const limit = n(values.limit);

/** Nearest-rank percentile. */
function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
const stats = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  return {
    medianMs: Math.round(pct(s, 50) * 10) / 10,
    p95Ms: Math.round(pct(s, 95) * 10) / 10,
    runsMs: ms.map((x) => Math.round(x * 10) / 10),
  };
};

const bundle = await build({
  entryPoints: [path.join(import.meta.dirname, 'page.ts')],
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'browser',
  target: 'chrome120',
  conditions: ['source'],
  logLevel: 'error',
});
const js = bundle.outputFiles[0]!.text;
const server = createServer((req, res) => {
  if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
  else
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end('<!doctype html><script type="module" src="/page.js"></script>');
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => 'benchHistory' in globalThis);
  type Bench = {
    seed(a: number, b: number, c: number): Promise<number>;
    openIndexed(l: number): Promise<{ ms: number; count: number; newest: number }>;
    openOld(l: number): Promise<{ ms: number; count: number; newest: number }>;
  };
  const call = <K extends keyof Bench>(name: K, ...args: Parameters<Bench[K]>) =>
    page.evaluate(
      ([k, a]) =>
        (globalThis as unknown as { benchHistory: Record<string, (...x: unknown[]) => unknown> })
          .benchHistory[k as string]!(...(a as unknown[])),
      [name, args] as const,
    ) as ReturnType<Bench[K]>;

  process.stderr.write(
    `seeding ${values.messages} + ${values.conversations}×${values.others} messages through the store API…\n`,
  );
  const seedMs = await call('seed', n(values.messages), n(values.others), n(values.conversations));
  // The first open builds nothing (the seed wrote the index) but warms the JIT; not counted.
  await call('openIndexed', limit);
  await call('openOld', limit);
  const indexed: number[] = [];
  const old: number[] = [];
  for (let i = 0; i < runs; i++) {
    // Interleaved, so drifting machine load hits both alike.
    const a = await call('openIndexed', limit);
    const b = await call('openOld', limit);
    if (a.count !== limit || b.count !== limit || a.newest !== b.newest)
      throw new Error('the two paths disagree');
    indexed.push(a.ms);
    old.push(b.ms);
  }
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT })
    .toString()
    .trim();
  const result = {
    bench: 'history-open',
    commit,
    date: new Date().toISOString(),
    machine: `${os.cpus().length}× ${os.cpus()[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    loadAvg1m: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
    chromium: browser.version(),
    messages: n(values.messages),
    otherMessages: n(values.others) * n(values.conversations),
    pageSize: limit,
    seedMs: Math.round(seedMs),
    indexed: stats(indexed),
    decryptAll: stats(old),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  mkdirSync(values.out!, { recursive: true });
  writeFileSync(
    path.join(values.out!, `history-${result.date.replace(/[:.]/g, '-')}.json`),
    JSON.stringify(result, null, 2),
  );
} finally {
  await browser.close();
  server.close();
}
