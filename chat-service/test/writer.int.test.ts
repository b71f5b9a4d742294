import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@cipherchat/service-kit';
import { MessageWriter, storeMessages, type Queryable, type StoreMessageInput } from '../src/store/message.writer.js';
import { ackMessagesBatch } from '../src/store/mailbox.repository.js';
import { createTestEnv, type Instance, type TestEnv } from './support/harness.js';

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

describe('batched message writes', () => {
  it('when one batch holds the same (sender, clientMessageId) twice, then only the first is stored with its envelopes', async () => {
    const sender = randomUUID();
    const r = [randomUUID(), randomUUID()];
    const first = message(sender, 'same', r);
    const second = message(sender, 'same', r);
    const other = message(sender, 'other', r);
    const stored = await storeMessages(pool, [first, second, other]);
    expect(stored).toEqual(new Set([first.messageId, other.messageId]));
    const rows = await inst.app.ds.query(`SELECT message_id, count(*)::int AS n FROM chat.mailbox WHERE sender_user = $1 GROUP BY message_id`, [sender]);
    expect(rows).toHaveLength(2);
    expect(rows.every((x: { n: number }) => x.n === 2)).toBe(true);
  });

  it('when many writes arrive while a batch is in flight, then they share later batches and every one resolves', async () => {
    const writer = new MessageWriter(pool, createLogger('test', 'silent'), { concurrency: 1, maxMessages: 50, maxEnvelopes: 500 });
    const sender = randomUUID();
    const inputs = Array.from({ length: 300 }, (_, i) => message(sender, `w${i}`, [randomUUID()]));
    const results = await Promise.all(inputs.map((x) => writer.write(x)));
    expect(results.every(Boolean)).toBe(true);
    const rows = await inst.app.ds.query(`SELECT count(*)::int AS n FROM chat.messages WHERE sender_user = $1`, [sender]);
    expect(rows[0].n).toBe(300);
    // a resend of an already stored id resolves false (duplicate)
    expect(await writer.write({ ...message(sender, 'w0', [randomUUID()]) })).toBe(false);
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
