import { uniqueSuffix } from '@cipherchat/service-kit/testing';
import { startStack, type Stack } from './stack.js';
import { makeKeyUpload } from './signal-keys.js';
import { createConversation, mapLimit, provisionUsers, type BenchUser } from './provision.js';
import { WorkerPool } from './load/worker-pool.js';
import type { ClientSpec, FlowSpec, RunSpec } from './load/client-host.js';
import { snapshot, toStepRecord, serverFigures, pgFigures, generatorCpu, type StepRecord } from './measure.js';
import { round, summarize } from './stats.js';

/** Shared state of a benchmark run. */
export interface BenchContext {
  quick: boolean;
  /** Receives every finished step (prints the JSON line, keeps it for the summary). */
  emit(record: StepRecord): void;
  /** Progress messages (stderr). */
  log(msg: string): void;
}

const BODY_BYTES = 200;
const WINDOW = 10;

const stepMs = (ctx: BenchContext) => (ctx.quick ? 3_000 : 10_000);

/**
 * Runs a scenario body against a fresh stack and generator, always tearing both down.
 * @param ctx run context
 * @param processes chat-service processes
 * @param workers load-generator processes
 * @param body the scenario
 */
async function withStack(ctx: BenchContext, processes: number, workers: number, body: (stack: Stack, pool: WorkerPool) => Promise<void>): Promise<void> {
  const stack = await startStack({ suffix: uniqueSuffix(), processes });
  ctx.log(`stack ${stack.dbName}: ${stack.services.map((s) => s.url).join(', ')} (logs ${stack.logDir})`);
  const pool = new WorkerPool(workers);
  try {
    await body(stack, pool);
  } finally {
    await pool.close();
    await stack.close();
  }
}

/**
 * Runs one measured step: the workers run their specs while the runner snapshots the
 * server, generator and database counters at the start and end of the send window.
 * @param stack the stack
 * @param pool the generator
 * @param specs one spec per worker
 * @param base identity of the step
 * @returns the record
 */
async function measuredStep(
  stack: Stack,
  pool: WorkerPool,
  specs: (RunSpec | undefined)[],
  base: Parameters<typeof toStepRecord>[0],
): Promise<StepRecord> {
  const a = await snapshot(stack, pool);
  const durationMs = Math.max(...specs.map((s) => s?.durationMs ?? 0));
  // the window ends after durationMs, or earlier when every flow reached its message cap
  let timer: NodeJS.Timeout | undefined;
  const bPromise = new Promise<Awaited<ReturnType<typeof snapshot>>>((resolve) => {
    timer = setTimeout(() => resolve(snapshot(stack, pool)), durationMs);
  });
  const runs = pool.run(specs);
  const first = await Promise.race([bPromise, runs.then(() => undefined)]);
  clearTimeout(timer);
  const b = first ?? (await snapshot(stack, pool));
  const results = await runs;
  return toStepRecord(base, results, a, b);
}

/** Builds a client spec. */
function clientSpec(key: number, user: BenchUser, url: string): ClientSpec {
  return { key, url, token: user.token, userId: user.userId, deviceId: user.deviceId, deviceSecret: user.deviceSecret };
}

/**
 * Connects clients grouped per worker, failing the scenario if any handshake fails.
 * @param pool the generator
 * @param perWorker clients per worker
 * @param concurrency handshakes in flight per worker
 */
async function connectAll(pool: WorkerPool, perWorker: ClientSpec[][], concurrency = 50): Promise<void> {
  const results = await Promise.all(perWorker.map((clients, i) => (clients.length ? pool.connect(i, clients, concurrency) : undefined)));
  const failed = results.reduce((s, r) => s + (r?.failed ?? 0), 0);
  if (failed) throw new Error(`${failed} clients failed to connect: ${results.flatMap((r) => r?.errors ?? []).join('; ')}`);
}

/**
 * 1:1 pairs: 100 pairs, both members sending to each other with 10 in flight, 200-byte
 * bodies; the offered rate ramps and ends with an unthrottled step. With two processes
 * the members of half the pairs sit on different processes (fan-out through Redis).
 * @param ctx run context
 * @param processes 1 or 2 chat-service processes
 * @param rates offered message rates (0 = as fast as the window allows)
 * @param scenario name in the records
 */
