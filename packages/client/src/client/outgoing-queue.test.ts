import { describe, expect, it } from 'vitest';
import type { StoredMessage } from '../messages/message.schema.js';
import { createMemoryStore } from '../storage/kv-protocol-store.js';
import { ApiError } from '../transport/api-error.js';
import type { MessageSender } from './message-sender.js';
import { OutgoingQueue } from './outgoing-queue.js';
import { SessionSlot, type Session } from './session.js';

/** A queue over a memory store with a scripted sender; the socket state is `online`. */
function setUp(script: (text: string, attempt: number) => 'ok' | Error, recipients?: readonly string[]) {
  const store = createMemoryStore();
  const session = new SessionSlot();
  session.current = { store } as unknown as Session;
  const sent: string[] = [];
  /** The recipients each attempt was limited to. */
  const limits: Array<readonly string[] | undefined> = [];
  const tries = new Map<string, number>();
  const events: Array<[string, unknown]> = [];
  const state = { online: true };
  const sender = {
    fanOut: async (_conversationId: string, plain: { text?: string }, _mutate: unknown, only?: readonly string[]) => {
      limits.push(only);
      const text = plain.text ?? '';
      const n = (tries.get(text) ?? 0) + 1;
      tries.set(text, n);
      const outcome = script(text, n);
      if (outcome !== 'ok') throw outcome;
      sent.push(text);
      return { messageId: `srv-${text}`, serverTimestamp: new Date().toISOString() };
    },
  } as unknown as MessageSender;
  const queue = new OutgoingQueue({
    session,
    sender,
    isOnline: () => state.online,
    emit: ((event: string, arg: unknown) => events.push([event, arg])) as never,
    membersOf: async () => recipients,
    policy: { baseDelayMs: 20, maxDelayMs: 40, maxAttempts: 4 },
  });
  let clock = 0;
  const message = (text: string, conversationId = 'c1'): StoredMessage => ({
    id: `m-${text}`,
    conversationId,
    senderUserId: 'u',
    senderDeviceId: 1,
    direction: 'out',
    kind: 'text',
    text,
    sentAt: ++clock,
    status: 'sending',
  });
  return { store, queue, sent, tries, limits, events, state, message };
}

