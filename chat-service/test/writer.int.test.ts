import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@cipherchat/service-kit';
import { MessageWriter, storeMessages, type Queryable, type StoreMessageInput } from '../src/store/message.writer.js';
import { ackMessagesBatch } from '../src/store/mailbox.repository.js';
import { api, beforeTheWrite, connect, createTestEnv, createUser, fakeBody, request, type Instance, type TestEnv } from './support/harness.js';

let env: TestEnv;
let inst: Instance;
let pool: Queryable;

beforeAll(async () => {
  env = await createTestEnv('chatwriter');
  inst = await env.start();
  pool = (inst.app.ds.driver as unknown as { master: Queryable }).master;
});
afterAll(async () => {
  await env?.close();
});

function message(sender: string, clientMessageId: string, recipients: string[]): StoreMessageInput {
  return {
    messageId: randomUUID(),
    conversationId: randomUUID(),
    senderUserId: sender,
    senderDeviceId: 1,
    clientMessageId,
    serverTs: new Date(),
    envelopes: recipients.map((userId) => ({ userId, deviceId: 1, type: 1, body: Buffer.from('opaque') })),
    queuedEvents: [],
    queuedUsers: [],
  };
}

/**
 * Makes each message's sender and recipients members of its conversation, with keyed devices
 * for the sender's device and every addressed one (the writer checks membership and the device set).
 */
