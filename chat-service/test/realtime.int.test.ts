import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '@cipherchat/contracts';
import { Redis } from 'ioredis';
import { LATE_PASS_MS, LOCAL_DELIVERY_WINDOW_MS, PRESENCE_REUSE_MS } from '../src/domain/send-message.js';
import { Bus, createLogger, createMetrics } from '@cipherchat/service-kit';
import { waitForConsumed } from '@cipherchat/service-kit/testing';
import { api, beforeTheWrite, connect, createTestEnv, createUser, fakeBody, nextEvent, request, SignalIdentity, type ClientSocket, type Instance, type TestEnv, connectDrained } from './support/harness.js';

let env: TestEnv;
let a: Instance;
let b: Instance;
let probe: Bus;
const seen: EventEnvelope[] = [];
const probeQueue = `probe.${randomUUID()}`;

beforeAll(async () => {
  env = await createTestEnv('chatrt');
  a = await env.start();
  b = await env.start();
  probe = new Bus({ url: env.env.AMQP_URL as string, exchange: env.env.BUS_EXCHANGE as string, logger: createLogger('probe', 'silent'), metrics: createMetrics('probe', false) });
  await probe.start(true);
  env.extraQueues.push(probeQueue);
  await probe.consume({
    queue: probeQueue,
    types: ['chat.message_queued.v1', 'chat.mailbox_drained.v1'] as const,
    handler: async (e) => {
      seen.push(e as EventEnvelope);
    },
  });
});
afterAll(async () => {
  await probe?.close();
  await env?.close();
});

/** Collects every event of a kind a socket receives. */
function record(socket: ClientSocket, event: string) {
  const got: unknown[] = [];
  (socket as unknown as { on(e: string, f: (x: unknown) => void): void }).on(event, (x) => got.push(x));
  return got;
}

describe('presence', () => {
  it('when a user connects and disconnects, then only users sharing a conversation hear it, across processes', async () => {
    const alice = await createUser(a, env.mint);
    const bob = await createUser(b, env.mint);
    const carol = await createUser(a, env.mint); // shares a group with Alice, not with Bob's direct chat
    const mallory = await createUser(b, env.mint); // shares nothing with Alice
    const direct = await api(a.url, alice.token, 'POST', '/conversations', { kind: 'direct', memberIds: [bob.userId] });
    const group = await api(a.url, alice.token, 'POST', '/conversations', { kind: 'group', memberIds: [carol.userId] });
    // both arrive as requests (they never talked to Alice): presence starts once accepted
    expect((await api(b.url, bob.token, 'POST', `/conversations/${direct.body.id}/accept`)).status).toBe(204);
    expect((await api(a.url, carol.token, 'POST', `/conversations/${group.body.id}/accept`)).status).toBe(204);
    const sb = await connect(b.url, bob.token, bob.deviceId);
    const sc = await connect(a.url, carol.token, carol.deviceId);
    const sm = await connect(b.url, mallory.token, mallory.deviceId);
    const malloryPresence = record(sm, 'presence');

    const bobSeesOnline = nextEvent(sb, 'presence');
    const carolSeesOnline = nextEvent(sc, 'presence');
    const sa = await connect(a.url, alice.token, alice.deviceId);
    expect(await bobSeesOnline).toMatchObject({ userId: alice.userId, online: true });
    expect(await carolSeesOnline).toMatchObject({ userId: alice.userId, online: true });

    // typing travels end to end as an ordinary message: the server has no clear typing event
    const typingAnswer = await (sa as unknown as { timeout(ms: number): { emitWithAck(e: string, p: unknown): Promise<unknown> } }).timeout(1_000).emitWithAck('typing', { conversationId: direct.body.id, on: true }).catch(() => 'no-ack');
    expect(typingAnswer).toBe('no-ack');

    // presence:get answers only for users who share a conversation
    const asked = await request(sa, 'presence:get', { userIds: [bob.userId, mallory.userId] });
    expect(asked).toMatchObject({ ok: true, data: [{ userId: bob.userId, online: true }] });
    expect((asked as { data: unknown[] }).data).toHaveLength(1);

    const bobSeesOffline = nextEvent<{ online: boolean; lastSeenAt: string }>(sb, 'presence');
    sa.close();
    const off = await bobSeesOffline;
    expect(off).toMatchObject({ userId: alice.userId, online: false });
    expect(Date.parse(off.lastSeenAt)).not.toBeNaN();

    // Mallory's socket is live and on the same process as Bob: a round trip there proves delivery had its chance
    await request(sm, 'presence:get', { userIds: [alice.userId] });
    expect(malloryPresence).toEqual([]);
    sb.close();
    sc.close();
    sm.close();
  });
});

