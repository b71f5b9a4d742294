import type { Socket } from 'socket.io-client';
import { IDBFactory } from 'fake-indexeddb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ChatClient } from '../src/client/chat-client.js';
import { createIndexedDbStore } from '../src/storage/indexeddb-backend.js';
import { account, messageWith, startStack, type Stack } from './support/stack.js';

/**
 * What an observer of the socket traffic, the server's database and its logs learns about
 * receipts and typing: nothing that tells them from messages. Receipts and typing never wait
 * in an offline user's mailbox (which would announce them as queued messages).
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

/** The socket.io socket under the SDK's transport. */
function rawSocket(client: ChatClient): Socket {
  const transport = (client as unknown as { parts: { realtime: { socket?: { socket: Socket } } } }).parts.realtime.socket;
  if (!transport) throw new Error('not connected');
  return transport.socket;
}

interface Frame {
  event: string;
  payload: { conversationId: string; clientMessageId: string; envelopes: Array<{ userId: string; deviceId: number; type: number; body: string }> };
}

/** Records every event the client emits on its socket (what a network observer or the server sees). */
function recordFrames(client: ChatClient): Frame[] {
  const frames: Frame[] = [];
  rawSocket(client).onAnyOutgoing((event: string, ...args: unknown[]) => {
    if (event === 'message:ack') return; // acks of what arrives, not sends
    frames.push({ event, payload: args[0] as Frame['payload'] });
  });
  return frames;
}

/** `chat.message_queued.v1` events (the email digest's input) published for a user so far. */
function queuedFor(userId: string): number {
  return stack.busMessages.filter((m) => m.routingKey === 'chat.message_queued.v1' && m.body.includes(`"recipientUserId":"${userId}"`)).length;
}

async function signUp(tag: string, openStore?: Parameters<Stack['client']>[1]): Promise<{ client: ChatClient; input: ReturnType<typeof account> }> {
  const input = account(tag);
  const client = stack.client(tag, openStore);
  await client.signUp(input);
  return { client, input };
}