const until = async (check: () => boolean | Promise<boolean>, what: string) => {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe('OutgoingQueue', () => {
  it('when the first message of a chat waits out a backoff, then later ones wait behind it and the chat keeps its order', async () => {
    const t = setUp((text, attempt) => (text === 'first' && attempt < 3 ? new ApiError(503, 'unavailable', 'busy') : 'ok'));
    await t.queue.send(t.message('first'), { wait: false });
    await t.queue.send(t.message('second'), { wait: false });
    await t.queue.send(t.message('third'), { wait: false });
    await until(() => t.sent.length === 3, 'three sends');
    expect(t.sent).toEqual(['first', 'second', 'third']);
    expect(t.tries.get('first')).toBe(3);
    expect(t.events.filter(([e]) => e === 'sendDeferred')).toHaveLength(2);
    expect(await t.store.listOutgoingJobs()).toEqual([]);
  });

  it('when the socket is down, then no attempt is spent, a waiting caller hears not_connected, and the message goes out on kick', async () => {
    const t = setUp(() => 'ok');
    t.state.online = false;
    const waiting = t.queue.send(t.message('offline'), {}).catch((e: unknown) => e);
    expect(await waiting).toMatchObject({ code: 'not_connected' });
    // Much longer than the whole retry budget (4 attempts of at most 40 ms): nothing was spent.
    await new Promise((r) => setTimeout(r, 300));
    expect(await t.store.listOutgoingJobs()).toMatchObject([{ id: 'm-offline', attempts: 0 }]);
    expect(t.events.filter(([e]) => e === 'sendFailed' || e === 'sendDeferred')).toEqual([]);
    t.state.online = true;
    await t.queue.kick();
    await until(() => t.sent.length === 1, 'the send after kick');
    expect((await t.store.getMessage('m-offline'))?.status).toBe('sent');
  });

  it('when a transient error outlasts the budget, then the message fails with its code and the next one still goes out', async () => {
    const t = setUp((text) => (text === 'doomed' ? new ApiError(429, 'rate_limited', 'slow down') : 'ok'));
    const doomed = t.queue.send(t.message('doomed'), {}).catch((e: unknown) => e);
    await t.queue.send(t.message('after'), { wait: false });
    expect(await doomed).toMatchObject({ code: 'rate_limited' });
    expect(t.tries.get('doomed')).toBe(4);
    expect(await t.store.getMessage('m-doomed')).toMatchObject({ status: 'failed', failure: { code: 'rate_limited' } });
    await until(() => t.sent.includes('after'), 'the next message');
  });

  it('when the server does not answer while the socket still looks connected, then the message never fails: it waits past the budget and goes out once answered, no Retry', async () => {
    // Twice the budget of 4 attempts: a half-open socket's ack timeouts, then nginx's 502, then the network.
    const unanswered = [
      new ApiError(0, 'timeout', 'no ack'),
      new ApiError(0, 'timeout', 'no ack'),
      new ApiError(502, 'unavailable', 'no upstream'),
      new ApiError(0, 'network_error', 'offline'),
      new ApiError(0, 'timeout', 'no ack'),
      new ApiError(503, 'unavailable', 'restarting'),
      new ApiError(0, 'timeout', 'no ack'),
      new ApiError(0, 'timeout', 'no ack'),
    ];
    const t = setUp((_text, attempt) => unanswered[attempt - 1] ?? 'ok');
    const sent = await t.queue.send(t.message('patient'), {});
    expect(sent.status).toBe('sent');
    expect(t.tries.get('patient')).toBe(unanswered.length + 1);
    expect(t.events.filter(([e]) => e === 'sendFailed')).toEqual([]);
    expect(await t.store.listOutgoingJobs()).toEqual([]);
  });

  it('when the socket drops during an unanswered attempt, then no attempt is counted and the message goes out on the reconnection', async () => {
    const t = setUp((_text, attempt) => {
      if (attempt === 1) {
        t.state.online = false;
        return new ApiError(0, 'timeout', 'no ack');
      }
      return 'ok';
    });
    await t.queue.send(t.message('across the outage'), { wait: false });
    await until(async () => (await t.store.listOutgoingJobs()).length === 1 && t.tries.get('across the outage') === 1, 'the first attempt');
    await new Promise((r) => setTimeout(r, 200));
    expect(await t.store.listOutgoingJobs()).toMatchObject([{ attempts: 0 }]);
    expect(t.tries.get('across the outage')).toBe(1);
    t.state.online = true;
    await t.queue.kick();
    await until(() => t.sent.includes('across the outage'), 'the send after the reconnection');
    expect((await t.store.getMessage('m-across the outage'))?.status).toBe('sent');
    expect(t.events.filter(([e]) => e === 'sendFailed')).toEqual([]);
  });

  it('when kicks, resumes and sends come together, then each message is attempted once', async () => {
    const t = setUp(() => 'ok');
    const sends = ['a', 'b', 'c', 'd'].map((x) => t.queue.send(t.message(x), { wait: false }));
    await Promise.all([...sends, t.queue.kick(), t.queue.resume(), t.queue.kick()]);
    await until(() => t.sent.length === 4, 'four sends');
    await new Promise((r) => setTimeout(r, 50));
    expect(t.sent).toEqual(['a', 'b', 'c', 'd']);
    expect([...t.tries.values()]).toEqual([1, 1, 1, 1]);
  });

  it('when logged out while a send is being stored, then its caller is told and the job stays for the next login', async () => {
    const t = setUp(() => 'ok');
    const pending = t.queue.send(t.message('late'), {}).catch((e: unknown) => e);
    t.queue.stop();
    expect(await pending).toMatchObject({ code: 'not_connected' });
    expect((await t.store.listOutgoingJobs()).map((j) => j.id)).toEqual(['m-late']);
    expect(t.sent).toEqual([]);
  });

  it('when a message is queued, then every attempt is limited to the members it was written for', async () => {
    const t = setUp((_text, attempt) => (attempt < 2 ? new ApiError(503, 'unavailable', 'busy') : 'ok'), ['u', 'bob']);
    await t.queue.send(t.message('for bob'), {});
    expect(t.limits).toEqual([['u', 'bob'], ['u', 'bob']]);
    expect(await t.store.listOutgoingJobs()).toEqual([]);
  });

  it('when a receipt for the message arrives while its ack was lost, then it is not sent again and the caller gets it as delivered', async () => {
    const t = setUp(() => new ApiError(0, 'timeout', 'ack lost'));
    const m = t.message('acked late');
    // The server stored and delivered attempt 1 but its ack never came; Bob's receipt did.
    const outcome = t.queue.send(m, {});
    await until(() => (t.tries.get('acked late') ?? 0) >= 1, 'the first attempt');
    await t.store.putMessage({ ...m, status: 'delivered' });
    const settled = await outcome;
    expect(settled.status).toBe('delivered');
    await new Promise((r) => setTimeout(r, 100));
    expect(t.tries.get('acked late')).toBe(1);
    expect((await t.store.getMessage(m.id))?.status).toBe('delivered');
    expect(await t.store.listOutgoingJobs()).toEqual([]);
  });

  it('when a control message is queued behind a text, then it goes out after it, is retried on a transient error, and leaves no history entry', async () => {
    const t = setUp((text, attempt) => (text === 'edited' && attempt < 2 ? new ApiError(503, 'unavailable', 'busy') : 'ok'));
    await t.queue.send(t.message('original'), { wait: false });
    const control = { v: 2, kind: 'edit' as const, id: '3f2a8c1e-1b2c-4d5e-8f90-123456789abc', conversationId: 'c1', sentAt: 5, text: 'edited' };
    await t.queue.sendControl(control);
    expect(t.sent).toEqual(['original', 'edited']);
    expect(t.tries.get('edited')).toBe(2);
    expect(await t.store.listOutgoingJobs()).toEqual([]);
    expect(await t.store.getMessage(control.id)).toBeUndefined();
    // it survives a restart: a job written but not sent goes out on resume
    t.state.online = false;
    const pending = t.queue.sendControl({ ...control, id: '9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d', text: 'later' }).catch((e: unknown) => e);
    expect(await pending).toMatchObject({ code: 'not_connected' });
    expect((await t.store.listOutgoingJobs()).map((j) => j.control?.text)).toEqual(['later']);
    t.state.online = true;
    await t.queue.resume();
    await until(() => t.sent.includes('later'), 'the control message after resume');
  });

  it('when a control message fails for good, then its job is gone, the caller hears the error and controlFailed is emitted', async () => {
    const t = setUp(() => new ApiError(400, 'validation_error', 'no'));
    const control = { v: 2, kind: 'delete' as const, id: '3f2a8c1e-1b2c-4d5e-8f90-123456789abc', conversationId: 'c1', sentAt: 5, text: 'x' };
    await expect(t.queue.sendControl(control)).rejects.toMatchObject({ code: 'validation_error' });
    expect(await t.store.listOutgoingJobs()).toEqual([]);
    expect(t.events.find(([e]) => e === 'controlFailed')?.[1]).toMatchObject({ kind: 'delete', code: 'validation_error' });
  });
});