/**
 * Alice and Bob in a direct conversation, Alice connected to A; `send` sends Alice's next
 * message to Bob's device and returns its id.
 */
async function aliceAndBob() {
  const alice = await createUser(a, env.mint);
  const bob = await createUser(a, env.mint);
  const conv = await api(a.url, alice.token, 'POST', '/conversations', { kind: 'direct', memberIds: [bob.userId] });
  const sa = await connect(a.url, alice.token, alice.deviceId);
  const send = async (clientMessageId: string) => {
    const ack = await request<{ messageId: string }>(sa, 'message:send', {
      conversationId: conv.body.id,
      clientMessageId,
      envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 1, body: fakeBody() }],
    });
    if (!ack.ok) throw new Error(`send refused: ${ack.error.code}`);
    return ack.data.messageId;
  };
  return { bob, sa, send };
}

/** Connects a device and waits for its connect-time drain; returns the socket and its inbox. */
async function connected(inst: Instance, user: { token: string; deviceId: number }) {
  const { socket, box: got } = await connectDrained(inst.url, user.token, user.deviceId);
  return { socket, got };
}

describe('live delivery', () => {
  /** Counts the Redis adapter messages (every process's publishes) that carry this text. */
  async function adapterTraffic(text: string, during: () => Promise<void>): Promise<number> {
    const sub = new Redis(env.env.REDIS_URL as string);
    let n = 0;
    sub.on('pmessageBuffer', (_p: Buffer, _c: Buffer, message: Buffer) => {
      if (message.includes(text)) n++;
    });
    try {
      await sub.psubscribe(`${env.env.REDIS_PREFIX as string}:sio*`);
      await during();
      await new Promise((r) => setTimeout(r, 200)); // let any publish arrive
      return n;
    } finally {
      sub.disconnect();
    }
  }

  it("when the recipient device's only socket is on the sending process, then the message skips the Redis adapter; with a second socket on another process, both get it through the adapter", async () => {
    const { bob, sa, send } = await aliceAndBob();
    const onA = await connected(a, bob);
    expect(await adapterTraffic(bob.userId, async () => void (await onA.got.waitForIds([await send('local-1')])))).toBe(0);

    // the same device also connected to the other process (say a second tab): both sockets get it,
    // once A's last lookup of Bob is older than it may be reused
    const onB = await connected(b, bob);
    await new Promise((r) => setTimeout(r, PRESENCE_REUSE_MS + 50));
    let both = '';
    const published = await adapterTraffic(bob.userId, async () => {
      both = await send('both-1');
      await Promise.all([onA.got.waitForIds([both]), onB.got.waitForIds([both])]);
    });
    expect(published).toBeGreaterThan(0);
    expect(onA.got.messages.filter((m) => m.messageId === both)).toHaveLength(1);
    expect(onB.got.messages.filter((m) => m.messageId === both)).toHaveLength(1);
    for (const s of [sa, onA.socket, onB.socket]) s.close();
  });

  it('when the write commits more than LOCAL_DELIVERY_WINDOW_MS after the presence lookup, then delivery goes through the adapter', async () => {
    const { bob, sa, send } = await aliceAndBob();
    const onA = await connected(a, bob);
    const published = await adapterTraffic(bob.userId, async () => {
      const id = await beforeTheWrite(a, () => new Promise((r) => setTimeout(r, LOCAL_DELIVERY_WINDOW_MS + 200)), () => send('slow-1'));
      await onA.got.waitForIds([id]);
    });
    expect(published).toBeGreaterThan(0);
    expect(onA.got.messages).toHaveLength(1);
    for (const s of [sa, onA.socket]) s.close();
  });

  it('when the device connects to another process between the presence lookup and the commit, then that socket still gets the message (late mailbox pass)', async () => {
    const { bob, sa, send } = await aliceAndBob();
    const onA = await connected(a, bob);
    // the send's presence lookup has run (it saw only the socket on A) when the write is queued:
    // connect the same device to B right then, and let B finish its connect-time drain first
    let onB: Awaited<ReturnType<typeof connected>> | undefined;
    let messageId = '';
    const published = await adapterTraffic(bob.userId, async () => {
      messageId = await beforeTheWrite(a, async () => (onB = await connected(b, bob)), () => send('late-1'));
      await onA.got.waitForIds([messageId]);
    });
    expect(published).toBe(0); // emitted on A only: B's socket was not in the lookup
    if (!onB) throw new Error('the device never connected to B before the write');
    await onB.got.waitForIds([messageId], LATE_PASS_MS + 5_000);
    for (const s of [sa, onA.socket, onB.socket]) s.close();
  });
});

