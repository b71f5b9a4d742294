/**
 * `npm run history -w bench [-- --messages=10000 --runs=9]`: the time to open a conversation
 * of 10,000 stored messages in Chromium with the real IndexedDB store (docs/benchmarks.md
 * "History"). Prints a JSON summary and writes bench/results/history-<timestamp>.json.
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

const stats = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  return {
    medianMs: Math.round(pct(s, 50) * 10) / 10,
    p95Ms: Math.round(pct(s, 95) * 10) / 10,
    runsMs: ms.map((x) => Math.round(x * 10) / 10),
  };
};

type Bench = {
  seed(a: number, b: number, c: number): Promise<number>;
  openIndexed(l: number): Promise<{ ms: number; count: number; newest: number }>;
  openOld(l: number): Promise<{ ms: number; count: number; newest: number }>;
};

const { browser, call, close } = await openBenchPage<Bench>(import.meta.dirname, 'benchHistory');
try {
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
  await close();
}
