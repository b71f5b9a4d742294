/**
 * The fault suite's checks of what went over the bus and out as mail, after the load:
 * - one `chat.message_queued.v1` per (acked message, offline recipient), under one event id,
 *   and each of those handled by notification-service (a row in `notify.inbox`);
 * - one `user.registered.v1` and one `user.email_verification_requested.v1` per sign-up;
 * - mail, by (address, kind) after dedupe by Message-ID: exactly one welcome per seeded user, one
 *   digest per offline recipient, one verification mail per sign-up, nothing else (a
 *   `registration_attempt` notice only where a retry after a failed sign-up found its own
 *   account: the kill explains it). The same Message-ID arriving twice is an at-least-once
 *   redelivery (an SMTP answer lost, then a retry): reported as a raw duplicate.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReceivedMail } from '../../notification-service/test/support/smtp-inbox.js';
import type { EventProbe } from './event-probe.js';
import type { SignUp } from './user-load.js';
import { waitWhileRising, type ProgressBounds } from './wait-progress.js';

/** What the checks need. */
export interface BusMailInput {
  probe: EventProbe;
  /** Reads one `count(*) AS n` (−1 on error). */
  num: (sql: string, params?: unknown[]) => Promise<number>;
  mails: () => ReceivedMail[];
  /** `${messageId}:${recipientUserId}` of every expected `chat.message_queued.v1`. */
  expectedQueued: Set<string>;
  /** Addresses that get a welcome (seeded, verified) and a digest (offline recipients). */
  welcomeTo: string[];
  digestTo: Set<string>;
  signUps: SignUp[];
  /** After the expected events came: how long to wait for late duplicates. */
  settleMs: number;
  inboxWait: ProgressBounds;
}

/**
 * Waits (bounded) for the expected events and mails, then compares.
 * @param i what to check
 * @returns the report section and the pass/fail of each check
 */