describe('presence across processes', () => {
  it("when a user's devices are on two processes, then contacts see offline only after the last one leaves", async () => {
    const alice = await createUser(a, env.mint, 2);
    const bob = await createUser(b, env.mint);
    const direct = await api(a.url, alice.token, 'POST', '/conversations', { kind: 'direct', memberIds: [bob.userId] });
    await api(b.url, bob.token, 'POST', `/conversations/${direct.body.id}/accept`);
    const sb = await connect(b.url, bob.token, bob.deviceId);
    const seen = record(sb, 'presence') as { userId: string; online: boolean }[];
    const online = nextEvent(sb, 'presence');
    const s1 = await connect(a.url, alice.token, alice.deviceIds[0] as number);
    expect(await online).toMatchObject({ userId: alice.userId, online: true });
    const s2 = await connect(b.url, alice.token, alice.deviceIds[1] as number);
    await nextEvent(s2, 'mailbox:empty'); // the server registers presence before it drains
    s1.close();
    // the second device is still connected (on the other process): Alice stays online
    expect(await request(sb, 'presence:get', { userIds: [alice.userId] })).toMatchObject({ ok: true, data: [expect.objectContaining({ userId: alice.userId, online: true })] });
    const offline = nextEvent(sb, 'presence');
    s2.close();
    expect(await offline).toMatchObject({ userId: alice.userId, online: false });
    expect(seen.filter((e) => e.userId === alice.userId).map((e) => e.online)).toEqual([true, false]);
    sb.close();
  });
});