describe('receipts and typing look like messages', () => {
  it('when Alice sends a short text, two receipts and typing on/off, then the socket frames, the mailbox rows and the logs are alike', async () => {
    const alice = await signUp('alice');
    const bob = await signUp('bob');
    // Bob's phone: registered, then offline. Its mailbox keeps what is sent, as the server stores it.
    const bobPhone = stack.client('bob phone');
    await bobPhone.logIn(bob.input);
    const phoneDevice = (await bobPhone.store.getMeta('deviceId')) as number;
    bobPhone.disconnect();
    const direct = await alice.client.createConversation({ kind: 'direct', memberIds: [bob.client.user.id] });
    // Bob accepts Alice's request: they are contacts (presence, receipts and typing flow).
    await bob.client.acceptRequest(direct.id);
    const hello = messageWith(bob.client, 'hello');
    await alice.client.sendText(direct.id, 'hello');
    await hello;
    const fromBob = messageWith(alice.client, 'hi');
    await bob.client.sendText(direct.id, 'hi');
    const bobsMessage = await fromBob;

    const frames = recordFrames(alice.client);
    const logStart = stack.chatLogs.chunks.length;
    const windows: string[][] = [];
    const step = async (action: () => Promise<unknown>, arrived: Promise<unknown>) => {
      const from = stack.chatLogs.chunks.length;
      await action();
      await arrived;
      windows.push(stack.chatLogs.chunks.slice(from));
    };
    await step(() => alice.client.sendText(direct.id, 'see you at 8'), messageWith(bob.client, 'see you at 8'));
    await step(() => alice.client.markDelivered(direct.id, [bobsMessage.id]), bob.client.next('receipt', (r) => r.type === 'delivered'));
    await step(() => alice.client.markRead(direct.id, [bobsMessage.id]), bob.client.next('receipt', (r) => r.type === 'read'));
    await step(() => alice.client.setTyping(direct.id, true), bob.client.next('typing', (t) => t.on));
    await step(() => alice.client.setTyping(direct.id, false), bob.client.next('typing', (t) => !t.on));
    expect(stack.chatLogs.chunks.length).toBeGreaterThan(logStart);

    // The wire: five `message:send` frames of one shape, one envelope per Bob device each, and
    // per envelope type the same ciphertext length.
    expect(frames.map((f) => f.event)).toEqual(Array(5).fill('message:send'));
    for (const f of frames) {
      expect(Object.keys(f.payload).sort()).toEqual(['clientMessageId', 'conversationId', 'envelopes']);
      expect(f.payload.envelopes).toHaveLength(2);
      for (const e of f.payload.envelopes) expect(Object.keys(e).sort()).toEqual(['body', 'deviceId', 'type', 'userId']);
    }
    const lengths = new Map<number, Set<number>>();
    for (const e of frames.flatMap((f) => f.payload.envelopes)) lengths.set(e.type, (lengths.get(e.type) ?? new Set()).add(e.body.length));
    expect([...lengths.keys()].sort()).toEqual([1, 3]); // Whisper to the laptop, PreKeyWhisper to the phone
    for (const sizes of lengths.values()) expect(sizes.size).toBe(1);

    // The database: the phone's five mailbox rows have one type and one size.
    const rows = (await stack.chatApp.ds.query(
      `SELECT type, octet_length(body) AS size FROM chat.mailbox WHERE recipient_user = $1 AND recipient_device = $2 AND sender_user = $3 ORDER BY seq DESC LIMIT 5`,
      [bob.client.user.id, phoneDevice, alice.client.user.id],
    )) as Array<{ type: number; size: number }>;
    expect(rows).toHaveLength(5);
    expect(new Set(rows.map((r) => `${r.type}/${r.size}`)).size).toBe(1);

    // The logs: each step left the same lines, once ids, numbers, times and etags are blanked
    // out. Key backup uploads follow any send or receive, debounced, so their timing is noise
    // that has nothing to do with the kind: they are left out.
    const shape = (lines: string[]) =>
      lines
        .join('')
        .split('\n')
        .filter((l) => l !== '' && !l.includes('"url":"/api/chat/backup"'))
        .map((l) => l.replace(/"etag":"[^"]*"/g, '"etag":"E"'))
        .map((l) => l.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'ID').replace(/\d+(\.\d+)?/g, 'N'))
        .sort();
    for (const w of windows.slice(1)) expect(shape(w)).toEqual(shape(windows[0]!));
    // ...and no service names a kind anywhere: not the logs, not the database.
    const logs = [stack.chatLogs.text(), stack.notifyLogs.text(), stack.userLogs.text()].join('\n');
    expect(logs).not.toMatch(/receipt|typing/i);
    // The privacy settings table (issue 15) names the settings in its columns (read_receipts,
    // typing): schema, not traffic. Nothing else in the dump may.
    const dump = (await stack.dump())
      .replace(/CREATE TABLE chat\.privacy_settings \([^;]*\);/, '')
      .replace(/COPY chat\.privacy_settings \([^)]*\)/, '');
    expect(dump).not.toMatch(/receipt|typing/i);
  });
});

