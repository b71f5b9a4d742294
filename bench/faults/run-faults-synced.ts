/**
 * `npm run test:faults:synced`, the fault suite `npm test` runs for now: the older, weaker check.
 * It syncs every device's mailbox before counting, so a live message lost to a device that stayed
 * connected passes unseen. The stricter suite (`npm run test:faults`, run-faults.ts) checks live
 * delivery first and still finds such a loss now and then (docs/benchmarks.md, "Fault suite");
 * it replaces this one in `npm test` once that is fixed (issue 19).
 *
 * Starts its OWN throwaway PostgreSQL cluster, Redis and RabbitMQ node (bench/faults/private-infra.ts;
 * the machine's shared servers are never touched), two chat-service processes, one
 * notification-service and an SMTP catcher; drives steady load from online pairs (members on
 * different processes) and towards offline users, and meanwhile:
 *   1. kill -9 one chat-service process, then restart it;
 *   2. stop PostgreSQL (immediate shutdown: crash recovery on start), start it again;
 *   3. stop RabbitMQ (graceful broker stop), start it again;
 *   4. stop Redis (no persistence: it comes back empty), start it again.
 * Senders behave like the real client's outbox: an unacked send is retried with the same
 * clientMessageId until acked. Afterwards every device syncs its mailbox, the offline users
 * (who each got exactly one digest mail meanwhile) connect and drain, and the suite checks:
 * every generated message acked, every acked message delivered to every recipient device
 * (deduped by message id; raw redeliveries counted) and stored once, mailboxes empty, outbox
 * fully published, every expected `chat.message_queued.v1` on the bus and in
 * notification-service's inbox, one digest per offline recipient, no process exiting on its own.
 * Exit code 1 on any violation.
 */
import { parseArgs } from 'node:util';
import { uniqueSuffix } from '@cipherchat/service-kit/testing';
import type { MessageNew } from '@cipherchat/contracts';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { REPO_ROOT, startStack, type Stack } from '../src/stack.js';
import { makeKeyUpload } from '../src/signal-keys.js';
import { createConversation, mapLimit, provisionUsers, type BenchUser } from '../src/provision.js';
import { ClientHost, type ChatSocket, type ClientSpec } from '../src/load/client-host.js';
import { SmtpInbox } from '../../notification-service/test/support/smtp-inbox.js';
import { EventProbe } from './event-probe.js';
import { waitWhileRising } from './wait-progress.js';
import { PrivatePostgres, PrivateRabbit, PrivateRedis, onAbort, type PrivateServer } from './private-infra.js';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '20' },
    offline: { type: 'string', default: '20' },
    /** How long a server stays down between its stop and its start. */
    'down-ms': { type: 'string', default: '2000' },
    'recover-ms': { type: 'string', default: '5000' },
    /** notification-service's digest delay (DIGEST_DELAY_MINUTES, given in seconds here). */
    'digest-delay-s': { type: 'string', default: '3' },
  },
});
const PAIRS = Number(values.pairs);
const OFFLINE = Number(values.offline);
const DOWN_MS = Number(values['down-ms']);
const RECOVER_MS = Number(values['recover-ms']);
const DIGEST_DELAY_S = Number(values['digest-delay-s']);
/** Each online sender sends one message every TICK_MS (steady, modest load: faults are the subject). */
const TICK_MS = 100;
const WINDOW = 5;
const RESEND_AFTER_MS = 3000;
/**
 * The wait for notification-service's inbox to hold every expected event. noProgressMs: no new
 * inbox row for 30 s means the consumer is stuck or events are lost (a healthy consumer, even a
 * busy one, handles several per second). hardCapMs: a backlog that keeps draining gets up to
 * 5 minutes, so a slow CI machine is not taken for loss (one run had 387/410 after a fixed 30 s).
 */
const INBOX_WAIT = { noProgressMs: 30_000, hardCapMs: 300_000, pollMs: 250 } as const;
/**
 * Offline recipients are split into groups by index; group g gets its first message when phase
 * ACTIVATE[g] begins, so digests are armed and sent while the other faults happen. From then on
 * the courier writes round-robin to every activated recipient.
 */
const ACTIVATE = ['steady', 'killed', 'pg-down', 'amqp-down', 'redis-down'];
const suiteStart = performance.now();

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

