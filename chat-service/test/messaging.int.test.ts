import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as ioClient } from 'socket.io-client';
import { api, connect, createTestEnv, createUser, deviceSecretOf, fakeBody, inbox, nextEvent, request, type Instance, type TestEnv, connectDrained } from './support/harness.js';

let env: TestEnv;
let a: Instance;
let b: Instance;

beforeAll(async () => {
  env = await createTestEnv('chatmsg');
  // the backlog and pipelining tests send hundreds of messages per second from one socket
  a = await env.start({ RATE_SOCKET_EVENTS_PER_SEC: '100000' });
  b = await env.start({ RATE_SOCKET_EVENTS_PER_SEC: '100000' });
});
afterAll(async () => {
  await env?.close();
});

async function directPair() {
  const alice = await createUser(a, env.mint);
  const bob = await createUser(b, env.mint);
  const conv = await api(a.url, alice.token, 'POST', '/conversations', { kind: 'direct', memberIds: [bob.userId] });
  expect(conv.status).toBe(201);
  // Bob accepts Alice's request: they are contacts (a request is held to the per-sender request budget)
  expect((await api(b.url, bob.token, 'POST', `/conversations/${conv.body.id}/accept`)).status).toBe(204);
  return { alice, bob, conversationId: conv.body.id as string };
}

describe('messaging across two processes', () => {
  it('when a client on process A sends, then a client on process B receives it and the sender gets an ack', async () => {
    const { alice, bob, conversationId } = await directPair();
    const sa = await connect(a.url, alice.token, alice.deviceId);
    const sb = await connect(b.url, bob.token, bob.deviceId);
    await nextEvent(sb, 'mailbox:empty').catch(() => undefined);
    const box = inbox(sb);
    const body = fakeBody('hello');
    const ack = await request(sa, 'message:send', {
      conversationId,
      clientMessageId: 'm1',
      envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 3, body }],
    });
    expect(ack).toMatchObject({ ok: true });
    const [msg] = await box.waitFor(1);
    expect(msg).toMatchObject({
      conversationId,
      senderUserId: alice.userId,
      senderDeviceId: alice.deviceId,
      type: 3,
      body,
      messageId: ack.ok ? ack.data.messageId : 'x',
    });
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    expect(metrics).toMatch(/chat_envelopes_stored_total\S* [1-9]/);
    expect(metrics).toContain('chat_message_send_seconds_bucket');
    sa.close();
    sb.close();
  });

  it('when the recipient is offline at send time, then it receives every message on connect, in order, then mailbox:empty', async () => {
    const { alice, bob, conversationId } = await directPair();
    const sa = await connect(a.url, alice.token, alice.deviceId);
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const ack = await request(sa, 'message:send', {
        conversationId,
        clientMessageId: `c${i}`,
        envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 1, body: fakeBody(`n${i}`) }],
      });
      if (!ack.ok) throw new Error(JSON.stringify(ack));
      ids.push(ack.data.messageId);
    }
    const { socket: sb, box } = await connectDrained(b.url, bob.token, bob.deviceId);
    expect(box.messages.map((m) => m.messageId)).toEqual(ids);
    // acking removes them: a new sync delivers nothing
    const acked = await request(sb, 'message:ack', { messageIds: ids });
    expect(acked).toEqual({ ok: true, data: { deleted: 25 } });
    const before = box.messages.length;
    const empty = nextEvent(sb, 'mailbox:empty');
    await request(sb, 'mailbox:sync');
    await empty;
    expect(box.messages.length).toBe(before);
    sa.close();
    sb.close();
  });

  it('when the same clientMessageId is sent twice, then it is stored once and both acks carry the same id', async () => {
    const { alice, bob, conversationId } = await directPair();
    const sa = await connect(a.url, alice.token, alice.deviceId);
    const payload = { conversationId, clientMessageId: randomUUID(), envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 1, body: fakeBody() }] };
    const [r1, r2] = await Promise.all([request(sa, 'message:send', payload), request(sa, 'message:send', payload)]);
    const r3 = await request(sa, 'message:send', payload);
    if (!r1.ok || !r2.ok || !r3.ok) throw new Error('send failed');
    expect(new Set([r1.data.messageId, r2.data.messageId, r3.data.messageId]).size).toBe(1);
    const rows = await a.app.ds.query(`SELECT count(*)::int AS n FROM chat.mailbox WHERE recipient_user = $1`, [bob.userId]);
    expect(rows[0].n).toBe(1);
    sa.close();
  });
});

