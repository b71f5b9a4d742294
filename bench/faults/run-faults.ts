/**
 * `npm run test:faults`: the "nothing lost" claim under faults.
 *
 * Starts a stack of TWO chat-service processes whose PostgreSQL, RabbitMQ and Redis links go
 * through {@link TcpProxy}s (the machine's real servers are shared with other test runs and
 * are never restarted), drives steady load from online pairs (members on different processes)
 * and towards offline users, and meanwhile:
 *   1. kill -9 one chat-service process, then restart it;
 *   2. cut PostgreSQL, restore;
 *   3. cut RabbitMQ, restore;
 *   4. cut Redis, restore.
 * Senders behave like the real client's outbox: an unacked send is retried with the same
 * clientMessageId until acked. Afterwards every device syncs its mailbox, the offline users
 * connect and drain, and the suite checks that every acked message reached every recipient
 * device (deduped by message id; raw duplicates are counted) and that every expected
 * `chat.message_queued.v1` arrived once on the bus (deduped by event id; duplicates counted).
 * Exit code 1 on any loss.
 */
import { parseArgs } from 'node:util';
import { TcpProxy, uniqueSuffix } from '@cipherchat/service-kit/testing';
import type { MessageNew } from '@cipherchat/contracts';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, startStack, type Stack } from '../src/stack.js';
import { makeKeyUpload } from '../src/signal-keys.js';
import { createConversation, mapLimit, provisionUsers, type BenchUser } from '../src/provision.js';
import { ClientHost, type ChatSocket, type ClientSpec } from '../src/load/client-host.js';
import { EventProbe } from './event-probe.js';
import { randomBytes } from 'node:crypto';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '20' },
    offline: { type: 'string', default: '20' },
    'fault-ms': { type: 'string', default: '4000' },
    'recover-ms': { type: 'string', default: '5000' },
  },
});
const PAIRS = Number(values.pairs);
const OFFLINE = Number(values.offline);
const FAULT_MS = Number(values['fault-ms']);
const RECOVER_MS = Number(values['recover-ms']);
/** Each online sender sends one message every TICK_MS (steady, modest load: faults are the subject). */
const TICK_MS = 100;
const WINDOW = 5;
const RESEND_AFTER_MS = 3000;

