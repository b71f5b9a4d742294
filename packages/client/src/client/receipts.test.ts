import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../storage/kv-protocol-store.js';
import { ApiError } from '../transport/api-error.js';
import type { Conversations } from './conversations.js';
import { isStaleTyping } from './message-receiver.js';
import type { MessageSender } from './message-sender.js';
import { PresenceMap } from './presence-map.js';
import type { Realtime } from './realtime.js';
import { META_HELD_RECEIPTS, Receipts } from './receipts.js';
import { Safety } from './safety.js';
import { SessionSlot, type Session } from './session.js';

const ME = 'me';
const conv = 'c1';
const group = 'g1';
const request = 'r1';

/** Receipts over a memory store, a scripted presence and a recording sender. */
function setUp(online: Record<string, boolean>) {
  const store = createMemoryStore();
  const session = new SessionSlot();
  session.current = { store, user: { id: ME } } as unknown as Session;
  const state = { connected: true, asked: [] as string[][], fail: undefined as Error | undefined, getFails: undefined as Error | undefined };
  const sent: Array<{ conversationId: string; type: string; ids: string[] }> = [];
  const typing: Array<{ conversationId: string; on: boolean }> = [];
  const errors: unknown[] = [];
  const realtime = {
    get connected() {
      return state.connected;
    },
    presence: async (ids: string[]) => {
      state.asked.push(ids);
      return ids.filter((id) => id in online).map((id) => ({ userId: id, online: online[id]! }));
    },
  } as unknown as Realtime;
  const members: Record<string, string[]> = { [conv]: [ME, 'bob'], [group]: [ME, 'bob', 'carol'], [request]: [ME, 'mallory'] };
  const myState: Record<string, string> = { [request]: 'request' };
  const conversations = {
    get: async (id: string) => {
      if (state.getFails) throw state.getFails;
      return { id, memberIds: members[id], myState: myState[id] ?? 'accepted' };
    },
    invalidate: () => undefined,
  } as unknown as Conversations;
  // The server's side of the privacy settings and the block list.
  const server = { privacy: { readReceipts: true, typing: true, lastSeen: true }, blocks: [] as string[], down: false };
  const api = {
    chat: {
      privacy: async () => {
        if (server.down) throw new ApiError(0, 'network_error', 'down');
        return { ...server.privacy };
      },
      setPrivacy: async (p: typeof server.privacy) => (server.privacy = { ...p }),
      blockedUsers: async () => [...server.blocks],
      block: async (id: string) => void server.blocks.push(id),
      acceptRequest: async (id: string) => void delete myState[id],
    },
  } as unknown as ConstructorParameters<typeof Safety>[0]['api'];
  const safety = new Safety({ api, session, conversations, proof: async () => ({ deviceId: 1, deviceSecret: 's'.repeat(43) }) });
  const sender = {
    sendReceipt: async (conversationId: string, type: string, ids: string[]) => {
      if (state.fail) throw state.fail;
      sent.push({ conversationId, type, ids });
    },
    sendTyping: async (conversationId: string, on: boolean) => void typing.push({ conversationId, on }),
  } as unknown as MessageSender;
  const receipts = new Receipts({ session, realtime, conversations, sender, presence: new PresenceMap(realtime), safety, emit: ((e: string, a: unknown) => e === 'error' && errors.push(a)) as never });
  return { receipts, store, state, sent, typing, errors, safety, server };
}