describe('pipelining', () => {
  it('when a client sends many messages without waiting for acks, then they are stored, acked and delivered in send order', async () => {
    const { alice, bob, conversationId } = await directPair();
    const other = await api(a.url, alice.token, 'POST', '/conversations', { kind: 'group', memberIds: [bob.userId] });
    const sa = await connect(a.url, alice.token, alice.deviceId);
    // past the connect-time drain (its switch to live delivery may reorder)
    const { socket: sb, box } = await connectDrained(b.url, bob.token, bob.deviceId);
    const ackOrder: number[] = [];
    const stamps: string[] = [];
    const sends = Array.from({ length: 120 }, (_, i) =>
      request(sa, 'message:send', {
        conversationId: i % 3 === 2 ? other.body.id : conversationId,
        clientMessageId: `p${i}`,
        envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 1, body: Buffer.from(`n=${i}`).toString('base64') }],
      }).then((r) => {
        if (!r.ok) throw new Error(JSON.stringify(r));
        ackOrder.push(i);
        stamps[i] = r.data.serverTimestamp;
        return r.data.messageId as string;
      }),
    );
    const ids = await Promise.all(sends);
    await box.waitForIds(ids);
    const seq = (conv: string) => box.messages.filter((m) => m.conversationId === conv).map((m) => Number(Buffer.from(m.body, 'base64').toString().slice(2)));
    const inOrder = (xs: number[]) => xs.every((x, k) => k === 0 || x > (xs[k - 1] as number));
    expect(inOrder(seq(conversationId))).toBe(true);
    expect(inOrder(seq(other.body.id))).toBe(true);
    expect(inOrder(ackOrder.filter((i) => i % 3 !== 2))).toBe(true);
    const mainStamps = stamps.filter((_, i) => i % 3 !== 2).map((t) => Date.parse(t));
    expect(mainStamps.every((t, k) => k === 0 || t >= (mainStamps[k - 1] as number))).toBe(true);
    const stored = await a.app.ds.query(
      `SELECT m.message_id FROM chat.mailbox m WHERE m.recipient_user = $1 AND m.conversation_id = $2 ORDER BY m.seq`,
      [bob.userId, conversationId],
    );
    expect(stored.map((r: { message_id: string }) => r.message_id)).toEqual(ids.filter((_, i) => i % 3 !== 2));
    sa.close();
    sb.close();
  });
});

describe('drain', () => {
  it('when a device connects to a long backlog while new messages keep coming, then it gets every message, the backlog in order', async () => {
    const { alice, bob, conversationId } = await directPair();
    const sa = await connect(a.url, alice.token, alice.deviceId);
    const send = async (i: number) => {
      const r = await request(sa, 'message:send', {
        conversationId,
        clientMessageId: `bk${i}`,
        envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 1, body: fakeBody(`b${i}`) }],
      });
      if (!r.ok) throw new Error(JSON.stringify(r));
      return r.data.messageId as string;
    };
    const backlog: string[] = [];
    // 450 messages: more than two drain batches
    for (let i = 0; i < 450; i += 50) backlog.push(...(await Promise.all(Array.from({ length: 50 }, (_, j) => send(i + j)))));
    const sb = await connect(b.url, bob.token, bob.deviceId);
    const box = inbox(sb);
    const live: string[] = [];
    for (let i = 450; i < 480; i++) live.push(await send(i));
    await box.waitForIds([...backlog, ...live], 30_000);
    // at-least-once: a message committed while the drain switches to live delivery may come twice
    const firstSeen = [...new Set(box.messages.map((m) => m.messageId))];
    expect(new Set(firstSeen)).toEqual(new Set([...backlog, ...live]));
    expect(firstSeen.filter((id) => backlog.includes(id))).toEqual(backlog);
    expect(box.messages.length - firstSeen.length).toBeLessThan(30);
    sa.close();
    sb.close();
  });
});