const log = (msg: string) => process.stderr.write(`[faults ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A message the suite wants stored: retried until acked. */
interface Outgoing {
  clientMessageId: string;
  conversationId: string;
  envelopes: { userId: string; deviceId: number; type: number; body: string }[];
  /** Client keys (or offline user indexes, negative) that must receive it. */
  recipients: number[];
  /** User ids of recipients that were offline (expect a `chat.message_queued.v1` each). */
  offlineRecipients: string[];
  messageId?: string;
  /** Phase of the first attempt and of the ack. */
  sentIn?: string;
  ackedIn?: string;
  attempts: number;
  lastAttemptAt: number;
  inflight: boolean;
  duplicateAcks: number;
}

interface Sender {
  key: number;
  socket: () => ChatSocket | undefined;
  queue: Outgoing[];
  seq: number;
  next: () => Omit<Outgoing, 'attempts' | 'lastAttemptAt' | 'inflight' | 'duplicateAcks'>;
}

const proxies = { pg: new TcpProxy(5432), amqp: new TcpProxy(5672), redis: new TcpProxy(6379) };
let stack: Stack | undefined;
let probe: EventProbe | undefined;
const host = new ClientHost({ reconnection: true, reconnectionDelay: 200, reconnectionDelayMax: 1000, timeout: 5000 });
const offlineHost = new ClientHost({ reconnection: true, reconnectionDelay: 200, reconnectionDelayMax: 1000 });
let exitCode = 1;

try {
  await Promise.all(Object.values(proxies).map((p) => p.start()));
  const suffix = uniqueSuffix();
  stack = await startStack({
    suffix,
    processes: 2,
    ports: { postgres: proxies.pg.port, amqp: proxies.amqp.port, redis: proxies.redis.port },
    logLevel: 'info',
  });
  log(`stack ${stack.dbName} on ${stack.services.map((s) => s.url).join(', ')}; proxies pg:${proxies.pg.port} amqp:${proxies.amqp.port} redis:${proxies.redis.port}; logs ${stack.logDir}`);
  probe = new EventProbe(process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672', stack.exchange, `bench_${suffix}.faults.probe`, ['chat.#']);
  await probe.start();

  const urls = stack.services.map((s) => s.url);
  const keys = makeKeyUpload();
  const users = await provisionUsers(urls, stack.issuer, PAIRS * 2 + OFFLINE + 1, keys);
  const online = users.slice(0, PAIRS * 2);
  const offlineUsers = users.slice(PAIRS * 2, PAIRS * 2 + OFFLINE);
  const courier = users[PAIRS * 2 + OFFLINE] as BenchUser; // sends to the offline users
  const pairConvs = await mapLimit(Array.from({ length: PAIRS }, (_, p) => p), 8, (p) =>
    createConversation(urls[0] as string, online[2 * p] as BenchUser, 'direct', [(online[2 * p + 1] as BenchUser).userId]),
  );
  const offlineConvs = await mapLimit(offlineUsers, 8, (u) => createConversation(urls[1] as string, courier, 'direct', [u.userId]));

  // online devices: pair members on different processes so live delivery crosses the Redis adapter
  const specs: ClientSpec[] = online.map((u, i) => ({ key: i, url: urls[i % 2] as string, token: u.token, userId: u.userId, deviceId: u.deviceId }));
  const courierKey = 1000;
  specs.push({ key: courierKey, url: urls[0] as string, token: courier.token, userId: courier.userId, deviceId: courier.deviceId });
  const conn = await host.connect(specs, 20);
  if (conn.failed) throw new Error(`connect failed: ${conn.errors.join('; ')}`);
  log(`${conn.connected} devices online, ${OFFLINE} offline users`);

  // bookkeeping of receptions: (client key, message id) -> copies received
  const received = new Map<string, number>();
  let liveReceived = 0;
  let phase = 'steady';
  const receivedIn = new Map<string, number>();
  const onEnvelope = (key: number, m: MessageNew) => {
    const id = `${key}:${m.messageId}`;
    const n = (received.get(id) ?? 0) + 1;
    received.set(id, n);
    if (n === 1) {
      liveReceived++;
      receivedIn.set(phase, (receivedIn.get(phase) ?? 0) + 1);
    }
  };
  host.onEnvelope(onEnvelope);
  offlineHost.onEnvelope((key, m) => onEnvelope(key, m));

  const body = () => randomBytes(200).toString('base64');
  const senders: Sender[] = [];
  for (let p = 0; p < PAIRS; p++) {
    for (const [from, to] of [
      [2 * p, 2 * p + 1],
      [2 * p + 1, 2 * p],
    ] as const) {
      const toUser = online[to] as BenchUser;
      const s: Sender = {
        key: from,
        socket: () => host.clients.get(from)?.socket,
        queue: [],
        seq: 0,
        next: () => ({
          clientMessageId: `f${from}-${s.seq++}`,
          conversationId: pairConvs[p] as string,
          envelopes: [{ userId: toUser.userId, deviceId: toUser.deviceId, type: 1, body: body() }],
          recipients: [to],
          offlineRecipients: [],
        }),
      };
      senders.push(s);
    }
  }
  let offlineTurn = 0;
  const courierSender: Sender = {
    key: courierKey,
    socket: () => host.clients.get(courierKey)?.socket,
    queue: [],
    seq: 0,
    next: () => {
      const i = offlineTurn++ % OFFLINE;
      const u = offlineUsers[i] as BenchUser;
      return {
        clientMessageId: `c-${courierSender.seq++}`,
        conversationId: offlineConvs[i] as string,
        envelopes: [{ userId: u.userId, deviceId: u.deviceId, type: 1, body: body() }],
        recipients: [-1 - i],
        offlineRecipients: [u.userId],
      };
    },
  };
  senders.push(courierSender);

  const all: Outgoing[] = [];
  let sending = true;
  let ackErrors = 0;
  const errorCodes: Record<string, number> = {};
  const attempt = (s: Sender, o: Outgoing) => {
    const socket = s.socket();
    if (!socket?.connected) return;
    o.inflight = true;
    o.sentIn ??= phase;
    o.attempts++;
    o.lastAttemptAt = Date.now();
    socket.timeout(RESEND_AFTER_MS).emit('message:send', { conversationId: o.conversationId, clientMessageId: o.clientMessageId, envelopes: o.envelopes }, (err, res) => {
      o.inflight = false;
      if (err) {
        errorCodes.timeout = (errorCodes.timeout ?? 0) + 1;
        ackErrors++;
        return;
      }
      if (!res.ok) {
        errorCodes[res.error.code] = (errorCodes[res.error.code] ?? 0) + 1;
        ackErrors++;
        return;
      }
      if (o.messageId && o.messageId !== res.data.messageId) throw new Error(`resend of ${o.clientMessageId} got a different message id`);
      if (o.messageId || res.data.duplicate) o.duplicateAcks++;
      o.messageId = res.data.messageId;
      o.ackedIn ??= phase;
    });
  };
  const tick = () => {
    const now = Date.now();
    for (const s of senders) {
      s.queue = s.queue.filter((o) => !o.messageId);
      // retry what is unacked (the same clientMessageId: the server dedupes)
      for (const o of s.queue) if (!o.inflight && now - o.lastAttemptAt >= 200) attempt(s, o);
      if (sending && s.queue.length < WINDOW && s.socket()?.connected) {
        const o: Outgoing = { ...s.next(), attempts: 0, lastAttemptAt: 0, inflight: false, duplicateAcks: 0 };
        s.queue.push(o);
        all.push(o);
        attempt(s, o);
      }
    }
  };
  const ticker = setInterval(tick, TICK_MS);

  // a supervisor like docker's `restart: unless-stopped`: a chat-service process that exits on
  // its own (not our kill -9) is recorded as a finding and started again
  const unexpectedExits: { index: number; phase: string; at: string; code: number | null; signal: string | null }[] = [];
  let restarting = false;
  const supervisor = setInterval(() => {
    if (restarting || !stack) return;
    for (const svc of stack.services) {
      const child = svc.child;
      if (!child || (child.exitCode === null && child.signalCode === null)) continue;
      unexpectedExits.push({ index: svc.index, phase, at: new Date().toISOString(), code: child.exitCode, signal: child.signalCode });
      log(`chat-service #${svc.index} exited on its own during ${phase} (code ${child.exitCode}); restarting it`);
      svc.child = undefined;
      restarting = true;
      stack
        .restart(svc.index)
        .catch((err: unknown) => log(`restart of #${svc.index} failed: ${String(err)}`))
        .finally(() => {
          restarting = false;
        });
      return;
    }
  }, 250);

  const hold = async (name: string, ms: number) => {
    phase = name;
    await sleep(ms);
  };
  await hold('steady', RECOVER_MS);
  const timeline: { fault: string; at: string }[] = [];
  const mark = (fault: string) => {
    timeline.push({ fault, at: new Date().toISOString() });
    log(fault);
  };

  mark('kill -9 chat-service #1');
  await stack.kill(1);
  await hold('killed', 2000);
  mark('restart chat-service #1');
  await stack.restart(1);
  await hold('after-kill', RECOVER_MS);

  mark('cut PostgreSQL');
  await proxies.pg.cut();
  await hold('pg-cut', FAULT_MS);
  mark('restore PostgreSQL');
  await proxies.pg.restore();
  await hold('after-pg', RECOVER_MS);

  mark('cut RabbitMQ');
  await proxies.amqp.cut();
  await hold('amqp-cut', FAULT_MS);
  mark('restore RabbitMQ');
  await proxies.amqp.restore();
  await hold('after-amqp', RECOVER_MS);

  mark('cut Redis');
  await proxies.redis.cut();
  await hold('redis-cut', FAULT_MS);
  mark('restore Redis');
  await proxies.redis.restore();
  await hold('after-redis', RECOVER_MS);

  mark('stop sending; waiting for every send to be acked (bounded 60 s)');
  sending = false;
  phase = 'settle';
  const ackDeadline = Date.now() + 60_000;
  while (Date.now() < ackDeadline && all.some((o) => !o.messageId)) await sleep(100);
  clearInterval(ticker);
  while (restarting) await sleep(200);
  const acked = all.filter((o) => o.messageId);
  const neverAcked = all.length - acked.length;

  // every online device asks for its mailbox again (what a real client does after trouble);
  // delivered-live vs recovered-by-sync is reported separately
  const liveBeforeSync = liveReceived;
  phase = 'final-sync';
  const onlineKeys = [...host.clients.keys()];
  const reconnectDeadline = Date.now() + 60_000;
  while (Date.now() < reconnectDeadline && host.connectedCount() < onlineKeys.length) await sleep(200);
  const connectedAtSync = host.connectedCount();
  const emptied = new Set<number>();
  host.onMailboxEmpty((k) => emptied.add(k));
  for (const k of onlineKeys) host.clients.get(k)?.socket.emit('mailbox:sync');
  const syncDeadline = Date.now() + 30_000;
  while (Date.now() < syncDeadline && emptied.size < onlineKeys.length) await sleep(100);

  // the offline users connect now and drain their mailboxes
  phase = 'offline-drain';
  const offlineSpecs: ClientSpec[] = offlineUsers.map((u, i) => ({ key: -1 - i, url: urls[i % 2] as string, token: u.token, userId: u.userId, deviceId: u.deviceId }));
  const offEmpty = new Set<number>();
  offlineHost.onMailboxEmpty((k) => offEmpty.add(k));
  await offlineHost.connect(offlineSpecs, 10);

  // wait (bounded) until every expected delivery is there
  const expectedDeliveries = acked.flatMap((o) => o.recipients.map((r) => `${r}:${o.messageId}`));
  const missing = () => expectedDeliveries.filter((id) => !received.has(id));
  const deliverDeadline = Date.now() + 30_000;
  while (Date.now() < deliverDeadline && missing().length > 0) await sleep(200);
  const missingDeliveries = missing();
  // where are the missing ones? still in the mailbox (stored, not pushed) or gone?
  const missingIds = [...new Set(missingDeliveries.map((id) => id.slice(id.indexOf(':') + 1)))];
  const [inMailbox] = await stack.query<{ n: string }>('SELECT count(DISTINCT message_id) AS n FROM chat.mailbox WHERE message_id = ANY($1::uuid[])', [missingIds]);
  const [inMessages] = await stack.query<{ n: string }>('SELECT count(*) AS n FROM chat.messages WHERE message_id = ANY($1::uuid[])', [missingIds]);
  const missingBy: Record<string, number> = {};
  const byId = new Map(acked.map((o) => [o.messageId as string, o]));
  for (const id of missingDeliveries) {
    const o = byId.get(id.slice(id.indexOf(':') + 1));
    const k = `sent ${o?.sentIn} / acked ${o?.ackedIn}`;
    missingBy[k] = (missingBy[k] ?? 0) + 1;
  }
  const rawDuplicates = [...received.values()].reduce((s, n) => s + (n - 1), 0);
  // receipts must go out before the mailbox check
  await sleep(1500);
  const [left] = await stack.query<{ n: string }>('SELECT count(*) AS n FROM chat.mailbox');

  // events: one chat.message_queued.v1 per (acked message, recipient that was offline)
  const expectedEvents = new Set(acked.flatMap((o) => o.offlineRecipients.map((u) => `${o.messageId}:${u}`)));
  const eventsDeadline = Date.now() + 30_000;
  const queuedEvents = () => [...(probe?.events.values() ?? [])].filter((e) => e.type === 'chat.message_queued.v1');
  const seenKeys = () => {
    const m = new Map<string, number>();
    for (const e of queuedEvents()) {
      const k = `${String(e.payload.messageId)}:${String(e.payload.recipientUserId)}`;
      m.set(k, (m.get(k) ?? 0) + 1);
    }
    return m;
  };
  while (Date.now() < eventsDeadline && [...expectedEvents].some((k) => !seenKeys().has(k))) await sleep(200);
  await sleep(1000); // late duplicates, if any, would show up now
  const seen = seenKeys();
  const missingEvents = [...expectedEvents].filter((k) => !seen.has(k));
  const sameMessageTwice = [...seen.values()].filter((n) => n > 1).length;
  const [outboxLeft] = await stack.query<{ n: string }>(`SELECT count(*) AS n FROM chat.outbox WHERE processed_at IS NULL`).catch(() => [{ n: 'n/a' }]);
  const byType: Record<string, number> = {};
  for (const e of probe.events.values()) byType[e.type] = (byType[e.type] ?? 0) + 1;

  clearInterval(supervisor);
  const report = {
    timeline,
    unexpectedExits,
    sends: {
      messages: all.length,
      acked: acked.length,
      neverAcked,
      attempts: all.reduce((s, o) => s + o.attempts, 0),
      resentMessages: all.filter((o) => o.attempts > 1).length,
      duplicateAcks: all.reduce((s, o) => s + o.duplicateAcks, 0),
      ackErrors,
      errorCodes,
    },
    deliveries: {
      expected: expectedDeliveries.length,
      deliveredUnique: expectedDeliveries.length - missingDeliveries.length,
      missing: missingDeliveries.length,
      rawDuplicatesObserved: rawDuplicates,
      exactlyOnceAfterDedupe: missingDeliveries.length === 0,
      liveBeforeFinalSync: liveBeforeSync,
      byPhase: Object.fromEntries(receivedIn),
      mailboxRowsLeft: Number(left?.n ?? -1),
      missingSample: missingDeliveries.slice(0, 5),
      missingByPhase: missingBy,
      missingStillInMailbox: Number(inMailbox?.n ?? 0),
      missingStoredAsMessages: Number(inMessages?.n ?? 0),
      onlineDevicesConnectedAtFinalSync: `${connectedAtSync}/${onlineKeys.length}`,
      mailboxEmptyAfterSync: emptied.size,
    },
    events: {
      expectedMessageQueued: expectedEvents.size,
      matchedExpected: expectedEvents.size - missingEvents.length,
      // also published for online users whose device was disconnected at that moment (kill, cuts)
      uniqueMessageQueuedAll: seen.size,
      missing: missingEvents.length,
      sameMessageAndRecipientWithDifferentIds: sameMessageTwice,
      deliveriesObserved: probe.totalDeliveries(),
      uniqueEventIds: probe.events.size,
      duplicateDeliveriesObserved: probe.duplicateDeliveries(),
      malformed: probe.malformed,
      byType,
      outboxUnpublished: outboxLeft?.n,
    },
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  const dir = path.join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `faults-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ commit: git(['rev-parse', 'HEAD']), chatServiceCommit: git(['log', '-1', '--format=%H', '--', 'chat-service']), ...report }, null, 2)}\n`);
  log(`report: ${file}`);
  // a crash is reported (unexpectedExits) but what is judged is the claim: nothing acked is lost
  const ok = missingDeliveries.length === 0 && missingEvents.length === 0 && sameMessageTwice === 0 && acked.length > 0;
  log(
    `acked ${acked.length}/${all.length} messages; deliveries ${expectedDeliveries.length - missingDeliveries.length}/${expectedDeliveries.length} (missing ${missingDeliveries.length}, raw duplicates ${rawDuplicates}); ` +
      `message_queued events ${expectedEvents.size - missingEvents.length}/${expectedEvents.size} expected (${seen.size} in all; missing ${missingEvents.length}, duplicate deliveries ${probe.duplicateDeliveries()}); ` +
      `unexpected process exits ${unexpectedExits.length} => ${ok ? 'PASS' : 'FAIL'}`,
  );
  exitCode = ok ? 0 : 1;
} catch (err) {
  log(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
} finally {
  host.disconnect();
  offlineHost.disconnect();
  await probe?.stop();
  for (const p of Object.values(proxies)) await p.restore().catch(() => undefined);
  await stack?.close();
  for (const p of Object.values(proxies)) await p.stop().catch(() => undefined);
}
process.exit(exitCode);

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}
