/**
 * Rough local measurement of the message:send hot path (not a benchmark: see bench/ for that).
 * Boots one or two in-process chat-service instances on a throwaway database, connects
 * PAIRS sender/recipient pairs, and has every sender push MESSAGES messages with up to
 * INFLIGHT conversations per pair, WINDOW unacked sends per conversation; recipients ack what they receive in batches. Prints ack latency and throughput.
 *
 *   node --conditions=source --import tsx scripts/measure-send.ts
 *   PAIRS=50 MESSAGES=200 INFLIGHT=8 PROCESSES=2 node --conditions=source --import tsx scripts/measure-send.ts
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { api, connect, createTestEnv, createUser, fakeBody, type Instance } from '../test/support/harness.js';

const PAIRS = Number(process.env.PAIRS ?? 20);
const MESSAGES = Number(process.env.MESSAGES ?? 200);
const INFLIGHT = Number(process.env.INFLIGHT ?? 4);
const PROCESSES = Number(process.env.PROCESSES ?? 2);
/** Unacked sends per conversation (pipelining within one conversation). */
const WINDOW = Number(process.env.WINDOW ?? 1);

const env = await createTestEnv('chatmeasure', { LOG_LEVEL: 'warn' });
const overrides = { RATE_SOCKET_EVENTS_PER_SEC: '1000000', RATE_HTTP_PER_MIN: '1000000' };
const instances: Instance[] = [];
for (let i = 0; i < PROCESSES; i++) instances.push(await env.start(overrides));
const pick = (i: number) => instances[i % instances.length] as Instance;

const pairs = [];
for (let i = 0; i < PAIRS; i++) {
  const a = await createUser(pick(i), env.mint);
  const b = await createUser(pick(i + 1), env.mint);
  const convs: string[] = [];
  for (let c = 0; c < INFLIGHT; c++) {
    const r = await api(pick(i).url, a.token, 'POST', '/conversations', { kind: 'group', memberIds: [b.userId], title: `c${c}` });
    convs.push(r.body.id);
  }
  const sa = (await connect(pick(i).url, a.token, a.deviceId)) as unknown as Socket;
  const sb = (await connect(pick(i + 1).url, b.token, b.deviceId)) as unknown as Socket;
  let pending: string[] = [];
  let received = 0;
  const unique = new Set<string>();
  sb.on('message:new', (m: { messageId: string }) => {
    received++;
    unique.add(m.messageId);
    pending.push(m.messageId);
    if (pending.length >= 20) {
      const ids = pending;
      pending = [];
      sb.emit('message:ack', { messageIds: ids });
    }
  });
  pairs.push({ a, b, convs, sa, sb, received: () => unique.size, duplicates: () => received - unique.size });
}

const latencies: number[] = [];
const started = performance.now();
await Promise.all(
  pairs.map(async (p) => {
    let next = 0;
    const lane = async (conv: string) => {
      while (next < MESSAGES) {
        next++;
        const t0 = performance.now();
        const ack = (await p.sa.timeout(30_000).emitWithAck('message:send', {
          conversationId: conv,
          clientMessageId: randomUUID(),
          envelopes: [{ userId: p.b.userId, deviceId: p.b.deviceId, type: 1, body: fakeBody('x'.repeat(150)) }],
        })) as { ok: boolean };
        latencies.push(performance.now() - t0);
        if (!ack.ok) throw new Error(JSON.stringify(ack));
      }
    };
    await Promise.all(p.convs.flatMap((c) => Array.from({ length: WINDOW }, () => lane(c))));
  }),
);
const elapsed = (performance.now() - started) / 1000;
const total = PAIRS * MESSAGES;
const deadline = Date.now() + 30_000;
while (pairs.reduce((s, p) => s + p.received(), 0) < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
const deliveredAt = (performance.now() - started) / 1000;
latencies.sort((x, y) => x - y);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]?.toFixed(1);
console.log(
  JSON.stringify({
    processes: PROCESSES,
    pairs: PAIRS,
    messages: total,
    conversationsPerPair: INFLIGHT,
    windowPerConversation: WINDOW,
    sendSeconds: Number(elapsed.toFixed(2)),
    acksPerSecond: Math.round(total / elapsed),
    deliveredAll: pairs.reduce((s, p) => s + p.received(), 0) === total,
    duplicateDeliveries: pairs.reduce((s, p) => s + p.duplicates(), 0),
    deliveredSeconds: Number(deliveredAt.toFixed(2)),
    ackLatencyMs: { p50: q(0.5), p95: q(0.95), p99: q(0.99), max: latencies.at(-1)?.toFixed(1) },
  }),
);
for (const p of pairs) {
  p.sa.close();
  p.sb.close();
}
await env.close();
process.exit(0);