describe('early mailbox:sync', () => {
  it('when a client asks for mailbox:sync right after connecting, then it still gets live messages afterwards', async () => {
    const { alice, bob, conversationId } = await directPair();
    const sb = await connect(b.url, bob.token, bob.deviceId);
    const box = inbox(sb);
    sb.emit('mailbox:sync');
    sb.emit('mailbox:sync');
    await nextEvent(sb, 'mailbox:empty');
    const sa = await connect(a.url, alice.token, alice.deviceId);
    const ack = await request(sa, 'message:send', {
      conversationId,
      clientMessageId: 'after-sync',
      envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 1, body: fakeBody() }],
    });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    await box.waitForIds([ack.data.messageId]);
    sa.close();
    sb.close();
  });
});

describe('device sets', () => {
  it('when envelopes miss a device or name an unknown one, then stale_devices names both and nothing is stored', async () => {
    const alice = await createUser(a, env.mint, 2);
    const bob = await createUser(a, env.mint, 2);
    const conv = await api(a.url, alice.token, 'POST', '/conversations', { kind: 'direct', memberIds: [bob.userId] });
    const sa = await connect(a.url, alice.token, alice.deviceIds[0] as number);
    const ghost = randomUUID();
    const res = await request(sa, 'message:send', {
      conversationId: conv.body.id,
      clientMessageId: 'stale-1',
      envelopes: [
        { userId: bob.userId, deviceId: bob.deviceIds[0], type: 1, body: fakeBody() },
        { userId: bob.userId, deviceId: 99, type: 1, body: fakeBody() },
        { userId: ghost, deviceId: 1, type: 1, body: fakeBody() },
      ],
    });
    expect(res).toMatchObject({ ok: false, error: { code: 'stale_devices' } });
    if (res.ok) throw new Error('unexpected');
    const details = res.error.details as { missing: unknown[]; extra: unknown[] };
    expect(details.missing).toEqual(
      expect.arrayContaining([
        { userId: bob.userId, deviceId: bob.deviceIds[1] },
        { userId: alice.userId, deviceId: alice.deviceIds[1] },
      ]),
    );
    expect(details.missing).toHaveLength(2);
    expect(details.extra).toEqual(expect.arrayContaining([{ userId: bob.userId, deviceId: 99 }, { userId: ghost, deviceId: 1 }]));
    expect(details.extra).toHaveLength(2);
    const rows = await a.app.ds.query(`SELECT count(*)::int AS n FROM chat.messages WHERE sender_user = $1`, [alice.userId]);
    expect(rows[0].n).toBe(0);

    // the corrected list (both of Bob's devices + Alice's other device) goes through, and each device gets its own envelope
    const s2 = await connect(a.url, alice.token, alice.deviceIds[1] as number);
    const mine = inbox(s2);
    const ok = await request(sa, 'message:send', {
      conversationId: conv.body.id,
      clientMessageId: 'stale-2',
      envelopes: [
        { userId: bob.userId, deviceId: bob.deviceIds[0], type: 1, body: fakeBody('b1') },
        { userId: bob.userId, deviceId: bob.deviceIds[1], type: 1, body: fakeBody('b2') },
        { userId: alice.userId, deviceId: alice.deviceIds[1], type: 1, body: fakeBody('self') },
      ],
    });
    expect(ok.ok).toBe(true);
    const [copy] = await mine.waitFor(1);
    expect(Buffer.from(copy!.body, 'base64').toString()).toMatch(/^self:/);
    sa.close();
    s2.close();
  });

  it("when a device acks another device's message ids, then only its own copies are deleted", async () => {
    const alice = await createUser(a, env.mint);
    const bob = await createUser(a, env.mint, 2);
    const conv = await api(a.url, alice.token, 'POST', '/conversations', { kind: 'direct', memberIds: [bob.userId] });
    const sa = await connect(a.url, alice.token, alice.deviceId);
    const ack = await request(sa, 'message:send', {
      conversationId: conv.body.id,
      clientMessageId: 'ack-1',
      envelopes: bob.deviceIds.map((d) => ({ userId: bob.userId, deviceId: d, type: 1, body: fakeBody() })),
    });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
    // Bob's device 2 acks first: its copy goes, device 1's stays
    const sb2 = await connect(b.url, bob.token, bob.deviceIds[1] as number);
    expect(await request(sb2, 'message:ack', { messageIds: [ack.data.messageId] })).toEqual({ ok: true, data: { deleted: 1 } });
    expect(await request(sb2, 'message:ack', { messageIds: [ack.data.messageId] })).toEqual({ ok: true, data: { deleted: 0 } });
    // Alice (not a recipient) acks the same id: nothing of Bob's is touched
    expect(await request(sa, 'message:ack', { messageIds: [ack.data.messageId] })).toEqual({ ok: true, data: { deleted: 0 } });
    const left = await a.app.ds.query(`SELECT recipient_device FROM chat.mailbox WHERE message_id = $1`, [ack.data.messageId]);
    expect(left).toEqual([{ recipient_device: bob.deviceIds[0] }]);
    const { socket: sb1, box } = await connectDrained(b.url, bob.token, bob.deviceIds[0] as number);
    expect(box.messages.map((m) => m.messageId)).toEqual([ack.data.messageId]);
    sa.close();
    sb1.close();
    sb2.close();
  });
});