export async function checkBusAndMail(i: BusMailInput) {
  const seenKeys = () => {
    const m = new Map<string, string[]>();
    for (const e of i.probe.events.values()) {
      if (e.type !== 'chat.message_queued.v1') continue;
      const k = `${String(e.payload.messageId)}:${String(e.payload.recipientUserId)}`;
      m.set(k, [...(m.get(k) ?? []), e.id]);
    }
    return m;
  };
  const eventsDeadline = Date.now() + 30_000;
  while (Date.now() < eventsDeadline && [...i.expectedQueued].some((k) => !seenKeys().has(k)))
    await sleep(200);
  const registered = i.signUps.filter((x) => x.registered);
  const mailDeadline = Date.now() + 30_000;
  while (
    Date.now() < mailDeadline &&
    registered.some((x) => !i.mails().some((m) => m.to === x.email))
  )
    await sleep(200);
  // late duplicates (events or mails) would show up now; also after the drain no digest may follow
  await sleep(i.settleMs);
  const seen = seenKeys();
  const missingEvents = [...i.expectedQueued].filter((k) => !seen.has(k));
  const sameMessageTwice = [...seen.values()].filter((ids) => ids.length > 1).length;
  const outboxLeft = await i.num(
    'SELECT count(*) AS n FROM chat.outbox WHERE processed_at IS NULL',
  );
  const notifyOutboxLeft = await i.num(
    'SELECT count(*) AS n FROM notify.outbox WHERE processed_at IS NULL',
  );
  const userOutboxLeft = await i.num(
    'SELECT count(*) AS n FROM users.outbox WHERE processed_at IS NULL',
  );
  // the consumer's view: every expected event id was handled (its inbox row is unique per id).
  // The wait lasts while the count still rises; a stall or the cap ends it and the check fails.
  const expectedEventIds = [...i.expectedQueued].flatMap((k) => seen.get(k) ?? []);
  const inboxWait = await waitWhileRising(
    () =>
      i.num('SELECT count(*) AS n FROM notify.inbox WHERE id = ANY($1::uuid[])', [
        expectedEventIds,
      ]),
    expectedEventIds.length,
    i.inboxWait,
  );
  const byType: Record<string, number> = {};
  for (const e of i.probe.events.values()) byType[e.type] = (byType[e.type] ?? 0) + 1;

  // user events: one user.registered.v1 and one verification request per registered sign-up
  const perEmail = (type: string) => {
    const per = new Map<string, number>();
    for (const e of i.probe.events.values())
      if (e.type === type)
        per.set(String(e.payload.email), (per.get(String(e.payload.email)) ?? 0) + 1);
    return per;
  };
  const registeredEvents = perEmail('user.registered.v1');
  const verifyEvents = perEmail('user.email_verification_requested.v1');
  const userEventsWrong = registered
    .filter((x) => registeredEvents.get(x.email) !== 1 || verifyEvents.get(x.email) !== 1)
    .map(
      (x) =>
        `${x.email}: registered x${registeredEvents.get(x.email) ?? 0}, verification x${verifyEvents.get(x.email) ?? 0}`,
    );

  // mails by (address, kind), the kind from the Message-ID `<eventId.kind@domain>`, deduped by Message-ID
  const mails = i.mails();
  const distinct = new Map<string, ReceivedMail>();
  for (const m of mails) distinct.set(`${m.messageId} ${m.to}`, m);
  const rawDuplicateMails = mails.length - distinct.size;
  const perKind = new Map<string, number>();
  for (const m of distinct.values()) {
    const k = `${m.to} ${/\.([a-z_]+)@/.exec(m.messageId)?.[1] ?? 'unknown'}`;
    perKind.set(k, (perKind.get(k) ?? 0) + 1);
  }
  const expected = new Set([
    ...i.welcomeTo.map((a) => `${a} welcome`),
    ...[...i.digestTo].map((a) => `${a} digest`),
    ...registered.map((x) => `${x.email} verify_email`),
  ]);
  const explained = new Set(
    i.signUps.filter((x) => x.hadFailedAttempt).map((x) => `${x.email} registration_attempt`),
  );
  const missing = [...expected].filter((k) => !perKind.has(k));
  const duplicated = [...perKind]
    .filter(([k, n]) => expected.has(k) && n > 1)
    .map(([k, n]) => `${k} x${n}`);
  const unexpected = [...perKind.keys()].filter((k) => !expected.has(k) && !explained.has(k));
  const explainedNotices = [...perKind.keys()].filter((k) => explained.has(k));
  const digests = [...distinct.values()].filter((m) => m.messageId.includes('.digest@'));
  const sentMail = await i.num('SELECT count(*) AS n FROM notify.sent_mail');

  const report = {
    events: {
      expectedMessageQueued: i.expectedQueued.size,
      matchedExpected: i.expectedQueued.size - missingEvents.length,
      // also published for online users whose device was disconnected at that moment (kill, restarts)
      uniqueMessageQueuedAll: seen.size,
      missing: missingEvents.length,
      sameMessageAndRecipientWithDifferentIds: sameMessageTwice,
      deliveriesObserved: i.probe.totalDeliveries(),
      uniqueEventIds: i.probe.events.size,
      duplicateDeliveriesObserved: i.probe.duplicateDeliveries(),
      probeReconnects: i.probe.reconnects,
      malformed: i.probe.malformed,
      byType,
      outboxUnpublished: { chat: outboxLeft, notify: notifyOutboxLeft, users: userOutboxLeft },
      expectedInNotificationInbox: `${inboxWait.count}/${expectedEventIds.length}`,
      notificationInboxWait: inboxWait,
      userEventsNotExactlyOnce: userEventsWrong,
    },
    mail: {
      expected: expected.size,
      distinctReceived: distinct.size,
      rawDuplicateMails,
      digests: digests.length,
      expectedDigests: i.digestTo.size,
      expectedWelcomes: i.welcomeTo.length,
      expectedVerifications: registered.length,
      missing,
      duplicated,
      unexpected,
      registrationAttemptNoticesExplainedByKill: explainedNotices,
      messagesCountedInDigests: digests.reduce(
        (s, m) => s + Number(/(\d+) new message/.exec(m.subject)?.[1] ?? 1),
        0,
      ),
      sentMailRows: sentMail,
    },
  };
  const checks = {
    'outboxes fully published': outboxLeft === 0 && notifyOutboxLeft === 0 && userOutboxLeft === 0,
    'every expected message_queued event on the bus, once per (message, recipient)':
      missingEvents.length === 0 && sameMessageTwice === 0 && i.probe.malformed === 0,
    'every expected event in notification-service inbox':
      inboxWait.count === expectedEventIds.length &&
      expectedEventIds.length === i.expectedQueued.size,
    "every sign-up's user events once on the bus": userEventsWrong.length === 0,
    'exactly one digest per offline recipient, welcome per verified user, verification mail per sign-up; no other mail':
      missing.length === 0 && duplicated.length === 0 && unexpected.length === 0,
  };
  return { report, checks };
}