describe('bus events', () => {
  it('when an offline recipient connects to the sending process, then the very next message is not announced as queued', async () => {
    const { bob, sa, send } = await aliceAndBob();
    const queuedFor = async (messageId: string) =>
      (await a.app.ds.query(`SELECT count(*)::int AS n FROM chat.outbox WHERE aggregate_id = $1 AND type = 'chat.message_queued.v1'`, [messageId]))[0].n as number;
    expect(await queuedFor(await send('offline-1'))).toBe(1);
    // connects here: this process forgets its recent lookup of Bob at once
    const sb = await connected(a, bob);
    expect(await queuedFor(await send('online-1'))).toBe(0);
    sa.close();
    sb.socket.close();
  });

  it('when a recipient has no online device, then chat.message_queued.v1 carries metadata only, and chat.mailbox_drained.v1 follows the ack', async () => {
    const alice = await createUser(a, env.mint);
    const bob = await createUser(b, env.mint);
    const conv = await api(a.url, alice.token, 'POST', '/conversations', { kind: 'direct', memberIds: [bob.userId] });
    const sa = await connect(a.url, alice.token, alice.deviceId);
    const queued = waitForConsumed(probe, probeQueue, 1, (e) => e.type === 'chat.message_queued.v1' && seen.some((s) => s.id === e.eventId && (s.payload as { recipientUserId: string }).recipientUserId === bob.userId));
    const body = fakeBody('queued');
    const ack = await request(sa, 'message:send', {
      conversationId: conv.body.id,
      clientMessageId: 'q1',
      envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 1, body }],
    });
    if (!ack.ok) throw new Error('send failed');
    await queued;
    const event = seen.find((s) => s.type === 'chat.message_queued.v1' && (s.payload as { recipientUserId: string }).recipientUserId === bob.userId);
    expect(event?.payload).toEqual({
      messageId: ack.data.messageId,
      recipientUserId: bob.userId,
      conversationId: conv.body.id,
      senderUserId: alice.userId,
      queuedAt: ack.data.serverTimestamp,
    });
    expect(JSON.stringify(event)).not.toContain(body);

    const drained = waitForConsumed(probe, probeQueue, 1, (e) => e.type === 'chat.mailbox_drained.v1');
    const sb = await connect(b.url, bob.token, bob.deviceId);
    await nextEvent(sb, 'mailbox:empty');
    expect(await request(sb, 'message:ack', { messageIds: [ack.data.messageId] })).toEqual({ ok: true, data: { deleted: 1 } });
    await drained;
    expect(seen.find((s) => s.type === 'chat.mailbox_drained.v1')?.payload).toMatchObject({ userId: bob.userId });

    // Bob online now (on the other process: A sees it once its last lookup is too old to reuse),
    // so the next message is not announced as queued
    await new Promise((r) => setTimeout(r, PRESENCE_REUSE_MS + 50));
    const before = seen.filter((s) => s.type === 'chat.message_queued.v1').length;
    const ack2 = await request(sa, 'message:send', {
      conversationId: conv.body.id,
      clientMessageId: 'q2',
      envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 1, body: fakeBody() }],
    });
    expect(ack2.ok).toBe(true);
    const outbox = await a.app.ds.query(`SELECT count(*)::int AS n FROM chat.outbox WHERE aggregate_id = $1`, [(ack2 as { data: { messageId: string } }).data.messageId]);
    expect(outbox[0].n).toBe(0);
    expect(seen.filter((s) => s.type === 'chat.message_queued.v1').length).toBe(before);
    sa.close();
    sb.close();
  });
});