export async function pairsScenario(ctx: BenchContext, processes: number, rates: number[], scenario: string): Promise<void> {
  const pairs = 100;
  await withStack(ctx, processes, 2, async (stack, pool) => {
    const urls = stack.services.map((s) => s.url);
    const keys = makeKeyUpload();
    const users = await provisionUsers(urls, stack.issuer, pairs * 2, keys);
    const convs = await mapLimit(Array.from({ length: pairs }, (_, p) => p), 16, (p) =>
      createConversation(urls[0] as string, users[2 * p] as BenchUser, 'direct', [users[2 * p + 1] as BenchUser]),
    );
    const perWorker: ClientSpec[][] = Array.from({ length: pool.size }, () => []);
    const flows: FlowSpec[][] = Array.from({ length: pool.size }, () => []);
    for (let p = 0; p < pairs; p++) {
      const a = users[2 * p] as BenchUser;
      const b = users[2 * p + 1] as BenchUser;
      // with two processes, half the pairs have their members on different processes
      const urlA = urls[p % urls.length] as string;
      const urlB = urls[Math.floor(p / 2) % urls.length] as string;
      const w = p % pool.size;
      perWorker[w]?.push(clientSpec(2 * p, a, urlA), clientSpec(2 * p + 1, b, urlB));
      const conversationId = convs[p] as string;
      flows[w]?.push(
        { id: 2 * p, sender: 2 * p, conversationId, envelopes: [{ userId: b.userId, deviceId: b.deviceId }], recipients: [2 * p + 1] },
        { id: 2 * p + 1, sender: 2 * p + 1, conversationId, envelopes: [{ userId: a.userId, deviceId: a.deviceId }], recipients: [2 * p] },
      );
    }
    await connectAll(pool, perWorker);
    const flowCount = pairs * 2;
    const spec = (rate: number, durationMs: number): RunSpec[] =>
      flows.map((f) => ({ flows: f, durationMs, ratePerFlow: rate / flowCount, window: WINDOW, bodyBytes: BODY_BYTES, drainTimeoutMs: 20_000 }));
    ctx.log(`${scenario}: warm-up`);
    await pool.run(spec(1000, 2000));
    for (const rate of rates) {
      const rec = await measuredStep(stack, pool, spec(rate, stepMs(ctx)), {
        scenario,
        step: rate ? `${rate} msg/s offered` : 'unthrottled (window 10)',
        processes,
        connections: pairs * 2,
        offeredMsgPerSec: rate || null,
        fanout: 1,
      });
      ctx.emit(rec);
    }
  });
}

/**
 * Groups of 50: every member sends to the group (49 envelopes per message, one per other
 * member's device); the offered message rate ramps.
 * @param ctx run context
 */
export async function groupsScenario(ctx: BenchContext): Promise<void> {
  const groups = ctx.quick ? 2 : 4;
  const size = 50;
  const rates = ctx.quick ? [20, 100] : [20, 50, 100, 200];
  await withStack(ctx, 1, 2, async (stack, pool) => {
    const url = stack.services[0]?.url as string;
    const users = await provisionUsers([url], stack.issuer, groups * size, makeKeyUpload());
    const perWorker: ClientSpec[][] = Array.from({ length: pool.size }, () => []);
    const flows: FlowSpec[][] = Array.from({ length: pool.size }, () => []);
    for (let g = 0; g < groups; g++) {
      const members = users.slice(g * size, (g + 1) * size);
      const conversationId = await createConversation(url, members[0] as BenchUser, 'group', members.slice(1));
      const w = g % pool.size;
      members.forEach((m, i) => perWorker[w]?.push(clientSpec(g * size + i, m, url)));
      members.forEach((m, i) => {
        const others = members.map((o, j) => ({ o, key: g * size + j })).filter((x) => x.o !== m);
        flows[w]?.push({
          id: g * size + i,
          sender: g * size + i,
          conversationId,
          envelopes: others.map((x) => ({ userId: x.o.userId, deviceId: x.o.deviceId })),
          recipients: others.map((x) => x.key),
        });
      });
    }
    await connectAll(pool, perWorker);
    const senders = groups * size;
    const spec = (rate: number, durationMs: number, window = WINDOW): RunSpec[] =>
      flows.map((f) => ({ flows: f, durationMs, ratePerFlow: rate / senders, window, bodyBytes: BODY_BYTES, drainTimeoutMs: 30_000 }));
    ctx.log('groups: warm-up');
    await pool.run(spec(10, 2000));
    for (const rate of rates) {
      ctx.emit(
        await measuredStep(stack, pool, spec(rate, stepMs(ctx)), {
          scenario: 'groups-50',
          step: `${rate} msg/s offered (${rate * (size - 1)} envelopes/s)`,
          processes: 1,
          connections: senders,
          offeredMsgPerSec: rate,
          fanout: size - 1,
        }),
      );
    }
  });
}