describe('handshake', () => {
  it('when the token is missing, invalid, expired or the device unknown, then connect_error carries the code', async () => {
    const alice = await createUser(a, env.mint);
    const codeOf = (p: Promise<unknown>) => p.then(() => 'connected', (e: { data?: { code?: string } }) => e.data?.code);
    expect(await codeOf(connect(a.url, '', alice.deviceId))).toBe('unauthorized');
    expect(await codeOf(connect(a.url, 'not.a.jwt', alice.deviceId))).toBe('unauthorized');
    expect(await codeOf(connect(a.url, await env.mint.mint(alice.userId, -60), alice.deviceId))).toBe('token_expired');
    expect(await codeOf(connect(a.url, alice.token, 4242))).toBe('unknown_device');
    const other = await createUser(a, env.mint);
    // a real device id of another user is still unknown for this user
    expect(await codeOf(connect(a.url, alice.token, other.deviceId + 1000))).toBe('unknown_device');
  });

  it('when a browser authenticates with the cookie, then its Origin must be allowed', async () => {
    const alice = await createUser(a, env.mint);
    const viaCookie = (origin: string) =>
      new Promise<string>((resolve) => {
        const s = ioClient(a.url, {
          path: '/socket.io/',
          auth: { deviceId: alice.deviceId, deviceSecret: deviceSecretOf(alice.userId, alice.deviceId) },
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
          extraHeaders: { cookie: `cc_access=${alice.token}`, origin },
        });
        s.once('connect', () => (s.close(), resolve('connected')));
        s.once('connect_error', (e: Error & { data?: { code?: string } }) => (s.close(), resolve(e.data?.code ?? e.message)));
      });
    expect(await viaCookie('http://localhost:8080')).toBe('connected');
    expect(await viaCookie('https://evil.example')).toBe('origin_not_allowed');
  });

  it('when the access token expires, then the server disconnects the socket after session:expired', async () => {
    const alice = await createUser(a, env.mint);
    const short = await env.mint.mint(alice.userId, 2);
    const s = await connect(a.url, short, alice.deviceId);
    const expired = nextEvent(s, 'session:expired', 10_000);
    const reason = nextEvent<string>(s, 'disconnect', 10_000);
    await expired;
    expect(await reason).toBe('io server disconnect');
  });
});