describe('receipts and typing only go to conversations whose members are all online', () => {
  it('when everyone is online, then receipts and typing go out at once and nothing is held', async () => {
    const t = setUp({ bob: true, carol: true });
    await t.receipts.markDelivered(group, ['m1']);
    await t.receipts.markRead(group, ['m1', 'm2']);
    expect(await t.receipts.setTyping(group, true)).toBe(true);
    expect(t.sent).toEqual([
      { conversationId: group, type: 'delivered', ids: ['m1'] },
      { conversationId: group, type: 'read', ids: ['m1', 'm2'] },
    ]);
    expect(t.typing).toEqual([{ conversationId: group, on: true }]);
    expect(await t.store.getMeta(META_HELD_RECEIPTS)).toBeUndefined();
    // presence was asked once; the map answers afterwards
    expect(t.state.asked).toEqual([['bob', 'carol']]);
  });

  it('when one member of a group is offline, then typing is dropped and receipts are held, coalesced, with read replacing delivered', async () => {
    const t = setUp({ bob: true, carol: false });
    expect(await t.receipts.setTyping(group, true)).toBe(false);
    await t.receipts.markDelivered(group, ['m1', 'm2']);
    await t.receipts.markDelivered(group, ['m2', 'm3']);
    await t.receipts.markRead(group, ['m1']);
    expect(t.sent).toEqual([]);
    expect(t.typing).toEqual([]);
    expect(await t.receipts.held()).toEqual({ [group]: { delivered: ['m2', 'm3'], read: ['m1'] } });

    // Carol comes back: one delivered and one read receipt go out, and nothing stays held.
    t.receipts.onPresence({ userId: 'carol', online: true });
    await expect.poll(() => t.sent.length).toBe(2);
    expect(t.sent).toEqual([
      { conversationId: group, type: 'delivered', ids: ['m2', 'm3'] },
      { conversationId: group, type: 'read', ids: ['m1'] },
    ]);
    await expect.poll(() => t.receipts.held()).toEqual({});
  });

  it('when the socket is down, then receipts are held in the store and go out at the next connection if the member is online', async () => {
    const t = setUp({ bob: true });
    t.state.connected = false;
    await t.receipts.markRead(conv, ['m1']);
    expect(t.sent).toEqual([]);
    expect(await t.receipts.setTyping(conv, true)).toBe(false);

    // A reload: a new Receipts over the same store finds them.
    const again = setUp({ bob: true });
    await again.store.setMeta(META_HELD_RECEIPTS, await t.store.getMeta(META_HELD_RECEIPTS));
    again.receipts.onOnline();
    await expect.poll(() => again.sent).toEqual([{ conversationId: conv, type: 'read', ids: ['m1'] }]);
  });

  it('when a presence event says a member left, then later receipts are held even though the map said online', async () => {
    const t = setUp({ bob: true });
    await t.receipts.markRead(conv, ['m1']);
    t.receipts.onPresence({ userId: 'bob', online: false });
    await t.receipts.markRead(conv, ['m2']);
    expect(t.sent).toEqual([{ conversationId: conv, type: 'read', ids: ['m1'] }]);
    expect(await t.receipts.held()).toEqual({ [conv]: { delivered: [], read: ['m2'] } });
  });

  it('when the server refuses for good, then the held receipt is dropped and the error surfaces; a passing failure keeps it', async () => {
    const t = setUp({ bob: true });
    t.state.fail = new ApiError(0, 'timeout', 'no ack');
    await t.receipts.markRead(conv, ['m1']);
    expect(await t.receipts.held()).toEqual({ [conv]: { delivered: [], read: ['m1'] } });
    t.state.fail = new ApiError(403, 'not_member', 'gone');
    await expect(t.receipts.markRead(conv, ['m2'])).rejects.toMatchObject({ code: 'not_member' });
    expect(await t.receipts.held()).toEqual({});
  });

  it('when more than 500 ids are held, then they go out in receipts of at most 500', async () => {
    const t = setUp({ bob: true });
    t.state.connected = false;
    const ids = Array.from({ length: 1200 }, (_, i) => `m${i}`);
    await t.receipts.markRead(conv, ids);
    t.state.connected = true;
    await t.receipts.flush();
    expect(t.sent.map((s) => s.ids.length)).toEqual([500, 500, 200]);
    expect(t.sent.flatMap((s) => s.ids)).toEqual(ids);
  });
});

