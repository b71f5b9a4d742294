import type { Stack } from './stack.js';
import type { RunResult } from './load/client-host.js';
import type { WorkerPool } from './load/worker-pool.js';
import { cpuPercent, readProcStats, runQueueWaitPercent, type ProcStats } from './proc-stats.js';
import { round, summarize, type LatencySummary } from './stats.js';

/** One measured step: printed as one JSON line and stored in the results file. */
export interface StepRecord {
  scenario: string;
  step: string;
  /** chat-service processes. */
  processes: number;
  /** Authenticated sockets connected during the step. */
  connections: number;
  /** Offered message rate (messages/s, all senders); null = as fast as the window allows. */
  offeredMsgPerSec: number | null;
  /** Envelopes per message (1 for 1:1, members-1 for groups). */
  fanout: number;
  sent: number;
  acked: number;
  ackErrors: Record<string, number>;
  /** Envelopes delivered per second during the send window. */
  deliveredPerSec: number;
  /** Messages acked per second during the send window. */
  ackedPerSec: number;
  /** Acked message × recipient device pairs that never arrived. */
  lost: number;
  expected: number;
  duplicates: number;
  e2eMs: LatencySummary;
  ackMs: LatencySummary;
  windowMs: number;
  tailMs: number;
  server: ServerFigures;
  /** Load-generator CPU (all worker processes, % of one core). */
  generatorCpuPercent: number;
  pg: PgFigures;
  /** Scenario-specific figures (drain timings, memory per connection...). */
  extra?: Record<string, unknown>;
  /** 1-minute load average when the step ended (the machine may be shared with other work). */
  loadAvg1m?: number;
}

/** chat-service resource use over a step. */
export interface ServerFigures {
  /** Sum of RSS over processes at the end of the window (MB). */
  rssMB: number;
  /** Sum of CPU over processes (% of one core). */
  cpuPercent: number;
  perProcess: { pid: number; rssMB: number; cpuPercent: number; runQueueWaitPercent: number }[];
  /** Highest share of wall time a chat-service main thread was runnable but not running (machine oversubscribed). */
  maxRunQueueWaitPercent: number;
}

/** PostgreSQL row rates of the stack's database over a step (pg_stat_database deltas). */
export interface PgFigures {
  insertsPerSec: number;
  deletesPerSec: number;
  updatesPerSec: number;
  rowsPerSec: number;
  commitsPerSec: number;
}

/** A snapshot of every counter a step compares. */
export interface Snapshot {
  procs: ProcStats[];
  gen: ProcStats[];
  pg: Awaited<ReturnType<Stack['pgStats']>>;
}

/**
 * Reads the server, generator and database counters.
 * @param stack the stack
 * @param pool the generator
 * @returns the snapshot
 */
export async function snapshot(stack: Stack, pool: WorkerPool | undefined): Promise<Snapshot> {
  return { procs: stack.procStats(), gen: (pool?.pids() ?? []).map(readProcStats), pg: await stack.pgStats() };
}

/**
 * Server figures between two snapshots.
 * @param a before
 * @param b after
 * @returns figures
 */
export function serverFigures(a: Snapshot, b: Snapshot): ServerFigures {
  const perProcess = b.procs.map((p) => {
    const before = a.procs.find((x) => x.pid === p.pid) ?? p;
    return { pid: p.pid, rssMB: round(p.rssBytes / 2 ** 20, 1), cpuPercent: round(cpuPercent(before, p), 1), runQueueWaitPercent: round(runQueueWaitPercent(before, p), 1) };
  });
  return {
    maxRunQueueWaitPercent: Math.max(0, ...perProcess.map((p) => p.runQueueWaitPercent)),
    rssMB: round(perProcess.reduce((s, p) => s + p.rssMB, 0), 1),
    cpuPercent: round(perProcess.reduce((s, p) => s + p.cpuPercent, 0), 1),
    perProcess,
  };
}

/**
 * Database row rates between two snapshots.
 * @param a before
 * @param b after
 * @returns rates
 */
export function pgFigures(a: Snapshot, b: Snapshot): PgFigures {
  const s = (b.pg.at - a.pg.at) / 1000 || 1;
  const ins = (b.pg.inserted - a.pg.inserted) / s;
  const del = (b.pg.deleted - a.pg.deleted) / s;
  const upd = (b.pg.updated - a.pg.updated) / s;
  return {
    insertsPerSec: Math.round(ins),
    deletesPerSec: Math.round(del),
    updatesPerSec: Math.round(upd),
    rowsPerSec: Math.round(ins + del + upd),
    commitsPerSec: Math.round((b.pg.commits - a.pg.commits) / s),
  };
}

/**
 * Generator CPU between two snapshots.
 * @param a before
 * @param b after
 * @returns % of one core, all workers
 */
export function generatorCpu(a: Snapshot, b: Snapshot): number {
  let sum = 0;
  for (const p of b.gen) {
    const before = a.gen.find((x) => x.pid === p.pid);
    if (before) sum += cpuPercent(before, p);
  }
  return round(sum, 1);
}

/**
 * Merges per-worker run results into a step record.
 * @param base scenario/step identity
 * @param results per-worker results
 * @param a snapshot at the start of the window
 * @param b snapshot at the end of the window
 * @returns the record
 */
export function toStepRecord(
  base: Pick<StepRecord, 'scenario' | 'step' | 'processes' | 'connections' | 'offeredMsgPerSec' | 'fanout'> & { extra?: Record<string, unknown> },
  results: RunResult[],
  a: Snapshot,
  b: Snapshot,
): StepRecord {
  const sum = (f: (r: RunResult) => number) => results.reduce((s, r) => s + f(r), 0);
  const windowMs = Math.max(...results.map((r) => r.windowMs), 1);
  const ackErrors: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.ackErrors)) ackErrors[k] = (ackErrors[k] ?? 0) + v;
  const concat = (pick: (r: RunResult) => Float64Array) => {
    const out = new Float64Array(sum((r) => pick(r).length));
    let o = 0;
    for (const r of results) {
      out.set(pick(r), o);
      o += pick(r).length;
    }
    return out;
  };
  return {
    ...base,
    sent: sum((r) => r.sent),
    acked: sum((r) => r.acked),
    ackErrors,
    deliveredPerSec: Math.round(sum((r) => r.deliveriesInWindow) / (windowMs / 1000)),
    ackedPerSec: Math.round(sum((r) => r.acked) / (windowMs / 1000)),
    lost: sum((r) => r.lost),
    expected: sum((r) => r.expected),
    duplicates: sum((r) => r.duplicates),
    e2eMs: summarize(concat((r) => r.e2e)),
    ackMs: summarize(concat((r) => r.ack)),
    windowMs: Math.round(windowMs),
    tailMs: Math.round(Math.max(...results.map((r) => r.tailMs), 0)),
    server: serverFigures(a, b),
    generatorCpuPercent: generatorCpu(a, b),
    pg: pgFigures(a, b),
  };
}
