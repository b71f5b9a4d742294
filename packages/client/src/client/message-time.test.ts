/**
 * Time rules of received messages (message-time.ts): a sender's clock (`sentAt`) cannot lock a
 * direct chat's disappearing timer, crash a reader with an impossible date, or stretch the 24 h
 * edit/delete window; the server's timestamps decide.
 */
import { describe, expect, it } from 'vitest';
import {
  FORMAT_VERSION,
  type PlaintextMessage,
  type StoredMessage,
} from '../messages/message.schema.js';
import { readPlaintextJson } from '../messages/plaintext-codec.js';
import { randomId } from '../protocol/bytes.js';
import { localSession, storedText } from '../testing/local-session.js';
import type { ApiClient } from '../transport/api-client.js';
import type { EmitFn } from './client-types.js';
import type { Conversations } from './conversations.js';
import type { DeviceKeys } from './device-keys.js';
import { Disappearing } from './disappearing.js';
import { boundedSentAt, MAX_SENT_AHEAD_MS, settingTime } from './message-time.js';
import { GroupViews } from './group-views.js';
import type { Groups } from './groups.js';
import { MessageActions } from './message-actions.js';
import type { OutgoingQueue } from './outgoing-queue.js';

const ME = '00000000-0000-4000-8000-000000000001';
const ALICE = '00000000-0000-4000-8000-000000000002';
const MALLORY = '00000000-0000-4000-8000-000000000003';
const DIRECT = 'direct-1';
const GROUP = 'group-1';

function device() {
  const { store, session } = localSession(ME);
  const emit = (() => undefined) as EmitFn;
  const sent: PlaintextMessage[] = [];
  const queue = { sendControl: (p: PlaintextMessage) => Promise.resolve(void sent.push(p)) };
  return { store, session, emit, sent, queue };
}

function text(over: Partial<StoredMessage> = {}): StoredMessage {
  return storedText({ conversationId: GROUP, senderUserId: ALICE, ...over });
}

describe('direct chat disappearing timer ordering', () => {
  it('when my contact sends a timer message dated in the year 2999, then my later setting still takes effect and matches the event line', async () => {
    const d = device();
    const views = new GroupViews({ session: d.session, emit: d.emit });
    await views.load(d.store, { exists: false });
    const disappearing = new Disappearing({
      api: {} as ApiClient,
      session: d.session,
      conversations: {
        get: () => Promise.resolve({ id: DIRECT, kind: 'direct' }),
      } as unknown as Conversations,
      deviceKeys: { cachedId: 1 } as unknown as DeviceKeys,
      views,
      groups: {} as Groups,
      queue: d.queue as unknown as OutgoingQueue,
      emit: d.emit,
      now: () => Date.now(),
    });
    // Mallory (the other member of the direct chat) turns the timer off, "sent" in the year 2999.
    await disappearing.receive(
      {
        senderUserId: MALLORY,
        senderDeviceId: 1,
        serverTimestamp: new Date().toISOString(),
        messageId: randomId(),
      },
      {
        v: FORMAT_VERSION,
        kind: 'timer',
        id: randomId(),
        conversationId: DIRECT,
        sentAt: Date.UTC(2999, 0),
        timer: { seconds: null },
      },
    );
    // I turn disappearing messages on: my chat shows "You set disappearing messages to 1 hour"...
    await disappearing.set(DIRECT, 3600, { wait: false });
    const history = await d.store.listMessages(DIRECT);
    expect(history.find((m) => m.event?.actorUserId === ME)?.event).toMatchObject({
      type: 'timer',
      timerS: 3600,
    });
    // ...so the timer my next messages are sent with must be 1 hour (it stays off: they never disappear).
    expect(disappearing.timer(DIRECT)).toBe(3600);
  });
});

describe('sentAt bounds', () => {
  it('when a plaintext says it was sent at 9e15 ms (beyond what a Date holds), then it is refused', () => {
    const raw = JSON.stringify({
      v: 2,
      kind: 'edit',
      id: randomId(),
      conversationId: GROUP,
      sentAt: 9_000_000_000_000_000,
      edit: { messageId: randomId(), text: 'boom' },
    });
    expect(() => new Date(9_000_000_000_000_000).toISOString()).toThrow(RangeError);
    expect(() => readPlaintextJson(raw)).toThrow();
  });
});