describe('receipts and typing never wait in an offline user\'s mailbox', () => {
  it('when Bob is offline, then typing is dropped, the read receipt is held (no queued event for it) and reaches Bob when he is back', async () => {
    const alice = await signUp('carla');
    const bob = await signUp('bert');
    const direct = await alice.client.createConversation({ kind: 'direct', memberIds: [bob.client.user.id] });
    // Bob accepts Alice's request: they are contacts (presence, receipts and typing flow).
    await bob.client.acceptRequest(direct.id);
    const fromBob = messageWith(alice.client, 'read me later');
    await bob.client.sendText(direct.id, 'read me later');
    const old = await fromBob;
    const gone = alice.client.next('presence', (p) => p.userId === bob.client.user.id && !p.online);
    bob.client.disconnect();
    await gone;

    const frames = recordFrames(alice.client);
    await alice.client.setTyping(direct.id, true);
    await alice.client.markRead(direct.id, [old.id]);
    expect(frames).toEqual([]);
    expect((await alice.client.history(direct.id)).find((m) => m.id === old.id)?.status).toBe('read');

    // A real message while he is away is announced as queued: that is the only event for Bob.
    await alice.client.sendText(direct.id, 'ping');
    await stack.waitForBus((m) => m.routingKey === 'chat.message_queued.v1' && m.body.includes(`"recipientUserId":"${bob.client.user.id}"`));
    expect(queuedFor(bob.client.user.id)).toBe(1);
    expect(frames).toHaveLength(1);

    // Bob is back: Alice sees him online and sends the held receipt; he gets it live.
    const read = bob.client.next('receipt', (r) => r.type === 'read');
    const ping = messageWith(bob.client, 'ping');
    await bob.client.connect();
    await ping;
    expect(await read).toMatchObject({ fromUserId: alice.client.user.id, messageIds: [old.id] });
    expect((await bob.client.history(direct.id)).find((m) => m.id === old.id)?.status).toBe('read');
    expect(frames).toHaveLength(2);
    expect(queuedFor(bob.client.user.id)).toBe(1);
  });

  it('when the app reloads with a receipt held, then the new client sends it at its next connection once Bob is online', async () => {
    const profile = new IDBFactory();
    const openStore = (userId: string) => createIndexedDbStore(`cipherchat-${userId}`, profile);
    const alice = await signUp('ada', { openStore });
    const bob = await signUp('ben');
    const direct = await alice.client.createConversation({ kind: 'direct', memberIds: [bob.client.user.id] });
    // Bob accepts Alice's request: they are contacts (presence, receipts and typing flow).
    await bob.client.acceptRequest(direct.id);
    const fromBob = messageWith(alice.client, 'before the reload');
    await bob.client.sendText(direct.id, 'before the reload');
    const old = await fromBob;
    const gone = alice.client.next('presence', (p) => p.userId === bob.client.user.id && !p.online);
    bob.client.disconnect();
    await gone;
    await alice.client.markDelivered(direct.id, [old.id]);
    await alice.client.markRead(direct.id, [old.id]);
    alice.client.disconnect(); // the tab closes

    await bob.client.connect();
    const read = bob.client.next('receipt', (r) => r.type === 'read' && r.fromUserId === alice.client.user.id);
    const delivered: string[][] = [];
    bob.client.on('receipt', (r) => r.type === 'delivered' && delivered.push(r.messageIds));
    const alice2 = stack.client('ada again', { openStore });
    await alice2.logIn(alice.input);
    expect(await read).toMatchObject({ messageIds: [old.id] });
    // Coalesced: read covers delivered, so no separate delivered receipt went out.
    const marker = messageWith(bob.client, 'after the receipt');
    await alice2.sendText(direct.id, 'after the receipt');
    await marker;
    expect(delivered).toEqual([]);
    expect(await alice2.store.getMeta('heldReceipts')).toBeUndefined();
  });
});

describe('stale typing', () => {
  it('when a typing message waited in the mailbox for more than 20 s, then it is not shown; the message after it is', async () => {
    const alice = await signUp('ida');
    const bob = await signUp('ivo');
    const bobPhone = stack.client('ivo phone');
    await bobPhone.logIn(bob.input);
    const direct = await alice.client.createConversation({ kind: 'direct', memberIds: [bob.client.user.id] });
    // Bob accepts Alice's request: they are contacts (presence, receipts and typing flow).
    await bob.client.acceptRequest(direct.id);
    const warm = messageWith(bobPhone, 'warm-up');
    await alice.client.sendText(direct.id, 'warm-up');
    await warm;
    bobPhone.disconnect();
    // Bob (the laptop) is online, so typing is sent; his phone's copy waits in its mailbox.
    const live = bob.client.next('typing', (t) => t.on);
    await alice.client.setTyping(direct.id, true);
    await live;
    await alice.client.sendText(direct.id, 'after typing');

    const typing: unknown[] = [];
    bobPhone.on('typing', (t) => typing.push(t));
    const after = messageWith(bobPhone, 'after typing');
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 25_000 });
    try {
      await bobPhone.connect();
      await after;
    } finally {
      vi.useRealTimers();
    }
    expect(typing).toEqual([]);
  });
});