/**
 * Offline drain: fills one device's mailbox with 10,000 envelopes while it is offline, then
 * connects it and times the delivery of all of them and `mailbox:empty`.
 * @param ctx run context
 */
export async function drainScenario(ctx: BenchContext): Promise<void> {
  const n = 10_000;
  // chat-service keeps one socket's sends to one conversation in order (one at a time), so the
  // mailbox is filled by several senders, each in its own direct conversation with the device
  const fillers = 20;
  await withStack(ctx, 1, 1, async (stack, pool) => {
    const url = stack.services[0]?.url as string;
    const users = await provisionUsers([url], stack.issuer, fillers + 1, makeKeyUpload());
    const recipient = users[fillers] as BenchUser;
    const senders = users.slice(0, fillers);
    const convs = await mapLimit(senders, 8, (s) => createConversation(url, s, 'direct', [recipient]));
    await connectAll(pool, [senders.map((s, i) => clientSpec(i, s, url))]);
    ctx.log(`drain: ${fillers} senders fill an offline mailbox with ${n} envelopes`);
    const fill = await measuredStep(
      stack,
      pool,
      [
        {
          flows: senders.map((_, i) => ({
            id: i,
            sender: i,
            conversationId: convs[i] as string,
            envelopes: [{ userId: recipient.userId, deviceId: recipient.deviceId }],
            recipients: [],
            maxMessages: n / fillers,
          })),
          durationMs: 180_000,
          ratePerFlow: 0,
          window: 10,
          bodyBytes: BODY_BYTES,
          drainTimeoutMs: 30_000,
        },
      ],
      { scenario: 'offline-drain', step: `fill ${n} (${fillers} senders, window 10)`, processes: 1, connections: fillers, offeredMsgPerSec: null, fanout: 1 },
    );
    ctx.emit(fill);
    const [row] = await stack.query<{ n: string }>('SELECT count(*) AS n FROM chat.mailbox WHERE recipient_user = $1', [recipient.userId]);
    const queued = Number(row?.n ?? 0);
    const a = await snapshot(stack, pool);
    const drain = await pool.drain(0, clientSpec(fillers, recipient, url), queued, 60_000);
    const b = await snapshot(stack, pool);
    // let the last receipt acks land, then count what is left in the mailbox
    await new Promise((r) => setTimeout(r, 1000));
    const [left] = await stack.query<{ n: string }>('SELECT count(*) AS n FROM chat.mailbox WHERE recipient_user = $1', [recipient.userId]);
    const windowMs = Math.max(drain.allReceivedMs, drain.mailboxEmptyMs, 1);
    ctx.emit({
      scenario: 'offline-drain',
      step: `drain ${queued}`,
      processes: 1,
      connections: fillers + 1,
      offeredMsgPerSec: null,
      fanout: 1,
      sent: 0,
      acked: 0,
      ackErrors: {},
      deliveredPerSec: Math.round(drain.received / (Math.max(drain.allReceivedMs > 0 ? drain.allReceivedMs : drain.mailboxEmptyMs, 1) / 1000)),
      ackedPerSec: 0,
      lost: Math.max(0, queued - drain.received),
      expected: queued,
      duplicates: drain.duplicates,
      e2eMs: summarize([]),
      ackMs: summarize([]),
      windowMs: Math.round(windowMs),
      tailMs: 0,
      server: serverFigures(a, b),
      generatorCpuPercent: generatorCpu(a, b),
      pg: pgFigures(a, b),
      extra: {
        queuedBefore: queued,
        leftAfter: Number(left?.n ?? 0),
        connectMs: round(drain.connectMs),
        firstMessageMs: round(drain.firstMessageMs),
        allReceivedMs: round(drain.allReceivedMs),
        mailboxEmptyMs: round(drain.mailboxEmptyMs),
        received: drain.received,
      },
    });
  });
}