describe('edit/delete window by server timestamps', () => {
  it('when Alice edits a message a month after the server got it, claiming a sentAt inside the 24 h window, then the edit is refused', async () => {
    const d = device();
    const actions = new MessageActions({
      api: {} as ApiClient,
      session: d.session,
      queue: d.queue,
      emit: d.emit,
    });
    const monthAgo = Date.now() - 30 * 24 * 3600 * 1000;
    const original = text({
      text: 'I agree to 100',
      sentAt: monthAgo,
      serverTimestamp: new Date(monthAgo).toISOString(),
    });
    await d.store.putMessage(original);
    // Her edit reaches the server today; only its (self-reported) sentAt says "an hour after".
    await actions.receive(
      { senderUserId: ALICE, serverTimestamp: new Date().toISOString() },
      {
        v: FORMAT_VERSION,
        kind: 'edit',
        id: randomId(),
        conversationId: GROUP,
        sentAt: monthAgo + 3600_000,
        edit: { messageId: original.id, text: 'I agree to 1000' },
      },
    );
    expect((await d.store.getMessage(original.id))?.text).toBe('I agree to 100');
  });
});

describe('direct chat timer settings ordered by server time', () => {
  function directDisappearing(d: ReturnType<typeof device>, views: GroupViews) {
    return new Disappearing({
      api: {} as ApiClient,
      session: d.session,
      conversations: {
        get: () => Promise.resolve({ id: DIRECT, kind: 'direct' }),
      } as unknown as Conversations,
      deviceKeys: { cachedId: 1 } as unknown as DeviceKeys,
      views,
      groups: {} as Groups,
      queue: d.queue as unknown as OutgoingQueue,
      emit: d.emit,
      now: () => Date.now(),
    });
  }
  function timerMessage(seconds: number | null, sentAt: number): PlaintextMessage {
    return {
      v: FORMAT_VERSION,
      kind: 'timer',
      id: randomId(),
      conversationId: DIRECT,
      sentAt,
      timer: { seconds },
    };
  }

  it('when two settings arrive out of order, then the one the server got last wins, whatever their sentAt say', async () => {
    const d = device();
    const views = new GroupViews({ session: d.session, emit: d.emit });
    await views.load(d.store, { exists: false });
    const disappearing = directDisappearing(d, views);
    const env = (at: number) => ({
      senderUserId: ALICE,
      senderDeviceId: 1,
      serverTimestamp: new Date(at).toISOString(),
      messageId: randomId(),
    });
    const now = Date.now();
    // The later one (by the server) claims an old sentAt; the earlier one claims a future sentAt.
    await disappearing.receive(env(now - 1000), timerMessage(3600, now + 3 * 3600_000));
    expect(disappearing.timer(DIRECT)).toBe(3600);
    await disappearing.receive(env(now - 500), timerMessage(60, now - 10 * 3600_000));
    expect(disappearing.timer(DIRECT)).toBe(60);
    // Delivered late (a device that was offline): an older setting does not undo the newer one.
    await disappearing.receive(env(now - 2000), timerMessage(null, now));
    expect(disappearing.timer(DIRECT)).toBe(60);
    const lines = (await d.store.listMessages(DIRECT)).filter((m) => m.event?.type === 'timer');
    expect(lines.map((m) => m.event?.timerS)).toEqual([3600, 60]);
    // Every event line is dated no later than the server allowed (not the year of the claim).
    for (const m of lines) expect(m.sentAt).toBeLessThanOrEqual(now + 5 * 60_000);
  });

  it('when a setting reaches the server after mine, then it replaces mine', async () => {
    const d = device();
    const views = new GroupViews({ session: d.session, emit: d.emit });
    await views.load(d.store, { exists: false });
    const disappearing = directDisappearing(d, views);
    await disappearing.set(DIRECT, 3600, { wait: false });
    expect(d.sent.map((p) => p.timer?.seconds)).toEqual([3600]);
    await disappearing.receive(
      {
        senderUserId: ALICE,
        senderDeviceId: 1,
        serverTimestamp: new Date(Date.now() + 1000).toISOString(),
        messageId: randomId(),
      },
      timerMessage(null, Date.now()),
    );
    expect(disappearing.timer(DIRECT)).toBeNull();
  });
});