async function seedMembers(...msgs: StoreMessageInput[]): Promise<void> {
  const devices = msgs.flatMap((x) => [[x.senderUserId, x.senderDeviceId] as const, ...x.envelopes.map((e) => [e.userId, e.deviceId] as const)]);
  await inst.app.ds.query(`INSERT INTO chat.accounts (user_id) SELECT DISTINCT u FROM unnest($1::uuid[]) AS u ON CONFLICT DO NOTHING`, [devices.map((d) => d[0])]);
  await inst.app.ds.query(
    `INSERT INTO chat.devices (user_id, device_id, name, signed_prekey, secret_digest) SELECT u, d, 'test', '\\x01', '\\x01' FROM unnest($1::uuid[], $2::int[]) AS x(u, d) ON CONFLICT DO NOTHING`,
    [devices.map((d) => d[0]), devices.map((d) => d[1])],
  );
  const convs = [...new Set(msgs.map((x) => x.conversationId))];
  await inst.app.ds.query(`INSERT INTO chat.conversations (id, kind, created_by) SELECT c, 'group', c FROM unnest($1::uuid[]) AS c ON CONFLICT DO NOTHING`, [convs]);
  const pairs = msgs.flatMap((x) => [x.senderUserId, ...x.envelopes.map((e) => e.userId)].map((u) => [x.conversationId, u] as const));
  await inst.app.ds.query(
    `INSERT INTO chat.conversation_members (conversation_id, user_id, role) SELECT c, u, 'member' FROM unnest($1::uuid[], $2::uuid[]) AS x(c, u) ON CONFLICT DO NOTHING`,
    [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
  );
}

describe('batched message writes', () => {
  it('when one batch holds the same (sender, clientMessageId) twice, then only the first is stored with its envelopes', async () => {
    const sender = randomUUID();
    const r = [randomUUID(), randomUUID()];
    const first = message(sender, 'same', r);
    const second = message(sender, 'same', r);
    const other = message(sender, 'other', r);
    await seedMembers(first, second, other);
    const stored = await storeMessages(pool, [first, second, other]);
    expect(stored).toEqual({ stored: new Set([first.messageId, other.messageId]), refused: new Set(), held: new Map(), full: new Set() });
    const rows = await inst.app.ds.query(`SELECT message_id, count(*)::int AS n FROM chat.mailbox WHERE sender_user = $1 GROUP BY message_id`, [sender]);
    expect(rows).toHaveLength(2);
    expect(rows.every((x: { n: number }) => x.n === 2)).toBe(true);
  });

  it('when many writes arrive while a batch is in flight, then they share later batches and every one resolves', async () => {
    const writer = new MessageWriter(pool, createLogger('test', 'silent'), { concurrency: 1, maxMessages: 50, maxEnvelopes: 500 });
    const sender = randomUUID();
    const inputs = Array.from({ length: 300 }, (_, i) => message(sender, `w${i}`, [randomUUID()]));
    await seedMembers(...inputs);
    const results = await Promise.all(inputs.map((x) => writer.write(x)));
    expect(results.every((r) => r === 'stored')).toBe(true);
    const rows = await inst.app.ds.query(`SELECT count(*)::int AS n FROM chat.messages WHERE sender_user = $1`, [sender]);
    expect(rows[0].n).toBe(300);
    // a resend of an already stored id resolves as a duplicate
    const resend = message(sender, 'w0', [randomUUID()]);
    await seedMembers(resend);
    expect(await writer.write(resend)).toBe('duplicate');
  });
});

describe('membership rechecked by the write', () => {
  it('when a batch holds a message to someone who is no longer a member, then only that message is refused and nothing of it is stored', async () => {
    const sender = randomUUID();
    const stays = randomUUID();
    const removed = randomUUID();
    const good = message(sender, 'good', [stays]);
    const late = message(sender, 'late', [stays, removed]);
    await seedMembers(good, late);
    await inst.app.ds.query(`DELETE FROM chat.conversation_members WHERE conversation_id = $1 AND user_id = $2`, [late.conversationId, removed]);
    const out = await storeMessages(pool, [good, late]);
    expect(out).toEqual({ stored: new Set([good.messageId]), refused: new Set([late.messageId]), held: new Map(), full: new Set() });
    const rows = await inst.app.ds.query(`SELECT message_id FROM chat.mailbox WHERE sender_user = $1`, [sender]);
    expect(rows).toEqual([{ message_id: good.messageId }]);
    // no dedupe row either: the same clientMessageId can be sent again with the right devices
    const again = { ...message(sender, 'late', [stays]), conversationId: late.conversationId };
    expect(await storeMessages(pool, [again])).toEqual({ stored: new Set([again.messageId]), refused: new Set(), held: new Map(), full: new Set() });
  });

  it('when a message in a batch does not address exactly the keyed devices, then only that message is refused', async () => {
    const sender = randomUUID();
    const bob = randomUUID();
    const good = message(sender, 'devices-good', [bob]);
    const missing = { ...message(sender, 'devices-missing', [bob]), conversationId: good.conversationId };
    const unknown = { ...message(sender, 'devices-unknown', [bob]), conversationId: good.conversationId };
    const toSelf = { ...message(sender, 'devices-self', [bob]), conversationId: good.conversationId };
    await seedMembers(good);
    // Bob has a second keyed device: every message must address both
    await seedMembers({ ...good, envelopes: [...good.envelopes, { userId: bob, deviceId: 2, type: 1, body: Buffer.from('x') }] });
    good.envelopes.push({ userId: bob, deviceId: 2, type: 1, body: Buffer.from('second') });
    unknown.envelopes.push({ userId: bob, deviceId: 2, type: 1, body: Buffer.from('x') }, { userId: bob, deviceId: 9, type: 1, body: Buffer.from('x') });
    toSelf.envelopes.push({ userId: bob, deviceId: 2, type: 1, body: Buffer.from('x') }, { userId: sender, deviceId: 1, type: 1, body: Buffer.from('x') });
    const out = await storeMessages(pool, [missing, good, unknown, toSelf]);
    expect(out).toEqual({ stored: new Set([good.messageId]), refused: new Set([missing.messageId, unknown.messageId, toSelf.messageId]), held: new Map(), full: new Set() });
    const rows = await inst.app.ds.query(`SELECT recipient_device, body FROM chat.mailbox WHERE message_id = $1 ORDER BY recipient_device`, [good.messageId]);
    expect(rows.map((r: { recipient_device: number; body: Buffer }) => [r.recipient_device, r.body.toString()])).toEqual([
      [1, 'opaque'],
      [2, 'second'],
    ]);
    expect(await inst.app.ds.query(`SELECT 1 FROM chat.messages WHERE sender_user = $1 AND client_message_id <> 'devices-good'`, [sender])).toEqual([]);
  });

  it('when a recipient is removed between the checks and the write, then the send answers stale_devices and they get no envelope', async () => {
    const owner = await createUser(inst, env.mint);
    const bob = await createUser(inst, env.mint);
    const carol = await createUser(inst, env.mint);
    const g = await api(inst.url, owner.token, 'POST', '/conversations', { kind: 'group', memberIds: [bob.userId, carol.userId] });
    const so = await connect(inst.url, owner.token, owner.deviceId);
    const envelopes = [bob, carol].map((u) => ({ userId: u.userId, deviceId: u.deviceId, type: 1, body: fakeBody() }));
    const ack = await beforeTheWrite(
      inst,
      async () => expect((await api(inst.url, owner.token, 'DELETE', `/conversations/${g.body.id}/members/${carol.userId}`)).status).toBe(204),
      () => request(so, 'message:send', { conversationId: g.body.id, clientMessageId: 'race-1', envelopes }),
    );
    expect(ack).toMatchObject({ ok: false, error: { code: 'stale_devices', details: { missing: [], extra: [{ userId: carol.userId, deviceId: carol.deviceId }] } } });
    const stored = await inst.app.ds.query(`SELECT count(*)::int AS n FROM chat.mailbox WHERE conversation_id = $1`, [g.body.id]);
    expect(stored[0].n).toBe(0);
    // the client drops Carol's device and resends under the same clientMessageId
    const resent = await request(so, 'message:send', { conversationId: g.body.id, clientMessageId: 'race-1', envelopes: envelopes.slice(0, 1) });
    expect(resent).toMatchObject({ ok: true, data: { messageId: expect.any(String) } });
    const rows = await inst.app.ds.query(`SELECT recipient_user FROM chat.mailbox WHERE conversation_id = $1`, [g.body.id]);
    expect(rows).toEqual([{ recipient_user: bob.userId }]);
    so.close();
  });

  it('when the sender leaves between the checks and the write, then the send answers not_member and nothing is stored', async () => {
    const owner = await createUser(inst, env.mint);
    const bob = await createUser(inst, env.mint);
    const g = await api(inst.url, owner.token, 'POST', '/conversations', { kind: 'group', memberIds: [bob.userId] });
    const sb = await connect(inst.url, bob.token, bob.deviceId);
    const ack = await beforeTheWrite(
      inst,
      async () => expect((await api(inst.url, bob.token, 'DELETE', `/conversations/${g.body.id}/members/${bob.userId}`)).status).toBe(204),
      () =>
        request(sb, 'message:send', {
          conversationId: g.body.id,
          clientMessageId: 'race-2',
          envelopes: [{ userId: owner.userId, deviceId: owner.deviceId, type: 1, body: fakeBody() }],
        }),
    );
    expect(ack).toMatchObject({ ok: false, error: { code: 'not_member' } });
    const stored = await inst.app.ds.query(`SELECT count(*)::int AS n FROM chat.mailbox WHERE conversation_id = $1`, [g.body.id]);
    expect(stored[0].n).toBe(0);
    sb.close();
  });
});

describe('batched acks', () => {
  it('when several devices ack in one batch, then each deletes only its own copies, even when it names ids of other devices', async () => {
    const sender = randomUUID();
    const bob = randomUUID();
    const carol = randomUUID();
    const msg = message(sender, 'ack-batch', []);
    msg.envelopes = [
      { userId: bob, deviceId: 1, type: 1, body: Buffer.from('x') },
      { userId: bob, deviceId: 2, type: 1, body: Buffer.from('x') },
      { userId: carol, deviceId: 1, type: 1, body: Buffer.from('x') },
    ];
    await seedMembers(msg);
    await storeMessages(pool, [msg]);
    const drained = (u: string) => ({ id: randomUUID(), payload: JSON.stringify({ userId: u, at: new Date().toISOString() }) });
    const out = await ackMessagesBatch(pool, [
      { userId: bob, deviceId: 1, messageIds: [msg.messageId], drained: drained(bob) },
      { userId: carol, deviceId: 7, messageIds: [msg.messageId], drained: drained(carol) }, // not Carol's device: nothing
      { userId: bob, deviceId: 1, messageIds: [msg.messageId], drained: drained(bob) }, // duplicate ack
    ]);
    expect(out.map((o) => o.deleted).reduce((a, b) => a + b, 0)).toBe(1);
    expect(out[1]!.deleted).toBe(0);
    const left = await inst.app.ds.query(`SELECT recipient_user, recipient_device FROM chat.mailbox WHERE message_id = $1 ORDER BY recipient_user, recipient_device`, [msg.messageId]);
    expect(left).toHaveLength(2);
    expect(left).toEqual(
      expect.arrayContaining([
        { recipient_user: bob, recipient_device: 2 },
        { recipient_user: carol, recipient_device: 1 },
      ]),
    );
  });
});