const servers: { pg?: PrivatePostgres; amqp?: PrivateRabbit; redis?: PrivateRedis } = {};
const smtp = new SmtpInbox();
let stack: Stack | undefined;
let probe: EventProbe | undefined;
const host = new ClientHost({ reconnection: true, reconnectionDelay: 200, reconnectionDelayMax: 1000, timeout: 5000 });
const offlineHost = new ClientHost({ reconnection: true, reconnectionDelay: 200, reconnectionDelayMax: 1000 });
let exitCode = 1;
// Ctrl-C / SIGTERM: stop the services before private-infra removes the servers
onAbort(async () => {
  host.disconnect();
  offlineHost.disconnect();
  await stack?.close();
  await smtp.stop();
});

try {
  const t0 = performance.now();
  // the suite's own servers, in parallel (RabbitMQ takes the longest: ~8-10 s)
  const created = await Promise.allSettled([PrivatePostgres.create(), PrivateRabbit.create(), PrivateRedis.create(), smtp.start(0)]);
  if (created[0].status === 'fulfilled') servers.pg = created[0].value;
  if (created[1].status === 'fulfilled') servers.amqp = created[1].value;
  if (created[2].status === 'fulfilled') servers.redis = created[2].value;
  const failed = created.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const pgS = servers.pg as PrivatePostgres;
  const amqpS = servers.amqp as PrivateRabbit;
  const redisS = servers.redis as PrivateRedis;
  log(`private servers up in ${Math.round(performance.now() - t0)} ms: postgres :${pgS.port} (${pgS.dir}), rabbitmq ${amqpS.nodeName} :${amqpS.port}, redis :${redisS.port}; smtp catcher :${smtp.port}`);
  const suffix = uniqueSuffix();
  stack = await startStack({
    suffix,
    processes: 2,
    ports: { postgres: pgS.port, amqp: amqpS.port, redis: redisS.port },
    admin: { postgres: pgS.url, amqp: amqpS.url, redis: redisS.url },
    logLevel: 'info',
    notification: {
      smtpUrl: smtp.url,
      env: {
        DIGEST_DELAY_MINUTES: String(DIGEST_DELAY_S / 60),
        DIGEST_POLL_MS: '500',
        // outages last seconds here: retry fast, and never dead-letter because of them
        RETRY_BASE_MS: '200',
        RETRY_MAX_MS: '2000',
        RETRY_MAX_ATTEMPTS: '100',
        DIGEST_MAX_ATTEMPTS: '50',
        SMTP_TIMEOUT_MS: '5000',
      },
    },
  });
  log(`stack ${stack.dbName} on ${stack.services.map((s) => s.url).join(', ')}, notification-service ${stack.notification?.url}; logs ${stack.logDir}`);
  probe = new EventProbe(amqpS.url, stack.exchange, `bench_${suffix}.faults.probe`, ['chat.#']);
  await probe.start();

  const urls = stack.services.map((s) => s.url);
  const keys = makeKeyUpload();
  const users = await provisionUsers(urls, stack.issuer, PAIRS * 2 + OFFLINE + 1, keys);
  const online = users.slice(0, PAIRS * 2);
  const offlineUsers = users.slice(PAIRS * 2, PAIRS * 2 + OFFLINE);
  const courier = users[PAIRS * 2 + OFFLINE] as BenchUser; // sends to the offline users
  const pairConvs = await mapLimit(Array.from({ length: PAIRS }, (_, p) => p), 8, (p) =>
    createConversation(urls[0] as string, online[2 * p] as BenchUser, 'direct', [online[2 * p + 1] as BenchUser]),
  );
  const offlineConvs = await mapLimit(offlineUsers, 8, (u) => createConversation(urls[1] as string, courier, 'direct', [u]));

  // notification-service learns users (and that their address is verified) from user-service's
  // events; there is no user-service here, so the suite publishes them as user-service would
  const emailOf = (i: number) => `offline-${i}@bench.localhost`;
  const seeded = [...offlineUsers.map((_, i) => emailOf(i)), 'courier@bench.localhost'];
  await publishEvents(
    amqpS.url,
    stack.exchange,
    [...offlineUsers.map((u, i) => ({ u, i })), { u: courier, i: -1 }].map(({ u, i }) => ({
      type: 'user.profile_updated.v1',
      aggregateId: u.userId,
      payload: { userId: u.userId, email: i < 0 ? 'courier@bench.localhost' : emailOf(i), username: i < 0 ? 'courier' : `offline${i}`, displayName: i < 0 ? 'Courier' : `Offline ${i}`, emailVerified: true },
    })),
  );
  const knownDeadline = Date.now() + 30_000;
  let known = 0;
  while (Date.now() < knownDeadline) {
    known = Number((await stack.query<{ n: string }>('SELECT count(*) AS n FROM notify.users WHERE email_verified'))[0]?.n ?? 0);
    if (known >= OFFLINE + 1) break;
    await sleep(200);
  }
  if (known < OFFLINE + 1) throw new Error(`notification-service knows ${known}/${OFFLINE + 1} users after 30 s`);

  // online devices: pair members on different processes so live delivery crosses the Redis adapter
  // (spread: whatever credentials the bench user carries go to the handshake)
  const specs: ClientSpec[] = online.map((u, i) => ({ ...u, key: i, url: urls[i % 2] as string }));
  const courierKey = 1000;
  specs.push({ ...courier, key: courierKey, url: urls[0] as string });
  const conn = await host.connect(specs, 20);
  if (conn.failed) throw new Error(`connect failed: ${conn.errors.join('; ')}`);
  log(`${conn.connected} devices online, ${OFFLINE} offline users (verified addresses, digest after ${DIGEST_DELAY_S} s)`);
  // A handshake the server rejects (its middleware answered connect_error, e.g. while a
  // dependency is down) ends socket.io's automatic reconnection; the app then tries again, as a
  // real client would after a delay. Counted by error code in the report.
  const handshakeRejected: Record<string, number> = {};
  const watchHandshakes = (h: ClientHost) => {
    for (const c of h.clients.values()) {
      const socket = c.socket;
      socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
        if (socket.active) return; // transport error: socket.io retries by itself
        const code = err.data?.code ?? err.message;
        handshakeRejected[code] = (handshakeRejected[code] ?? 0) + 1;
        setTimeout(() => socket.connect(), 500);
      });
    }
  };
  watchHandshakes(host);

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
  let activatedGroups = 1;
  const courierSender: Sender = {
    key: courierKey,
    socket: () => host.clients.get(courierKey)?.socket,
    queue: [],
    seq: 0,
    next: () => {
      // round-robin over the activated offline recipients (group 0 is active from the start)
      let i = offlineTurn++ % OFFLINE;
      while (i % ACTIVATE.length >= activatedGroups) i = offlineTurn++ % OFFLINE;
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
  let differentIdOnResend = 0;
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
      // the same clientMessageId stored twice under two ids would be a duplicate message
      if (o.messageId && o.messageId !== res.data.messageId) differentIdOnResend++;
      if (o.messageId || res.data.duplicate) o.duplicateAcks++;
      o.messageId ??= res.data.messageId;
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

  // a supervisor like docker's `restart: unless-stopped`: a service process that exits on its
  // own (not our kill -9) is recorded as a finding (it fails the suite) and started again
  const unexpectedExits: { service: string; phase: string; at: string; code: number | null; signal: string | null }[] = [];
  let restarting = false;
  const supervisor = setInterval(() => {
    const s = stack;
    if (restarting || !s) return;
    for (const svc of [...s.services, ...(s.notification ? [s.notification] : [])]) {
      const child = svc.child;
      if (!child || (child.exitCode === null && child.signalCode === null)) continue;
      const name = svc === s.notification ? 'notification-service' : `chat-service #${svc.index}`;
      unexpectedExits.push({ service: name, phase, at: new Date().toISOString(), code: child.exitCode, signal: child.signalCode });
      log(`${name} exited on its own during ${phase} (code ${child.exitCode}); restarting it`);
      svc.child = undefined;
      restarting = true;
      (svc === s.notification ? s.restartNotification() : s.restart(svc.index))
        .catch((err: unknown) => log(`restart of ${name} failed: ${String(err)}`))
        .finally(() => {
          restarting = false;
        });
      return;
    }
  }, 250);

  const setPhase = (name: string) => {
    phase = name;
    const g = ACTIVATE.indexOf(name);
    if (g >= activatedGroups) activatedGroups = g + 1;
  };
  const hold = async (name: string, ms: number) => {
    setPhase(name);
    await sleep(ms);
  };
  const timeline: { fault: string; at: string; tMs: number }[] = [];
  const mark = (fault: string) => {
    timeline.push({ fault, at: new Date().toISOString(), tMs: Math.round(performance.now() - suiteStart) });
    log(fault);
  };
  /** A real restart of one of the suite's servers: stop, stay down DOWN_MS, start (waits until it answers). */
  const restartServer = async (label: string, server: PrivateServer, downPhase: string, afterPhase: string) => {
    mark(`stop ${label}`);
    setPhase(downPhase);
    await server.stop();
    await sleep(DOWN_MS);
    mark(`start ${label}`);
    await server.start();
    mark(`${label} up (stop took ${server.timings.stopMs.at(-1)} ms, start ${server.timings.startMs.at(-1)} ms)`);
    await hold(afterPhase, RECOVER_MS);
  };

  await hold('steady', RECOVER_MS);
  mark('kill -9 chat-service #1');
  await stack.kill(1);
  await hold('killed', 2000);
  mark('restart chat-service #1');
  await stack.restart(1);
  await hold('after-kill', RECOVER_MS);
  await restartServer('PostgreSQL', pgS, 'pg-down', 'after-pg');
  await restartServer('RabbitMQ', amqpS, 'amqp-down', 'after-amqp');
  await restartServer('Redis', redisS, 'redis-down', 'after-redis');

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

  // digests: every offline recipient that got an acked message must get exactly one digest
  // before it comes back (one absence = one digest: later messages wait DIGEST_REPEAT_HOURS)
  const expectedDigestTo = new Set(acked.flatMap((o) => o.recipients.filter((r) => r < 0).map((r) => emailOf(-1 - r))));
  mark(`waiting for ${expectedDigestTo.size} digests (bounded 60 s)`);
  const digestDeadline = Date.now() + 60_000;
  const mailedTo = () => new Set(smtp.mails.map((m) => m.to));
  while (Date.now() < digestDeadline && [...expectedDigestTo].some((a) => !mailedTo().has(a))) await sleep(200);

  // the offline users connect now and drain their mailboxes
  phase = 'offline-drain';
  mark('offline users connect and drain');
  const offlineSpecs: ClientSpec[] = offlineUsers.map((u, i) => ({ ...u, key: -1 - i, url: urls[i % 2] as string }));
  const offEmpty = new Set<number>();
  offlineHost.onMailboxEmpty((k) => offEmpty.add(k));
  await offlineHost.connect(offlineSpecs, 10);
  watchHandshakes(offlineHost);

  // wait (bounded) until every expected delivery is there
  const expectedDeliveries = acked.flatMap((o) => o.recipients.map((r) => `${r}:${o.messageId}`));
  const expectedSet = new Set(expectedDeliveries);
  const missing = () => expectedDeliveries.filter((id) => !received.has(id));
  const deliverDeadline = Date.now() + 30_000;
  while (Date.now() < deliverDeadline && missing().length > 0) await sleep(200);
  const missingDeliveries = missing();
  // deliveries of a message id the suite never had acked (a second copy stored under a new id)
  const unexpectedDeliveries = [...received.keys()].filter((k) => !expectedSet.has(k));
  // where are the missing ones? still in the mailbox (stored, not pushed) or gone?
  const missingIds = [...new Set(missingDeliveries.map((id) => id.slice(id.indexOf(':') + 1)))];
  const [inMailbox] = await stack.query<{ n: string }>('SELECT count(DISTINCT message_id) AS n FROM chat.mailbox WHERE message_id = ANY($1::uuid[])', [missingIds]);
  const [inMessages] = await stack.query<{ n: string }>('SELECT count(*) AS n FROM chat.messages WHERE message_id = ANY($1::uuid[])', [missingIds]);
  const [storedAll] = await stack.query<{ n: string }>('SELECT count(*) AS n FROM chat.messages');
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
    const m = new Map<string, string[]>();
    for (const e of queuedEvents()) {
      const k = `${String(e.payload.messageId)}:${String(e.payload.recipientUserId)}`;
      m.set(k, [...(m.get(k) ?? []), e.id]);
    }
    return m;
  };
  while (Date.now() < eventsDeadline && [...expectedEvents].some((k) => !seenKeys().has(k))) await sleep(200);
  // late duplicates (events or digests) would show up now; also after the drain no digest may follow
  await sleep(Math.max(2000, DIGEST_DELAY_S * 1000 + 1000));
  const seen = seenKeys();
  const missingEvents = [...expectedEvents].filter((k) => !seen.has(k));
  const sameMessageTwice = [...seen.values()].filter((ids) => ids.length > 1).length;
  const num = async (sql: string, params?: unknown[]) => Number((await stack?.query<{ n: string }>(sql, params).catch(() => undefined))?.[0]?.n ?? -1);
  const outboxLeft = await num('SELECT count(*) AS n FROM chat.outbox WHERE processed_at IS NULL');
  const notifyOutboxLeft = await num('SELECT count(*) AS n FROM notify.outbox WHERE processed_at IS NULL');
  // the consumer's view: every expected event id was handled (its inbox row is unique per id)
  const expectedEventIds = [...expectedEvents].flatMap((k) => seen.get(k) ?? []);
  // notification-service works through its backlog (every queued event, online users' too). How
  // long that takes depends on the backlog and the machine, so the wait lasts while the count still
  // rises; a stall or the cap ends it and the check below fails on whatever is missing then.
  const inboxWait = await waitWhileRising(
    () => num('SELECT count(*) AS n FROM notify.inbox WHERE id = ANY($1::uuid[])', [expectedEventIds]),
    expectedEventIds.length,
    INBOX_WAIT,
  );
  const inNotifyInbox = inboxWait.count;
  const sentMail = await stack.query<{ kind: string; status: string; reason: string | null; n: string }>('SELECT kind, status, reason, count(*) AS n FROM notify.sent_mail GROUP BY 1, 2, 3 ORDER BY 1, 2, 3').catch(() => []);
  const byType: Record<string, number> = {};
  for (const e of probe.events.values()) byType[e.type] = (byType[e.type] ?? 0) + 1;

  // mails, by (address, kind) (the kind is in the Message-ID `<eventId.kind@domain>`): exactly
  // one welcome per seeded user (its address became verified) and one digest per offline
  // recipient; nothing else
  const expectedMails = new Set([...seeded.map((a) => `${a} welcome`), ...[...expectedDigestTo].map((a) => `${a} digest`)]);
  const mailsPer = new Map<string, number>();
  for (const m of smtp.mails) {
    const k = `${m.to} ${/\.([a-z_]+)@/.exec(m.messageId)?.[1] ?? 'unknown'}`;
    mailsPer.set(k, (mailsPer.get(k) ?? 0) + 1);
  }
  const mailsMissing = [...expectedMails].filter((k) => !mailsPer.has(k));
  const mailsDuplicated = [...mailsPer].filter(([k, n]) => expectedMails.has(k) && n > 1).map(([k, n]) => `${k} x${n}`);
  const unexpectedMails = [...mailsPer.keys()].filter((k) => !expectedMails.has(k));
  const digests = smtp.mails.filter((m) => m.messageId.includes('.digest@'));
  const digestedMessages = digests.reduce((s, m) => s + Number(/(\d+) new message/.exec(m.subject)?.[1] ?? 1), 0);

  clearInterval(supervisor);
  const durationMs = Math.round(performance.now() - suiteStart);
  const report = {
    durationMs,
    timeline,
    servers: Object.fromEntries(Object.values(servers).map((s) => [s.name, { port: s.port, startMs: s.timings.startMs, stopMs: s.timings.stopMs }])),
    unexpectedExits,
    sends: {
      messages: all.length,
      acked: acked.length,
      neverAcked,
      attempts: all.reduce((s, o) => s + o.attempts, 0),
      resentMessages: all.filter((o) => o.attempts > 1).length,
      duplicateAcks: all.reduce((s, o) => s + o.duplicateAcks, 0),
      differentIdOnResend,
      ackErrors,
      errorCodes,
    },
    deliveries: {
      expected: expectedDeliveries.length,
      deliveredUnique: expectedDeliveries.length - missingDeliveries.length,
      missing: missingDeliveries.length,
      unexpected: unexpectedDeliveries.length,
      storedMessages: Number(storedAll?.n ?? -1),
      rawDuplicatesObserved: rawDuplicates,
      exactlyOnceAfterDedupe: missingDeliveries.length === 0 && unexpectedDeliveries.length === 0,
      liveBeforeFinalSync: liveBeforeSync,
      byPhase: Object.fromEntries(receivedIn),
      mailboxRowsLeft: Number(left?.n ?? -1),
      missingSample: missingDeliveries.slice(0, 5),
      missingByPhase: missingBy,
      missingStillInMailbox: Number(inMailbox?.n ?? 0),
      missingStoredAsMessages: Number(inMessages?.n ?? 0),
      onlineDevicesConnectedAtFinalSync: `${connectedAtSync}/${onlineKeys.length}`,
      handshakesRejectedThenRetried: handshakeRejected,
      mailboxEmptyAfterSync: emptied.size,
      offlineMailboxEmpty: offEmpty.size,
    },
    events: {
      expectedMessageQueued: expectedEvents.size,
      matchedExpected: expectedEvents.size - missingEvents.length,
      // also published for online users whose device was disconnected at that moment (kill, restarts)
      uniqueMessageQueuedAll: seen.size,
      missing: missingEvents.length,
      sameMessageAndRecipientWithDifferentIds: sameMessageTwice,
      deliveriesObserved: probe.totalDeliveries(),
      uniqueEventIds: probe.events.size,
      duplicateDeliveriesObserved: probe.duplicateDeliveries(),
      probeReconnects: probe.reconnects,
      malformed: probe.malformed,
      byType,
      outboxUnpublished: outboxLeft,
      notifyOutboxUnpublished: notifyOutboxLeft,
      expectedInNotificationInbox: `${inNotifyInbox}/${expectedEventIds.length}`,
      notificationInboxWait: inboxWait,
    },
    mail: {
      expectedDigests: expectedDigestTo.size,
      digestsReceived: digests.length,
      expectedWelcomes: seeded.length,
      mailsReceived: smtp.mails.length,
      mailsExpected: expectedMails.size,
      missing: mailsMissing,
      duplicated: mailsDuplicated,
      unexpected: unexpectedMails,
      messagesCountedInDigests: digestedMessages,
      sentMailLog: sentMail.map((r) => ({ ...r, n: Number(r.n) })),
    },
  };
  // PASS: nothing lost, nothing twice, nothing left behind. A send the outage refused is fine
  // (the generator retries it like the client's outbox), but every message must be acked within
  // 60 s of the last fault; at-least-once redeliveries of the same message id (rawDuplicates,
  // duplicate bus deliveries) are allowed because clients and consumers dedupe by id.
  const checks: Record<string, boolean> = {
    'messages were sent': acked.length > 0,
    'every message acked (after retries)': neverAcked === 0,
    // (chat.messages' key is (sender, clientMessageId); a message stored but never acked may be delivered)
    'no message stored twice': differentIdOnResend === 0 && Number(storedAll?.n) <= all.length && new Set(unexpectedDeliveries.map((k) => k.slice(k.indexOf(':') + 1))).size <= neverAcked,
    'every acked message delivered to every device': missingDeliveries.length === 0,
    'mailboxes empty': Number(left?.n) === 0,
    'outbox fully published': outboxLeft === 0 && notifyOutboxLeft === 0,
    'every expected message_queued event on the bus, once per (message, recipient)': missingEvents.length === 0 && sameMessageTwice === 0 && probe.malformed === 0,
    'every expected event in notification-service inbox': inNotifyInbox === expectedEventIds.length && expectedEventIds.length === expectedEvents.size,
    'one digest per offline recipient, one welcome per verified user, no other mail': mailsMissing.length === 0 && mailsDuplicated.length === 0 && unexpectedMails.length === 0,
    'no process exited on its own': unexpectedExits.length === 0,
  };
  const failedChecks = Object.entries(checks).filter(([, ok]) => !ok).map(([name]) => name);
  const ok = failedChecks.length === 0;
  const commit = git(['rev-parse', 'HEAD']);
  const full = { result: ok ? 'PASS' : 'FAIL', failedChecks, commit, chatServiceCommit: git(['log', '-1', '--format=%H', '--', 'chat-service']), dirty: git(['status', '--porcelain', '--', 'chat-service', 'notification-service', 'packages', 'bench']).length > 0, ...report };
  process.stdout.write(`${JSON.stringify(full)}\n`);
  const dir = path.join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `faults-synced-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(full, null, 2)}\n`);
  const srv = (s: PrivateServer) => `${s.name} stop ${s.timings.stopMs.join('/')} ms, start ${s.timings.startMs.join('/')} ms`;
  process.stderr.write(
    [
      '',
      `fault suite (synced) ${ok ? 'PASS' : 'FAIL'} in ${(durationMs / 1000).toFixed(0)} s (commit ${commit.slice(0, 7)}); report ${file}`,
      `  servers:     ${Object.values(servers).map(srv).join('; ')}`,
      `  sends:       ${all.length} messages, ${acked.length} acked, ${neverAcked} never acked; ${report.sends.attempts} attempts (${report.sends.resentMessages} resent, ${report.sends.duplicateAcks} duplicate acks); errors ${JSON.stringify(errorCodes)}`,
      `  devices:     ${connectedAtSync}/${onlineKeys.length} online devices connected at the final sync; handshakes rejected (then retried) ${JSON.stringify(handshakeRejected)}`,
      `  deliveries:  ${report.deliveries.deliveredUnique}/${expectedDeliveries.length} (missing ${missingDeliveries.length}, unexpected ${unexpectedDeliveries.length}, stored ${report.deliveries.storedMessages}), raw duplicates ${rawDuplicates}, mailbox rows left ${report.deliveries.mailboxRowsLeft}`,
      `  events:      message_queued ${expectedEvents.size - missingEvents.length}/${expectedEvents.size} expected (${seen.size} in all, ${sameMessageTwice} with two ids, ${probe.duplicateDeliveries()} duplicate bus deliveries); in notification inbox ${inNotifyInbox}/${expectedEventIds.length} (${inboxWait.outcome} after ${inboxWait.waitedMs} ms); outbox unpublished ${outboxLeft} chat / ${notifyOutboxLeft} notify`,
      `  mail:        ${digests.length} digests for ${expectedDigestTo.size} offline recipients (${digestedMessages} messages counted in them), ${smtp.mails.length - digests.length} other mails for ${seeded.length} expected welcomes; missing ${mailsMissing.length}, duplicated ${mailsDuplicated.length}, unexpected ${unexpectedMails.length}`,
      `  exits:       ${unexpectedExits.length} unexpected${unexpectedExits.length ? `: ${unexpectedExits.map((e) => `${e.service} in ${e.phase}`).join(', ')}` : ''}`,
      ...(ok ? [] : [`  FAILED:      ${failedChecks.join('; ')}`]),
      '',
    ].join('\n'),
  );
  exitCode = ok ? 0 : 1;
} catch (err) {
  log(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
} finally {
  host.disconnect();
  offlineHost.disconnect();
  await probe?.stop();
  await stack?.close().catch((err: unknown) => log(`stack close failed: ${String(err)}`));
  await smtp.stop().catch(() => undefined);
  for (const s of Object.values(servers)) await s.destroy().catch(() => undefined);
}
process.exit(exitCode);

/**
 * Publishes events on the stack's exchange as their producer would (envelope, routing key =
 * type, persistent, publisher confirms).
 * @param url amqp URL
 * @param exchange the stack's exchange
 * @param events type, aggregate id and payload of each
 */
async function publishEvents(url: string, exchange: string, events: { type: string; aggregateId: string; payload: unknown }[]): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertExchange(exchange, 'topic', { durable: true });
    for (const e of events) {
      const envelope = { id: randomUUID(), type: e.type, occurredAt: new Date().toISOString(), aggregateId: e.aggregateId, payload: e.payload };
      ch.publish(exchange, e.type, Buffer.from(JSON.stringify(envelope)), { persistent: true, contentType: 'application/json', messageId: envelope.id });
    }
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}