describe('requests, blocks and privacy decide what my clients share', () => {
  it('when a conversation is a request I have not accepted, then no typing and no receipt go into it; after accepting, they do', async () => {
    const t = setUp({ mallory: true });
    expect(await t.receipts.setTyping(request, true)).toBe(false);
    await t.receipts.markDelivered(request, ['m1']);
    await t.receipts.markRead(request, ['m1']);
    expect(t.sent).toEqual([]);
    expect(t.typing).toEqual([]);
    // Refused, not held: accepting later does not release what was read before.
    expect(await t.receipts.held()).toEqual({});

    await t.safety.accept(request);
    expect(await t.receipts.setTyping(request, true)).toBe(true);
    await t.receipts.markRead(request, ['m2']);
    expect(t.sent).toEqual([{ conversationId: request, type: 'read', ids: ['m2'] }]);
  });

  it('when I blocked a member, then nothing goes to a conversation with them, including what was held before the block', async () => {
    const t = setUp({ bob: false });
    await t.receipts.markRead(conv, ['m1']);
    expect(await t.receipts.held()).toEqual({ [conv]: { delivered: [], read: ['m1'] } });
    await t.safety.block('bob');
    await t.receipts.markDelivered(conv, ['m2']);
    expect(await t.receipts.setTyping(conv, true)).toBe(false);
    t.receipts.onPresence({ userId: 'bob', online: true });
    await expect.poll(() => t.receipts.held()).toEqual({});
    expect(t.sent).toEqual([]);
    expect(t.typing).toEqual([]);
  });

  it('when my privacy settings turn read receipts and typing off, then neither is sent, delivered receipts still are, and the messages are read here', async () => {
    const t = setUp({ bob: true });
    t.server.privacy = { readReceipts: false, typing: false, lastSeen: true };
    await t.safety.load();
    expect(await t.receipts.setTyping(conv, true)).toBe(false);
    await t.store.putMessage({ id: 'm1', conversationId: conv, senderUserId: 'bob', senderDeviceId: 1, direction: 'in', kind: 'text', text: 'hi', sentAt: 1, status: 'delivered' });
    await t.receipts.markRead(conv, ['m1']);
    await t.receipts.markDelivered(conv, ['m2']);
    expect(t.sent).toEqual([{ conversationId: conv, type: 'delivered', ids: ['m2'] }]);
    expect((await t.store.getMessage('m1'))?.status).toBe('read');

    // Turned back on here: it applies at once.
    await t.safety.setPrivacy({ readReceipts: true, typing: true, lastSeen: true });
    expect(await t.receipts.setTyping(conv, true)).toBe(true);
    await t.receipts.markRead(conv, ['m3']);
    expect(t.sent.at(-1)).toEqual({ conversationId: conv, type: 'read', ids: ['m3'] });
  });

  it('when another device of mine turns typing off while this one is reading the settings, then the push wins over the older read', async () => {
    const t = setUp({ bob: true });
    let answer: (() => void) | undefined;
    const reading = t.server.privacy;
    const api = (t.safety as unknown as { deps: { api: { chat: { privacy: () => Promise<unknown> } } } }).deps.api.chat;
    api.privacy = () => new Promise((resolve) => (answer = () => resolve({ ...reading })));
    const load = t.safety.load();
    await expect.poll(() => answer).toBeDefined();
    t.safety.apply({ readReceipts: true, typing: false, lastSeen: true });
    answer!();
    await load;
    expect(await t.safety.privacy()).toEqual({ readReceipts: true, typing: false, lastSeen: true });
    expect(await t.receipts.setTyping(conv, true)).toBe(false);
  });

  it('when the conversation cannot be fetched for a moment, then the receipt is held and decided when it is flushed', async () => {
    const t = setUp({ mallory: true });
    t.state.getFails = new ApiError(0, 'network_error', 'offline');
    await t.receipts.markRead(request, ['m1']);
    expect(await t.receipts.held()).toEqual({ [request]: { delivered: [], read: ['m1'] } });
    t.state.getFails = undefined;
    await t.receipts.flush();
    // Still a request: dropped, never sent.
    expect(t.sent).toEqual([]);
    expect(await t.receipts.held()).toEqual({});
  });

  it('when the settings cannot be read, then no typing or read receipt is sent (unknown shares nothing)', async () => {
    const t = setUp({ bob: true });
    t.server.down = true;
    expect(await t.receipts.setTyping(conv, true)).toBe(false);
    await t.receipts.markRead(conv, ['m1']);
    expect(t.sent).toEqual([]);
    t.server.down = false;
    expect(await t.receipts.setTyping(conv, true)).toBe(true);
  });
});

describe('stale typing', () => {
  const now = 1_765_000_000_000;
  it('when a typing message was written or stored more than 20 s ago, then it is stale', () => {
    expect(isStaleTyping(now - 1000, new Date(now - 900).toISOString(), now)).toBe(false);
    expect(isStaleTyping(now - 20_001, new Date(now - 900).toISOString(), now)).toBe(true);
    expect(isStaleTyping(now - 1000, new Date(now - 25_000).toISOString(), now)).toBe(true);
  });
});
