/**
 * `npm run bench [-- --quick] [-- --scenarios=pairs,groups,drain,idle,scale]`
 *
 * Starts its own stack (fresh database, exchange, Redis prefix, local JWKS, chat-service child
 * processes), drives it with real Socket.IO clients from worker processes, prints one JSON
 * line per step and a summary table, and writes bench/results/<timestamp>.json + .png.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './stack.js';
import type { StepRecord } from './measure.js';
import { drainScenario, groupsScenario, idleScenario, pairsScenario, type BenchContext } from './scenarios.js';
import { latencySvg, renderPng } from './chart.js';

const ALL = ['pairs', 'groups', 'drain', 'idle', 'scale'] as const;
type ScenarioName = (typeof ALL)[number];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scenarios: { type: 'string', default: ALL.join(',') },
    out: { type: 'string', default: path.join(REPO_ROOT, 'bench', 'results') },
    label: { type: 'string', default: '' },
  },
});

const quick = values.quick ?? false;
const wanted = (values.scenarios ?? '').split(',').map((s) => s.trim()).filter(Boolean) as ScenarioName[];
for (const s of wanted) if (!ALL.includes(s)) throw new Error(`unknown scenario ${s} (known: ${ALL.join(', ')})`);

const records: StepRecord[] = [];
const failures: { scenario: string; error: string }[] = [];
const ctx: BenchContext = {
  quick,
  emit(r) {
    r.loadAvg1m ??= Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
    records.push(r);
    process.stdout.write(`${JSON.stringify(r)}\n`);
  },
  log(msg) {
    process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
  },
};

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const commit = git(['rev-parse', 'HEAD']);
// the last commit that touched chat-service (what is measured, unless BENCH_CHAT_ENTRY points elsewhere)
const chatServiceCommit = git(['log', '-1', '--format=%H', '--', 'chat-service']);
const dirty = git(['status', '--porcelain', '--', 'chat-service', 'packages']) !== '';
const startedAt = new Date();
ctx.log(`commit ${commit}${dirty ? ' (+ uncommitted changes in chat-service/packages)' : ''}, ${quick ? 'quick' : 'full'} run: ${wanted.join(', ')}`);

// every idle socket is a file descriptor in chat-service and in a worker: check the limit the
// children inherit (raise it with `ulimit -n 20000` before `npm run bench` if this warns)
if (wanted.includes('idle') && !quick) {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const soft = Number(/Max open files\s+(\d+)/.exec(limits)?.[1] ?? 0);
  if (soft && soft < 12_000) ctx.log(`WARNING: open-files limit is ${soft}; the idle scenario needs about 11,000 in chat-service (ulimit -n 20000)`);
}

const scenarios: Record<ScenarioName, () => Promise<void>> = {
  pairs: () => pairsScenario(ctx, 1, quick ? [1000, 5000, 0] : [1000, 2500, 5000, 7500, 0], '1:1 pairs, 1 process'),
  groups: () => groupsScenario(ctx),
  drain: () => drainScenario(ctx),
  idle: () => idleScenario(ctx),
  scale: () => pairsScenario(ctx, 2, quick ? [5000, 0] : [2500, 5000, 7500, 0], '1:1 pairs, 2 processes'),
};

for (const name of wanted) {
  ctx.log(`scenario ${name}`);
  try {
    await scenarios[name]();
  } catch (err) {
    ctx.log(`scenario ${name} FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    failures.push({ scenario: name, error: err instanceof Error ? err.message : String(err) });
  }
}

printSummary(records);

mkdirSync(values.out as string, { recursive: true });
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
const base = path.join(values.out as string, `${stamp}${quick ? '-quick' : ''}`);
const results = {
  commit,
  uncommittedChanges: dirty,
  chatServiceCommit,
  chatServiceEntry: process.env.BENCH_CHAT_ENTRY ?? 'chat-service/src/main.ts (working tree)',
  label: values.label || undefined,
  mode: quick ? 'quick' : 'full',
  startedAt: startedAt.toISOString(),
  finishedAt: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
  steps: records,
  failures,
};
writeFileSync(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
ctx.log(`results: ${base}.json`);
if (records.some((r) => r.e2eMs.count > 0)) {
  try {
    await renderPng(latencySvg(records, `chat-service latency vs load — ${commit.slice(0, 10)} (${quick ? 'quick' : 'full'})`), `${base}.png`);
    ctx.log(`chart: ${base}.png`);
  } catch (err) {
    ctx.log(`chart failed: ${String(err)}`);
  }
}
const lost = records.reduce((s, r) => s + r.lost, 0);
process.exit(failures.length > 0 || lost > 0 ? 1 : 0);

function printSummary(rs: StepRecord[]): void {
  const head = ['scenario', 'step', 'conns', 'deliv/s', 'e2e p50', 'p95', 'p99', 'ack p50', 'ack p99', 'lost', 'dup', 'RSS MB', 'CPU %', 'CPU wait %', 'gen CPU %', 'PG rows/s', 'load', 'extra'];
  const rows = rs.map((r) => [
    r.scenario,
    r.step,
    String(r.connections),
    String(r.deliveredPerSec),
    ms(r.e2eMs.p50, r.e2eMs.count),
    ms(r.e2eMs.p95, r.e2eMs.count),
    ms(r.e2eMs.p99, r.e2eMs.count),
    ms(r.ackMs.p50, r.ackMs.count),
    ms(r.ackMs.p99, r.ackMs.count),
    `${r.lost}/${r.expected}`,
    String(r.duplicates),
    String(r.server.rssMB),
    String(r.server.cpuPercent),
    String(r.server.maxRunQueueWaitPercent),
    String(r.generatorCpuPercent),
    String(r.pg.rowsPerSec),
    String(r.loadAvg1m ?? ''),
    extraText(r),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
  process.stderr.write(`\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}\n${rows.map(line).join('\n')}\n\n`);
}

function ms(v: number, count: number): string {
  return count ? `${v}ms` : '-';
}

function extraText(r: StepRecord): string {
  const e = r.extra;
  if (!e) return Object.keys(r.ackErrors).length ? `ack errors ${JSON.stringify(r.ackErrors)}` : '';
  if ('bytesPerConnection' in e)
    return `marginal ${Math.round(Number(e.marginalBytesPerConnection) / 1024)} KB/conn${'slopeBytesPerConnection' in e ? `, slope ${Math.round(Number(e.slopeBytesPerConnection) / 1024)} KB/conn` : ''} (vs baseline ${Math.round(Number(e.bytesPerConnection) / 1024)} KB)`;
  if ('allReceivedMs' in e) return `all in ${e.allReceivedMs} ms, mailbox:empty ${e.mailboxEmptyMs} ms, left ${e.leftAfter}`;
  return JSON.stringify(e);
}
