/**
 * `npm run search -w bench [-- --messages=100000 --queries=200 --live=200]`: local search in
 * Chromium with the real IndexedDB store (docs/benchmarks.md "Search"): the time to build the
 * index over N stored messages, query latency (p50/p95), recall against a brute-force scan, and
 * the cost of a live message write that keeps the index in step. Prints a JSON summary and
 * writes bench/results/search-<timestamp>.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openBenchPage, pct } from '../bench-page.js';
import { REPO_ROOT } from '../stack.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    queries: { type: 'string', default: '200' },
    live: { type: 'string', default: '200' },
    out: { type: 'string', default: path.join(REPO_ROOT, 'bench', 'results') },
  },
});
const n = (v: string | undefined) => Number(v);

const stats = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return {
    count: ms.length,
    medianMs: r(pct(s, 50)),
    p95Ms: r(pct(s, 95)),
    maxMs: r(s.at(-1) ?? NaN),
  };
};

type Bench = {
  seed(count: number): Promise<number>;
  build(): Promise<{ ms: number; indexed: number }>;
  run(q: number): Promise<{ ms: number[]; recallChecked: number; missed: string[] }>;
  live(count: number): Promise<number[]>;
};

const { browser, call, close } = await openBenchPage<Bench>(import.meta.dirname, 'benchSearch');
try {
  process.stderr.write(`seeding ${values.messages} messages…\n`);
  const seedMs = await call('seed', n(values.messages));
  process.stderr.write(`building the index…\n`);
  const built = await call('build');
  process.stderr.write(`indexed ${built.indexed} in ${Math.round(built.ms)} ms; querying…\n`);
  const queried = await call('run', n(values.queries));
  const live = await call('live', n(values.live));
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT })
    .toString()
    .trim();
  const result = {
    bench: 'search',
    commit,
    date: new Date().toISOString(),
    machine: `${os.cpus().length}× ${os.cpus()[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    loadAvg1m: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
    chromium: browser.version(),
    messages: n(values.messages),
    seedMs: Math.round(seedMs),
    indexBuildMs: Math.round(built.ms),
    indexed: built.indexed,
    query: stats(queried.ms),
    recall: {
      checked: queried.recallChecked,
      missed: queried.missed.length,
      missedQueries: queried.missed.slice(0, 10),
    },
    liveWrite: stats(live),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  mkdirSync(values.out!, { recursive: true });
  writeFileSync(
    path.join(values.out!, `search-${result.date.replace(/[:.]/g, '-')}.json`),
    JSON.stringify(result, null, 2),
  );
} finally {
  await close();
}
