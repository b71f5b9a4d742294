/**
 * `npm run test:faults`: the "nothing lost, nothing twice" claim under kill -9.
 *
 * Starts its OWN throwaway PostgreSQL cluster, Redis and RabbitMQ node (bench/faults/private-infra.ts;
 * the machine's shared servers are never touched), two chat-service processes, one
 * notification-service, one user-service and an SMTP catcher; drives steady load from online
 * pairs (members on different processes), towards offline users and (sign-ups) on user-service,
 * and meanwhile SIGKILLs, one after the other, each under load and each started again:
 * chat-service #1, PostgreSQL's postmaster (crash recovery on start), RabbitMQ's Erlang VM,
 * Redis (it comes back empty), notification-service and user-service.
 * Senders behave like the real client's outbox (load-driver.ts): an unacked send is retried with
 * the same clientMessageId until acked; every failed attempt is counted by the fault it happened in.
 *
 * Then, WITHOUT asking the server for anything (no `mailbox:sync`), the delivery ledger
 * (delivery-ledger.ts) checks every online device: a device that stayed connected must have
 * received every acked message live, on the connection it had when the message was sent; only a
 * device whose socket a fault cut may have got a message after reconnecting (the server's mailbox
 * drain on the new connection), counted separately. The same live check also runs just before
 * each kill (a checkpoint), so a later recovery cannot hide an earlier loss. Bodies, sender, conversation and per-sender
 * order are checked on every copy. The offline users connect last and drain their mailboxes.
 * Further checks: stored messages = acked messages, every acked message once per recipient device
 * after dedupe (raw duplicates reported), mailboxes empty, outboxes published, every expected
 * `chat.message_queued.v1` once on the bus and in notification-service's inbox, exactly one digest
 * per offline recipient, one welcome per seeded user and one verification mail per sign-up, no
 * process exiting on its own.
 * Exit code 1 on any violation.
 */
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { uniqueSuffix } from '@cipherchat/service-kit/testing';
import { startStack, type Stack } from '../src/stack.js';
import { makeKeyUpload } from '../src/signal-keys.js';
import { createConversation, mapLimit, provisionUsers, type BenchUser } from '../src/provision.js';
import { ClientHost, type ClientSpec } from '../src/load/client-host.js';
import { SmtpInbox } from '../../notification-service/test/support/smtp-inbox.js';
import { EventProbe } from './event-probe.js';
import { waitWhileRising } from './wait-progress.js';
import { PrivatePostgres, PrivateRabbit, PrivateRedis, onAbort, type PrivateServer } from './private-infra.js';
import { DeliveryLedger } from './delivery-ledger.js';
import { LoadDriver, type Sender } from './load-driver.js';
import { publishEvents, revision, writeReport } from './report.js';
import { UserLoad, startUserService, type UserServiceProcess } from './user-load.js';
import { FaultTimeline } from './fault-timeline.js';
import { checkBusAndMail } from './bus-mail-checks.js';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '20' },
    offline: { type: 'string', default: '20' },
    /** How long a killed server stays down before it is started again. */
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
/** Most sign-ups of the user-service load (one at a time, while user-service is killed and restarted). */
const USER_SIGNUPS = 60;
/**
 * The wait for notification-service's inbox to hold every expected event. noProgressMs: no new
 * inbox row for 30 s means the consumer is stuck or events are lost (a healthy consumer, even a
 * busy one, handles several per second). hardCapMs: a backlog that keeps draining gets up to
 * 5 minutes, so a slow CI machine is not taken for loss (one run had 387/410 after a fixed 30 s).
 */
const INBOX_WAIT = { noProgressMs: 30_000, hardCapMs: 300_000, pollMs: 250 } as const;
/** The wait for online devices' deliveries after the last ack: ends when none is missing, or 10 s without a new one. */
/** How long a live delivery may take at the checkpoint before each kill (far above its usual milliseconds). */
const LIVE_SETTLED_MS = 3000;
const DELIVERY_WAIT = { noProgressMs: 10_000, hardCapMs: 60_000, pollMs: 100 } as const;
/**
 * Offline recipients are split into groups by index; group g gets its first message when phase
 * ACTIVATE[g] begins, so digests are armed and sent while the other faults happen. From then on
 * the courier writes round-robin to every activated recipient.
 */
const ACTIVATE = ['steady', 'chat-killed', 'pg-killed', 'amqp-killed', 'redis-killed', 'notify-killed'];
const suiteStart = performance.now();