describe('sentAt bounds of a received message', () => {
  it('when sentAt is more than a day ahead of the server timestamp, then the server timestamp is used', () => {
    const server = Date.UTC(2026, 0, 1);
    const iso = new Date(server).toISOString();
    expect(boundedSentAt(server + MAX_SENT_AHEAD_MS + 1, iso)).toBe(server);
    expect(boundedSentAt(8_640_000_000_000_000, iso)).toBe(server);
    // A clock a little ahead, or a message written offline long ago, keeps its own time.
    expect(boundedSentAt(server + 3600_000, iso)).toBe(server + 3600_000);
    expect(boundedSentAt(server - 7 * MAX_SENT_AHEAD_MS, iso)).toBe(server - 7 * MAX_SENT_AHEAD_MS);
    // No readable server timestamp: nothing to bound it by.
    expect(boundedSentAt(server + 2 * MAX_SENT_AHEAD_MS, 'not a date')).toBe(
      server + 2 * MAX_SENT_AHEAD_MS,
    );
  });

  it('when a setting has a server timestamp far ahead of my clock, then it is ordered at most 5 minutes ahead', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(settingTime(0, new Date(Date.UTC(2999, 0)).toISOString(), now)).toBe(now + 5 * 60_000);
    expect(settingTime(Date.UTC(2999, 0), undefined, now)).toBe(now + 5 * 60_000);
    expect(settingTime(Date.UTC(2999, 0), new Date(now - 1000).toISOString(), now)).toBe(
      now - 1000,
    );
  });
});

describe('delete window by server timestamps', () => {
  function actionsFor(d: ReturnType<typeof device>) {
    return new MessageActions({
      api: {} as ApiClient,
      session: d.session,
      queue: d.queue,
      emit: d.emit,
    });
  }
  const DAY = 24 * 3600_000;

  it('when a delete reaches the server two days after the original, then the message stays', async () => {
    const d = device();
    const actions = actionsFor(d);
    const twoDaysAgo = Date.now() - 2 * DAY;
    const original = text({
      sentAt: twoDaysAgo,
      serverTimestamp: new Date(twoDaysAgo).toISOString(),
    });
    await d.store.putMessage(original);
    await actions.receive(
      { senderUserId: ALICE, serverTimestamp: new Date().toISOString() },
      {
        v: FORMAT_VERSION,
        kind: 'delete',
        id: randomId(),
        conversationId: GROUP,
        sentAt: twoDaysAgo + 60_000,
        delete: { messageIds: [original.id] },
      },
    );
    const kept = await d.store.getMessage(original.id);
    expect(kept?.deletedAt).toBeUndefined();
    expect(kept?.text).toBe('hello');
  });

  it('when a late edit arrives before its original, then it is still refused once the original is stored', async () => {
    const d = device();
    const actions = actionsFor(d);
    const monthAgo = Date.now() - 30 * DAY;
    const original = text({ sentAt: monthAgo, serverTimestamp: new Date(monthAgo).toISOString() });
    await actions.receive(
      { senderUserId: ALICE, serverTimestamp: new Date().toISOString() },
      {
        v: FORMAT_VERSION,
        kind: 'edit',
        id: randomId(),
        conversationId: GROUP,
        sentAt: monthAgo + 60_000,
        edit: { messageId: original.id, text: 'rewritten' },
      },
    );
    expect((await actions.arrived(original)).text).toBe('hello');
  });

  it('when an edit reaches the server within the window, then it is applied', async () => {
    const d = device();
    const actions = actionsFor(d);
    const hourAgo = Date.now() - 3600_000;
    const original = text({ sentAt: hourAgo, serverTimestamp: new Date(hourAgo).toISOString() });
    await d.store.putMessage(original);
    await actions.receive(
      { senderUserId: ALICE, serverTimestamp: new Date().toISOString() },
      {
        v: FORMAT_VERSION,
        kind: 'edit',
        id: randomId(),
        conversationId: GROUP,
        sentAt: Date.now(),
        edit: { messageId: original.id, text: 'hello, edited' },
      },
    );
    expect((await d.store.getMessage(original.id))?.text).toBe('hello, edited');
  });
});