/**
 * Idle connections: ramps authenticated idle sockets against ONE chat-service process and
 * records its RSS at each level; memory per connection is the RSS growth over the baseline
 * divided by the sockets added.
 * @param ctx run context
 */
export async function idleScenario(ctx: BenchContext): Promise<void> {
  const levels = ctx.quick ? [500, 1000] : [1000, 2500, 5000, 10_000];
  const max = levels[levels.length - 1] as number;
  const workers = ctx.quick ? 2 : 4;
  await withStack(ctx, 1, workers, async (stack, pool) => {
    const url = stack.services[0]?.url as string;
    ctx.log(`idle: registering ${max} devices`);
    // connection-only users: a registered device, no keys (nobody sends to them)
    const users = await provisionUsers([url], stack.issuer, max, undefined, 32);
    await new Promise((r) => setTimeout(r, 3000));
    const base = await snapshot(stack, pool);
    const baseRss = base.procs[0]?.rssBytes ?? 0;
    let connected = 0;
    let prev = base;
    const points: { n: number; rss: number }[] = [];
    for (const level of levels) {
      const perWorker: ClientSpec[][] = Array.from({ length: pool.size }, () => []);
      for (let i = connected; i < level; i++) perWorker[i % pool.size]?.push(clientSpec(i, users[i] as BenchUser, url));
      const t0 = performance.now();
      const a = await snapshot(stack, pool);
      await connectAll(pool, perWorker, 25);
      const connectMs = performance.now() - t0;
      connected = level;
      // settle: let handshake garbage be collected before reading RSS
      await new Promise((r) => setTimeout(r, ctx.quick ? 3000 : 5000));
      const b = await snapshot(stack, pool);
      const live = await pool.connectedCount();
      const rss = b.procs[0]?.rssBytes ?? 0;
      const prevRss = prev.procs[0]?.rssBytes ?? 0;
      const prevLevel = levels[levels.indexOf(level) - 1] ?? 0;
      points.push({ n: live, rss });
      // the baseline is inflated by garbage from registering the devices over REST, so the
      // robust figure is the slope of RSS over the connection levels (least squares)
      const slope = points.length >= 2 ? leastSquaresSlope(points) : undefined;
      ctx.emit({
        scenario: 'idle-connections',
        step: `${level} idle sockets`,
        processes: 1,
        connections: live,
        offeredMsgPerSec: null,
        fanout: 0,
        sent: 0,
        acked: 0,
        ackErrors: {},
        deliveredPerSec: 0,
        ackedPerSec: 0,
        lost: 0,
        expected: 0,
        duplicates: 0,
        e2eMs: summarize([]),
        ackMs: summarize([]),
        windowMs: Math.round(connectMs),
        tailMs: 0,
        server: serverFigures(a, b),
        generatorCpuPercent: generatorCpu(a, b),
        pg: pgFigures(a, b),
        extra: {
          baselineRssMB: round(baseRss / 2 ** 20, 1),
          rssMB: round(rss / 2 ** 20, 1),
          bytesPerConnection: Math.round((rss - baseRss) / Math.max(live, 1)),
          marginalBytesPerConnection: Math.round((rss - prevRss) / Math.max(level - prevLevel, 1)),
          ...(slope === undefined ? {} : { slopeBytesPerConnection: Math.round(slope) }),
          handshakesPerSec: Math.round(((level - prevLevel) / connectMs) * 1000),
        },
      });
      prev = b;
    }
  });
}

/**
 * Least-squares slope of RSS over connection count.
 * @param points (connections, RSS bytes)
 * @returns bytes per connection
 */
function leastSquaresSlope(points: { n: number; rss: number }[]): number {
  const k = points.length;
  const mx = points.reduce((a, p) => a + p.n, 0) / k;
  const my = points.reduce((a, p) => a + p.rss, 0) / k;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.n - mx) * (p.rss - my);
    den += (p.n - mx) ** 2;
  }
  return den ? num / den : 0;
}