const log = (msg: string) => process.stderr.write(`[faults ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const servers: { pg?: PrivatePostgres; amqp?: PrivateRabbit; redis?: PrivateRedis } = {};
const smtp = new SmtpInbox();
let stack: Stack | undefined;
let probe: EventProbe | undefined;
let userSvc: UserServiceProcess | undefined;
const host = new ClientHost({ reconnection: true, reconnectionDelay: 200, reconnectionDelayMax: 1000, timeout: 5000 });
const offlineHost = new ClientHost({ reconnection: true, reconnectionDelay: 200, reconnectionDelayMax: 1000 });
let exitCode = 1;
// Ctrl-C / SIGTERM: stop the services before private-infra removes the servers
onAbort(async () => {
  host.disconnect();
  offlineHost.disconnect();
  await userSvc?.stop();
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
  probe = new EventProbe(amqpS.url, stack.exchange, `bench_${suffix}.faults.probe`, ['chat.#', 'user.#']);
  await probe.start();

  // user-service compiles and migrates while the users are provisioned
  const userSvcStarting = startUserService({ databaseUrl: stack.databaseUrl, exchange: stack.exchange, amqpUrl: amqpS.url, redisUrl: redisS.url, redisPrefix: stack.redisPrefix, logDir: stack.logDir });
  userSvcStarting.catch(() => undefined);
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

  // the ledger hears every connect, disconnect and copy of every hosted device
  const ledger = new DeliveryLedger();
  for (const h of [host, offlineHost]) {
    h.onConnection((key, connected) => ledger.connection(key, connected));
    h.onEnvelope((key, m) => ledger.receive(key, m));
  }
  for (const k of host.clients.keys()) ledger.connection(k, host.clients.get(k)?.socket.connected ?? false);
  userSvc = await userSvcStarting;
  log(`user-service on ${userSvc.url}`);

  let phase = 'steady';
  const senders: Sender[] = [];
  for (let p = 0; p < PAIRS; p++) {
    for (const [from, to] of [
      [2 * p, 2 * p + 1],
      [2 * p + 1, 2 * p],
    ] as const) {
      const toUser = online[to] as BenchUser;
      senders.push({
        key: from,
        userId: (online[from] as BenchUser).userId,
        socket: () => host.clients.get(from)?.socket,
        next: () => ({ conversationId: pairConvs[p] as string, to: [toUser], recipients: [to], offlineRecipients: [] }),
      });
    }
  }
  let offlineTurn = 0;
  let activatedGroups = 1;
  senders.push({
    key: courierKey,
    userId: courier.userId,
    socket: () => host.clients.get(courierKey)?.socket,
    next: () => {
      // round-robin over the activated offline recipients (group 0 is active from the start)
      let i = offlineTurn++ % OFFLINE;
      while (i % ACTIVATE.length >= activatedGroups) i = offlineTurn++ % OFFLINE;
      const u = offlineUsers[i] as BenchUser;
      return { conversationId: offlineConvs[i] as string, to: [u], recipients: [-1 - i], offlineRecipients: [u.userId] };
    },
  });
  const driver = new LoadDriver(senders, ledger, () => phase, randomBytes(3).toString('hex'));
  driver.start(TICK_MS);

  // before each kill: what was acked LIVE_SETTLED_MS ago is on every device still on its connection
  const onlineKeys = new Set(host.clients.keys());
  const checkpoints: { before: string; missing: number; sample: string[] }[] = [];
  const tl = new FaultTimeline({
    log,
    suiteStart,
    downMs: DOWN_MS,
    recoverMs: RECOVER_MS,
    onPhase: (name) => {
      phase = name;
      const g = ACTIVATE.indexOf(name);
      if (g >= activatedGroups) activatedGroups = g + 1;
    },
    beforeKill: (component) => {
      const c = ledger.checkpoint(driver.all, onlineKeys, LIVE_SETTLED_MS);
      // which phase those were sent and acked in, how many attempts (for the diagnosis)
      const byCid = new Map(driver.all.map((o) => [o.clientMessageId, o]));
      c.sample = c.sample.map((line) => {
        const o = byCid.get(line.split(' ')[2] ?? '');
        return `${line} (sent in ${o?.sentIn}, acked in ${o?.ackedIn}, ${o?.attempts} attempts)`;
      });
      checkpoints.push({ before: component, ...c });
      if (c.missing > 0) log(`LOST LIVE before the kill of ${component}: ${c.missing} (e.g. ${c.sample.join(', ')})`);
    },
  });
  const st = stack;
  tl.supervise(() => [
    ...st.services.map((svc) => ({ name: `chat-service #${svc.index}`, child: () => svc.child, forget: () => (svc.child = undefined), restart: () => st.restart(svc.index) })),
    { name: 'notification-service', child: () => st.notification?.child, forget: () => st.notification && (st.notification.child = undefined), restart: () => st.restartNotification() },
    { name: 'user-service', child: () => userSvc?.child, forget: () => userSvc && (userSvc.child = undefined), restart: async () => userSvc?.restart() },
  ]);
  const killServer = (s: PrivateServer) => async () => {
    const { pid, comm } = await s.kill9();
    return `${comm} pid ${pid}`;
  };
  const childPid = (c: { pid: number }) => `node pid ${c.pid}`;

  await tl.hold('steady', RECOVER_MS);
  await tl.killAndRestart(
    'chat-service #1',
    'chat-killed',
    'after-chat',
    async () => {
      const hit = childPid(st.services[1] as { pid: number });
      await st.kill(1);
      return hit;
    },
    () => st.restart(1),
  );
  await tl.killAndRestart('PostgreSQL postmaster', 'pg-killed', 'after-pg', killServer(pgS), () => pgS.start());
  await tl.killAndRestart('RabbitMQ node', 'amqp-killed', 'after-amqp', killServer(amqpS), () => amqpS.start());
  await tl.killAndRestart('Redis', 'redis-killed', 'after-redis', killServer(redisS), () => redisS.start());
  await tl.killAndRestart(
    'notification-service',
    'notify-killed',
    'after-notify',
    async () => {
      const hit = childPid(st.notification as { pid: number });
      await st.killNotification();
      return hit;
    },
    () => st.restartNotification(),
  );
  // user-service: sign-ups one after the other (each must bring one verification mail)
  const us = userSvc;
  const userLoad = new UserLoad(us.url, () => phase, randomBytes(3).toString('hex'));
  tl.setPhase('users-steady');
  userLoad.start(USER_SIGNUPS, 100);
  await sleep(DOWN_MS);
  await tl.killAndRestart(
    'user-service',
    'users-killed',
    'after-users',
    async () => {
      const hit = `node pid ${us.child?.pid}`;
      await us.kill();
      return hit;
    },
    () => us.restart(),
  );
  await userLoad.stop();

  tl.mark('stop sending; waiting for every send to be acked (bounded 60 s)');
  driver.sending = false;
  phase = 'settle';
  const ackDeadline = Date.now() + 60_000;
  while (Date.now() < ackDeadline && driver.unacked() > 0) await sleep(100);
  driver.stop();
  await tl.stopSupervising();
  const all = driver.all;
  const acked = all.filter((o) => o.messageId);
  const neverAcked = all.filter((o) => !o.messageId);
  const neverAckedBy: Record<string, number> = {};
  for (const o of neverAcked) {
    const cause = o.rejected ? `refused ${o.rejected}` : `last attempt in ${o.lastAttemptIn ?? 'none'}`;
    neverAckedBy[cause] = (neverAckedBy[cause] ?? 0) + 1;
  }

  // The live check. Nothing is asked of the server: cut devices reconnect on their own (the
  // server drains their mailbox on connect), devices that stayed connected get nothing extra.
  tl.mark('counting deliveries to online devices (no mailbox:sync)');
  const reconnectDeadline = Date.now() + 60_000;
  while (Date.now() < reconnectDeadline && host.connectedCount() < onlineKeys.size) await sleep(200);
  const connectedAtCheck = host.connectedCount();
  const expectedOnline = acked.flatMap((o) => o.recipients.filter((r) => onlineKeys.has(r)).map((r) => [r, o.messageId as string] as const));
  const deliveryWait = await waitWhileRising(async () => expectedOnline.filter(([r, id]) => ledger.has(r, id)).length, expectedOnline.length, DELIVERY_WAIT);
  const live = ledger.summarize(acked, onlineKeys);

  // Diagnosis only, after counting: where are the missing ones (in the mailbox = stored, not
  // pushed; or gone)? Then one sync for the devices missing something shows whether it was there.
  const missingOnline = expectedOnline.filter(([r, id]) => !ledger.has(r, id));
  const missingIds = [...new Set(missingOnline.map(([, id]) => id))];
  const [inMailbox] = await st.query<{ n: string }>('SELECT count(DISTINCT message_id) AS n FROM chat.mailbox WHERE message_id = ANY($1::uuid[])', [missingIds]);
  let recoveredBySync = 0;
  if (missingOnline.length > 0) {
    for (const k of new Set(missingOnline.map(([r]) => r))) host.clients.get(k)?.socket.emit('mailbox:sync');
    await sleep(5000);
    recoveredBySync = missingOnline.filter(([r, id]) => ledger.has(r, id)).length;
  }
  const missingByPhase: Record<string, number> = {};
  const byId = new Map(acked.map((o) => [o.messageId as string, o]));
  const missingDetail = missingOnline.slice(0, 30).map(([r, id]) => {
    const o = byId.get(id);
    return { device: r, sender: o?.senderKey, clientMessageId: o?.clientMessageId, messageId: id, attempts: o?.attempts, duplicateAcks: o?.duplicateAcks, sentIn: o?.sentIn, ackedIn: o?.ackedIn, ackMs: o?.ackedAt !== undefined && o.firstAttemptAt !== undefined ? Math.round(o.ackedAt - o.firstAttemptAt) : undefined, atSend: o?.atSend?.get(r), deviceCut: ledger.wasCut(r), recoveredBySync: ledger.has(r, id) };
  });
  for (const [, id] of missingOnline) {
    const o = byId.get(id);
    const k = `sent ${o?.sentIn} / acked ${o?.ackedIn}`;
    missingByPhase[k] = (missingByPhase[k] ?? 0) + 1;
  }

  // digests: every offline recipient that got an acked message must get exactly one digest
  // before it comes back (one absence = one digest: later messages wait DIGEST_REPEAT_HOURS)
  const expectedDigestTo = new Set(acked.flatMap((o) => o.recipients.filter((r) => r < 0).map((r) => emailOf(-1 - r))));
  tl.mark(`waiting for ${expectedDigestTo.size} digests (bounded 60 s)`);
  const digestDeadline = Date.now() + 60_000;
  const mailedTo = () => new Set(smtp.mails.map((m) => m.to));
  while (Date.now() < digestDeadline && [...expectedDigestTo].some((a) => !mailedTo().has(a))) await sleep(200);

  // the offline users connect now and drain their mailboxes
  phase = 'offline-drain';
  tl.mark('offline users connect and drain');
  const offlineSpecs: ClientSpec[] = offlineUsers.map((u, i) => ({ ...u, key: -1 - i, url: urls[i % 2] as string }));
  const offEmpty = new Set<number>();
  offlineHost.onMailboxEmpty((k) => offEmpty.add(k));
  await offlineHost.connect(offlineSpecs, 10);
  watchHandshakes(offlineHost);
  const offlineKeys = new Set(offlineSpecs.map((s) => s.key));
  const expectedOffline = acked.flatMap((o) => o.recipients.filter((r) => offlineKeys.has(r)).map((r) => [r, o.messageId as string] as const));
  const offlineWait = await waitWhileRising(async () => expectedOffline.filter(([r, id]) => ledger.has(r, id)).length, expectedOffline.length, DELIVERY_WAIT);
  const drained = ledger.summarize(acked, offlineKeys);

  // stored = acked: every acked id stored, nothing else stored (chat.messages is keyed by (sender, clientMessageId))
  const ackedIds = acked.map((o) => o.messageId as string);
  const num = async (sql: string, params?: unknown[]) => Number((await stack?.query<{ n: string }>(sql, params).catch(() => undefined))?.[0]?.n ?? -1);
  const storedAll = await num('SELECT count(*) AS n FROM chat.messages');
  const storedAcked = await num('SELECT count(*) AS n FROM chat.messages WHERE message_id = ANY($1::uuid[])', [ackedIds]);
  // receipts must go out before the mailbox check
  await sleep(1500);
  const mailboxLeft = await num('SELECT count(*) AS n FROM chat.mailbox');

  const signUps = userLoad.signUps;
  const registered = signUps.filter((x) => x.registered);
  const bus = await checkBusAndMail({
    probe,
    num,
    mails: () => smtp.mails,
    expectedQueued: new Set(acked.flatMap((o) => o.offlineRecipients.map((u) => `${o.messageId}:${u}`))),
    welcomeTo: seeded,
    digestTo: expectedDigestTo,
    signUps,
    settleMs: Math.max(2000, DIGEST_DELAY_S * 1000 + 1000),
    inboxWait: INBOX_WAIT,
  });
  const durationMs = Math.round(performance.now() - suiteStart);
  const failedAttemptsTotal = Object.values(driver.failedAttempts).reduce((s, c) => s + Object.values(c).reduce((a, b) => a + b, 0), 0);
  const report = {
    durationMs,
    timeline: tl.timeline,
    kills: tl.kills,
    servers: Object.fromEntries(Object.values(servers).map((s) => [s.name, { port: s.port, ...s.timings }])),
    unexpectedExits: tl.unexpectedExits,
    sends: {
      messages: all.length,
      acked: acked.length,
      neverAcked: neverAcked.length,
      neverAckedByCause: neverAckedBy,
      attempts: all.reduce((s, o) => s + o.attempts, 0),
      resentMessages: all.filter((o) => o.attempts > 1).length,
      duplicateAcks: all.reduce((s, o) => s + o.duplicateAcks, 0),
      differentIdOnResend: driver.differentIdOnResend,
      failedAttempts: failedAttemptsTotal,
      failedAttemptsByFault: driver.failedAttempts,
    },
    stored: { messages: storedAll, ackedIdsStored: storedAcked, acked: acked.length },
    liveDelivery: {
      ...live,
      lostLiveAtCheckpoints: checkpoints.reduce((n, c) => n + c.missing, 0),
      checkpoints,
      onlineDevices: onlineKeys.size,
      connectedAtCheck,
      wait: deliveryWait,
      missingStillInMailbox: Number(inMailbox?.n ?? 0),
      missingRecoveredByDiagnosticSync: recoveredBySync,
      missingByPhase,
      missingDetail,
      handshakesRejectedThenRetried: handshakeRejected,
    },
    offlineDrain: { ...drained, devices: offlineKeys.size, mailboxEmpty: offEmpty.size, wait: offlineWait },
    mailboxRowsLeft: mailboxLeft,
    ...bus.report,
    users: {
      signUps: signUps.length,
      registered: registered.length,
      givenUp: signUps.length - registered.length,
      retriedAfterFailedAttempt: signUps.filter((x) => x.hadFailedAttempt).length,
      failedAttemptsByFault: userLoad.failedAttempts,
    },
  };
  // PASS: nothing lost, nothing twice, nothing left behind, and nothing that needed a sync. A send
  // a fault refused is fine (the generator retries it like the client's outbox; failed attempts
  // are reported by fault), but every message must be acked within 60 s of the last fault.
  // At-least-once redeliveries of the same message id (raw duplicates, duplicate bus deliveries)
  // are allowed because clients and consumers dedupe by id; they are reported.
  const checks: Record<string, boolean> = {
    'messages were sent': acked.length > 0,
    'every message acked (after retries)': neverAcked.length === 0,
    'stored messages = acked messages': storedAll === acked.length && storedAcked === acked.length && driver.differentIdOnResend === 0,
    'devices that stayed connected got every message live (no sync)': live.missingLive === 0,
    'before each kill, every message acked 3 s earlier was on every device still connected': checkpoints.length === 6 && checkpoints.every((c) => c.missing === 0),
    'cut devices got every message after reconnecting (no sync)': live.missingAfterCut === 0,
    'offline users got every message from their mailbox': drained.missingLive + drained.missingAfterCut === 0,
    'no copy of an unacked or unknown message': live.unexpected + drained.unexpected === 0,
    'every copy has the body, sender and conversation sent': live.bodyMismatches === 0 && live.unknownBodies === 0,
    'per-sender order kept on every device that stayed connected': live.orderViolations === 0,
    'mailboxes empty': mailboxLeft === 0,
    ...bus.checks,
    'every sign-up registered': registered.length === signUps.length && signUps.length > 0,
    'every component was kill -9ed and came back': tl.kills.length === 6,
    'no process exited on its own': tl.unexpectedExits.length === 0,
  };
  const failedChecks = Object.entries(checks).filter(([, ok]) => !ok).map(([name]) => name);
  const ok = failedChecks.length === 0;
  const rev = revision();
  const full = { result: ok ? 'PASS' : 'FAIL', failedChecks, ...rev, ...report };
  process.stdout.write(`${JSON.stringify(full)}\n`);
  const file = writeReport(full);
  const n = (x: number) => x.toLocaleString('en-US');
  process.stderr.write(
    [
      '',
      `fault suite ${ok ? 'PASS' : 'FAIL'} in ${(durationMs / 1000).toFixed(0)} s (commit ${rev.commit.slice(0, 7)}${rev.dirty ? ', uncommitted changes' : ''}); report ${file}`,
      `  kill -9:     ${tl.kills.map((k) => `${k.component} (${k.process}; back after ${n(k.downMs)} ms)`).join('; ')}`,
      `  sends:       ${n(all.length)} messages, ${n(acked.length)} acked, ${neverAcked.length} never acked ${JSON.stringify(neverAckedBy)}; stored ${n(storedAll)}; ${n(report.sends.attempts)} attempts (${report.sends.resentMessages} resent, ${report.sends.duplicateAcks} duplicate acks)`,
      `  refused:     ${Object.entries(driver.failedAttempts).map(([p, c]) => `${p} ${JSON.stringify(c)}`).join(', ') || 'none'} (all retried)`,
      `  online:      live ${n(live.live)} / via mailbox after reconnect ${n(live.afterReconnect)} of ${n(live.expected)} expected; LOST LIVE ${live.missingLive} at the end, ${checkpoints.map((c) => c.missing).join('/')} at the checkpoints before each kill; missing after a cut ${live.missingAfterCut}; ${live.devicesCut}/${onlineKeys.size} devices were cut by a fault, ${live.devicesNeverCut} stayed connected`,
      `  copies:      raw duplicates ${live.rawDuplicates}, unexpected ${live.unexpected + drained.unexpected}, wrong body ${live.bodyMismatches}, unknown ${live.unknownBodies}, order violations ${live.orderViolations} live, ${live.orderViolationsAcrossReconnect} across a reconnect (reported)`,
      `  offline:     ${n(drained.expected - drained.missingLive - drained.missingAfterCut)}/${n(drained.expected)} drained by ${offlineKeys.size} offline users; mailbox rows left ${mailboxLeft}`,
      `  events:      message_queued ${bus.report.events.matchedExpected}/${bus.report.events.expectedMessageQueued} expected (${bus.report.events.uniqueMessageQueuedAll} in all, ${bus.report.events.sameMessageAndRecipientWithDifferentIds} with two ids, ${bus.report.events.duplicateDeliveriesObserved} duplicate bus deliveries); in notification inbox ${bus.report.events.expectedInNotificationInbox} (${bus.report.events.notificationInboxWait.outcome} after ${bus.report.events.notificationInboxWait.waitedMs} ms); outbox unpublished ${JSON.stringify(bus.report.events.outboxUnpublished)}`,
      `  users:       ${registered.length}/${signUps.length} sign-ups registered (${report.users.retriedAfterFailedAttempt} retried after a failed attempt: ${JSON.stringify(userLoad.failedAttempts)}); user events not exactly once ${bus.report.events.userEventsNotExactlyOnce.length}; ${bus.report.mail.registrationAttemptNoticesExplainedByKill.length} registration_attempt notices explained by the kill`,
      `  mail:        ${bus.report.mail.distinctReceived} distinct mails for ${bus.report.mail.expected} expected (${bus.report.mail.digests} digests for ${expectedDigestTo.size} offline recipients, ${seeded.length} welcomes, ${registered.length} verifications); missing ${bus.report.mail.missing.length}, duplicated ${bus.report.mail.duplicated.length}, unexpected ${bus.report.mail.unexpected.length}; raw duplicate deliveries (same Message-ID) ${bus.report.mail.rawDuplicateMails}`,
      `  exits:       ${tl.unexpectedExits.length} unexpected${tl.unexpectedExits.length ? `: ${tl.unexpectedExits.map((e) => `${e.service} in ${e.phase}`).join(', ')}` : ''}`,
      ...(live.missingLive > 0 ? [`  lost live:   ${JSON.stringify(missingByPhase)}; ${report.liveDelivery.missingStillInMailbox} still in the mailbox, ${recoveredBySync} came with a diagnostic sync after counting; e.g. ${live.missingLiveSample.join(', ')}`] : []),
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
  await userSvc?.stop().catch(() => undefined);
  await probe?.stop();
  await stack?.close().catch((err: unknown) => log(`stack close failed: ${String(err)}`));
  await smtp.stop().catch(() => undefined);
  for (const s of Object.values(servers)) await s.destroy().catch(() => undefined);
}
process.exit(exitCode);