describe('user.deleted.v1', () => {
  /** Publishes `user.deleted.v1` (with the given envelope id) and waits until one of the instances (they share the queue) handled it. */
  async function deleteUser(userId: string, eventId: string, expected: 'ack' | 'duplicate' = 'ack') {
    const waits = [a, b].map((i) => waitForConsumed(i.app.bus, i.app.userDeletedQueue, 1, (e) => e.type === 'user.deleted.v1' && e.eventId === eventId));
    for (const w of waits) w.catch(() => undefined); // only one of them sees it
    await probe.publish([{ id: eventId, type: 'user.deleted.v1', occurredAt: new Date().toISOString(), aggregateId: userId, payload: { userId } }]);
    const [result] = await Promise.any(waits);
    expect(result?.result).toBe(expected);
  }

  it("when a user is deleted, then everything chat-service held about them is gone, their sockets are dropped, they can't be re-added, and a redelivery changes nothing", async () => {
    const gone = await createUser(a, env.mint, 2);
    const friend = await createUser(a, env.mint);
    await api(a.url, gone.token, 'PUT', '/backup', { version: 1, blob: fakeBody() });
    const g = await api(a.url, gone.token, 'POST', '/conversations', { kind: 'group', memberIds: [friend.userId] });
    expect((await api(a.url, gone.token, 'POST', '/conversations', { kind: 'self', memberIds: [gone.userId] })).status).toBe(201);
    // an identity change (identity_changes row) and an attachment (row and file)
    const identity = await api(a.url, gone.token, 'PUT', `/devices/${gone.deviceIds[0]}/keys`, new SignalIdentity().upload(1));
    expect(identity.body.identityChanged).toBe(true);
    const up = await fetch(`${a.url}/api/chat/attachments?conversationId=${g.body.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gone.token}`, 'content-type': 'application/octet-stream' },
      body: Buffer.from('opaque attachment'),
    });
    expect(up.status).toBe(201);
    const attachmentId = ((await up.json()) as { id: string }).id;
    expect(await readdir(env.attachmentsDir)).toContain(attachmentId);
    const sf = await connect(a.url, friend.token, friend.deviceId);
    await request(sf, 'message:send', {
      conversationId: g.body.id,
      clientMessageId: 'to-gone',
      envelopes: [{ userId: gone.userId, deviceId: gone.deviceIds[0] as number, type: 1, body: fakeBody() }],
    });
    // the deleted user's own sockets, on both processes; one sends (a dedupe row)
    const s1 = await connect(a.url, gone.token, gone.deviceIds[0] as number);
    const s2 = await connect(b.url, gone.token, gone.deviceIds[1] as number);
    const sent = await request(s1, 'message:send', {
      conversationId: g.body.id,
      clientMessageId: 'from-gone',
      envelopes: [{ userId: friend.userId, deviceId: friend.deviceId, type: 1, body: fakeBody() }],
    });
    expect(sent.ok).toBe(true);
    const dropped = Promise.all([nextEvent(s1, 'disconnect'), nextEvent(s2, 'disconnect')]);

    const eventId = randomUUID();
    await deleteUser(gone.userId, eventId);
    expect(await dropped).toEqual(['io server disconnect', 'io server disconnect']);
    const count = async (sql: string) => (await a.app.ds.query(sql, [gone.userId]))[0].n;
    expect(await count(`SELECT count(*)::int AS n FROM chat.devices WHERE user_id = $1`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM chat.one_time_prekeys WHERE user_id = $1`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM chat.accounts WHERE user_id = $1`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM chat.backups WHERE user_id = $1`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM chat.mailbox WHERE recipient_user = $1`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM chat.conversation_members WHERE user_id = $1`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM chat.conversations WHERE kind = 'self' AND created_by = $1`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM chat.identity_changes WHERE user_id = $1`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM chat.messages WHERE sender_user = $1`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM chat.attachments WHERE owner_user = $1`)).toBe(0);
    expect(await readdir(env.attachmentsDir)).not.toContain(attachmentId);
    const conv = await api(a.url, friend.token, 'GET', `/conversations/${g.body.id}`);
    expect(conv.body.members).toEqual([expect.objectContaining({ userId: friend.userId, role: 'owner' })]);
    expect((await api(a.url, friend.token, 'POST', `/conversations/${g.body.id}/members`, { userIds: [gone.userId] })).status).toBe(422);

    // Redelivery of the same envelope (same id) is not applied again (inbox): a row the
    // handler would delete survives it.
    await a.app.ds.query(
      `INSERT INTO chat.identity_changes (user_id, old_identity_key, new_identity_key, device_id) VALUES ($1, '\\x05', '\\x05', 1)`,
      [gone.userId],
    );
    await deleteUser(gone.userId, eventId, 'duplicate');
    expect(await count(`SELECT count(*)::int AS n FROM chat.identity_changes WHERE user_id = $1`)).toBe(1);
    expect((await a.app.ds.query(`SELECT count(*)::int AS n FROM chat.inbox WHERE id = $1`, [eventId]))[0].n).toBe(1);
    sf.close();
  });

  it('when a deleted user still holds a valid access token, then REST and socket refuse it with account_deleted and no row comes back', async () => {
    const gone = await createUser(a, env.mint);
    const friend = await createUser(a, env.mint);
    await deleteUser(gone.userId, randomUUID());
    for (const [method, path, body] of [
      ['POST', '/devices', { name: 'back again' }],
      ['PUT', '/backup', { version: 1, blob: fakeBody() }],
      ['POST', '/conversations', { kind: 'direct', memberIds: [friend.userId] }],
      ['GET', '/conversations', undefined],
    ] as const) {
      const r = await api(b.url, gone.token, method, path, body);
      expect({ path, status: r.status, code: r.body?.error?.code }).toEqual({ path, status: 401, code: 'account_deleted' });
    }
    await expect(connect(a.url, gone.token, gone.deviceId)).rejects.toMatchObject({ data: { code: 'account_deleted' } });
    const count = async (sql: string) => (await a.app.ds.query(sql, [gone.userId]))[0].n;
    expect(await count(`SELECT count(*)::int AS n FROM chat.accounts WHERE user_id = $1`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM chat.devices WHERE user_id = $1`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM chat.backups WHERE user_id = $1`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM chat.conversation_members WHERE user_id = $1`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM chat.conversations WHERE kind = 'self' AND created_by = $1`)).toBe(0);
    // the friend is unaffected
    expect((await api(b.url, friend.token, 'GET', '/conversations')).status).toBe(200);
  });
});
