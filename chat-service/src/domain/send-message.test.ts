import { describe, expect, it } from 'vitest';
import type { MessageSendPayload } from '@cipherchat/contracts';
import type { ChatDeps } from './deps.js';
import type { LiveSockets, OutgoingEnvelope, SendContext, StoreMessageInput, WriteOutcome } from './ports.js';
import { sendMessage } from './send-message.js';

const alice = '00000000-0000-4000-8000-00000000000a';
const bob = '00000000-0000-4000-8000-00000000000b';
const carol = '00000000-0000-4000-8000-00000000000c';
const conv = '00000000-0000-4000-8000-0000000000c1';
const body = Buffer.from('ciphertext').toString('base64');

/** In-memory ports: what the send use case touches, recording what it did. */
function fakeDeps(options: { outcome?: WriteOutcome; live?: LiveSockets | 'down'; context?: SendContext } = {}) {
  const written: StoreMessageInput[] = [];
  const delivered: { envelopes: readonly OutgoingEnvelope[]; live: LiveSockets | null }[] = [];
  let kicks = 0;
  const deps = {
    db: {},
    log: { info: () => undefined, warn: () => undefined },
    presence: {
      recentLiveSockets: async () => {
        if (options.live === 'down') throw new Error('redis down');
        return { live: options.live ?? new Map(), lookedUpAt: performance.now() };
      },
    },
    writer: {
      write: async (input: StoreMessageInput) => {
        written.push(input);
        return options.outcome ?? 'stored';
      },
    },
    mailbox: { loadSendContext: async () => options.context ?? { existing: null, members: [], devices: [], kind: null } },
    outbox: { kick: () => void kicks++ },
    notifier: {
      deliver: (envelopes: readonly OutgoingEnvelope[], live: LiveSockets | null) => {
        delivered.push({ envelopes, live });
        return Promise.resolve();
      },
    },
  } as unknown as ChatDeps;
  return { deps, written, delivered, kicks: () => kicks };
}

const payload = (envelopes: { userId: string; deviceId: number }[]): MessageSendPayload => ({
  conversationId: conv,
  clientMessageId: 'c-1',
  envelopes: envelopes.map((e) => ({ ...e, type: 1, body })),
});

describe('sendMessage', () => {
  it('when two envelopes address the same device, then validation_error and nothing is written', async () => {
    const f = fakeDeps();
    await expect(sendMessage(f.deps, { userId: alice, deviceId: 1 }, payload([{ userId: bob, deviceId: 1 }, { userId: bob, deviceId: 1 }]))).rejects.toMatchObject({
      code: 'validation_error',
    });
    expect(f.written).toEqual([]);
  });

  it('when stored and one recipient has no live socket, then only they get message_queued, the relay is kicked and every device is delivered to', async () => {
    const live: LiveSockets = new Map([[bob, new Map([[1, ['s1']]])]]);
    const f = fakeDeps({ live });
    const p = payload([{ userId: bob, deviceId: 1 }, { userId: carol, deviceId: 1 }, { userId: alice, deviceId: 2 }]);
    const r = await sendMessage(f.deps, { userId: alice, deviceId: 1 }, p);
    const [w] = f.written;
    expect(w?.queuedUsers).toEqual([carol]);
    expect(w?.queuedEvents.map((e) => JSON.parse(e.payload).recipientUserId)).toEqual([carol]);
    expect(f.kicks()).toBe(1);
    expect(f.delivered).toHaveLength(1);
    expect(f.delivered[0]?.live).toBe(live);
    expect(f.delivered[0]?.envelopes.map((e) => [e.userId, e.deviceId, e.message.messageId])).toEqual([
      [bob, 1, r.messageId],
      [carol, 1, r.messageId],
      [alice, 2, r.messageId],
    ]);
  });

  it('when presence is down, then every recipient counts as offline and delivery goes through the adapter', async () => {
    const f = fakeDeps({ live: 'down' });
    await sendMessage(f.deps, { userId: alice, deviceId: 1 }, payload([{ userId: bob, deviceId: 1 }]));
    expect(f.written[0]?.queuedUsers).toEqual([bob]);
    expect(f.delivered[0]?.live).toBeNull();
  });

  it('when the write refuses, then the fresh context explains it (stale_devices) and nothing is delivered', async () => {
    const context: SendContext = { existing: null, members: [alice, bob], devices: [{ userId: bob, deviceId: 1 }, { userId: bob, deviceId: 2 }], kind: 'group' };
    const f = fakeDeps({ outcome: 'refused', context });
    await expect(sendMessage(f.deps, { userId: alice, deviceId: 1 }, payload([{ userId: bob, deviceId: 1 }]))).rejects.toMatchObject({
      code: 'stale_devices',
      details: { missing: [{ userId: bob, deviceId: 2 }], extra: [] },
    });
    expect(f.delivered).toEqual([]);
    expect(f.kicks()).toBe(0);
  });

  it('when the turn is given, then the write waits for it and the next send is released', async () => {
    const f = fakeDeps();
    let release!: () => void;
    const wait = new Promise<void>((r) => (release = r));
    let done = false;
    const sending = sendMessage(f.deps, { userId: alice, deviceId: 1 }, payload([{ userId: bob, deviceId: 1 }]), { wait, done: () => (done = true) });
    await new Promise((r) => setImmediate(r));
    expect(f.written).toEqual([]);
    release();
    await sending;
    expect(f.written).toHaveLength(1);
    expect(done).toBe(true);
  });
});
