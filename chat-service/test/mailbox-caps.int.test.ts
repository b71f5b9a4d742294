import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  connect,
  connectDrained,
  createTestEnv,
  createUser,
  fakeBody,
  request,
  type Instance,
  type TestEnv,
} from './support/harness.js';

let env: TestEnv;
let inst: Instance;

beforeAll(async () => {
  env = await createTestEnv('chatcap');
  inst = await env.start({
    MAILBOX_MAX_MESSAGES: '3',
    MAILBOX_MAX_BYTES: '4096',
    MAILBOX_REQUEST_MAX_MESSAGES: '1',
    MAILBOX_REQUEST_MAX_BYTES: '2048',
  });
});
afterAll(async () => {
  await env?.close();
});

async function directPair() {
  const alice = await createUser(inst, env.mint);
  const bob = await createUser(inst, env.mint);
  const conv = await api(inst.url, alice.token, 'POST', '/conversations', {
    kind: 'direct',
    memberIds: [bob.userId],
  });
  expect(conv.status).toBe(201);
  // Bob accepts Alice's request: they are contacts (a request has tighter mailbox caps)
  expect((await api(inst.url, bob.token, 'POST', `/conversations/${conv.body.id}/accept`)).status).toBe(204);
  return { alice, bob, conversationId: conv.body.id as string };
}

async function mailbox(userId: string): Promise<{ rows: number; messages: number; bytes: number }> {
  const [rows] = (await inst.app.ds.query(
    `SELECT count(*)::int AS n FROM chat.mailbox WHERE recipient_user = $1`,
    [userId],
  )) as { n: number }[];
  const [usage] = (await inst.app.ds.query(
    `SELECT messages, bytes::int AS bytes FROM chat.mailbox_usage WHERE recipient_user = $1`,
    [userId],
  )) as {
    messages: number;
    bytes: number;
  }[];
  return { rows: rows?.n ?? 0, messages: usage?.messages ?? 0, bytes: usage?.bytes ?? 0 };
}

async function dedupeRows(senderId: string): Promise<number> {
  const [r] = (await inst.app.ds.query(
    `SELECT count(*)::int AS n FROM chat.messages WHERE sender_user = $1`,
    [senderId],
  )) as { n: number }[];
  return r?.n ?? 0;
}

function body(bytes: number): string {
  return Buffer.alloc(bytes, 7).toString('base64');
}

describe('mailbox caps', () => {
  it('when an offline device has as many envelopes waiting as the cap, then the next send is refused with mailbox_full and nothing of it is stored', async () => {
    const { alice, bob, conversationId } = await directPair();
    const sa = await connect(inst.url, alice.token, alice.deviceId);
    try {
      for (let i = 0; i < 3; i++) {
        const ack = await request(sa, 'message:send', {
          conversationId,
          clientMessageId: `m${i}`,
          envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 3, body: fakeBody() }],
        });
        expect(ack).toMatchObject({ ok: true });
      }
      const over = await request(sa, 'message:send', {
        conversationId,
        clientMessageId: 'm3',
        envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 3, body: fakeBody() }],
      });
      expect(over).toMatchObject({ ok: false, error: { code: 'mailbox_full' } });
      // the answer names no one
      expect(JSON.stringify(over)).not.toContain(bob.userId);
      expect((await mailbox(bob.userId)).rows).toBe(3);
      expect(await dedupeRows(alice.userId)).toBe(3);

      // Bob reads and acks: room again
      const { socket: sb, box } = await connectDrained(inst.url, bob.token, bob.deviceId);
      const got = await box.waitFor(3);
      expect(
        await request(sb, 'message:ack', { messageIds: got.map((m) => m.messageId) }),
      ).toMatchObject({ ok: true });
      sb.close();
      await expect
        .poll(async () => mailbox(bob.userId))
        .toEqual({ rows: 0, messages: 0, bytes: 0 });
      const again = await request(sa, 'message:send', {
        conversationId,
        clientMessageId: 'm3',
        envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 3, body: fakeBody() }],
      });
      expect(again).toMatchObject({ ok: true });
    } finally {
      sa.close();
    }
  });

  it('when a send would take a mailbox over its byte cap, then mailbox_full; at the cap it is accepted; the counters match the rows', async () => {
    const { alice, bob, conversationId } = await directPair();
    const sa = await connect(inst.url, alice.token, alice.deviceId);
    try {
      const first = await request(sa, 'message:send', {
        conversationId,
        clientMessageId: 'b1',
        envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 3, body: body(3000) }],
      });
      expect(first).toMatchObject({ ok: true });
      const over = await request(sa, 'message:send', {
        conversationId,
        clientMessageId: 'b2',
        envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 3, body: body(1097) }],
      });
      expect(over).toMatchObject({ ok: false, error: { code: 'mailbox_full' } });
      const exact = await request(sa, 'message:send', {
        conversationId,
        clientMessageId: 'b3',
        envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 3, body: body(1096) }],
      });
      expect(exact).toMatchObject({ ok: true });
      expect(await mailbox(bob.userId)).toEqual({ rows: 2, messages: 2, bytes: 4096 });
    } finally {
      sa.close();
    }
  });

  it('when the recipient has not accepted the conversation (a request), then the tighter caps apply', async () => {
    const { alice, bob, conversationId } = await directPair();
    await inst.app.ds.query(
      `UPDATE chat.conversation_members SET state = 'request' WHERE conversation_id = $1 AND user_id = $2`,
      [conversationId, bob.userId],
    );
    const sa = await connect(inst.url, alice.token, alice.deviceId);
    try {
      const big = await request(sa, 'message:send', {
        conversationId,
        clientMessageId: 'r0',
        envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 3, body: body(2049) }],
      });
      expect(big).toMatchObject({ ok: false, error: { code: 'mailbox_full' } });
      const one = await request(sa, 'message:send', {
        conversationId,
        clientMessageId: 'r1',
        envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 3, body: fakeBody() }],
      });
      expect(one).toMatchObject({ ok: true });
      const two = await request(sa, 'message:send', {
        conversationId,
        clientMessageId: 'r2',
        envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 3, body: fakeBody() }],
      });
      expect(two).toMatchObject({ ok: false, error: { code: 'mailbox_full' } });
      expect((await mailbox(bob.userId)).rows).toBe(1);
      // Bob's own sends to Alice (accepted on her side) are not held to the request caps
      const sb = await connect(inst.url, bob.token, bob.deviceId);
      for (const id of ['x1', 'x2']) {
        expect(
          await request(sb, 'message:send', {
            conversationId,
            clientMessageId: id,
            envelopes: [
              { userId: alice.userId, deviceId: alice.deviceId, type: 3, body: fakeBody() },
            ],
          }),
        ).toMatchObject({ ok: true });
      }
      sb.close();
    } finally {
      sa.close();
    }
  });

  it('when a batch of concurrent sends crosses the cap, then exactly the cap is stored and the rest are refused whole', async () => {
    const { alice, bob, conversationId } = await directPair();
    const sa = await connect(inst.url, alice.token, alice.deviceId);
    try {
      const acks = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          request(sa, 'message:send', {
            conversationId,
            clientMessageId: `c${i}`,
            envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 3, body: fakeBody() }],
          }),
        ),
      );
      expect(acks.filter((x) => x.ok)).toHaveLength(3);
      expect(acks.filter((x) => !x.ok).every((x) => !x.ok && x.error.code === 'mailbox_full')).toBe(
        true,
      );
      expect(await mailbox(bob.userId)).toMatchObject({ rows: 3, messages: 3 });
      expect(await dedupeRows(alice.userId)).toBe(3);
    } finally {
      sa.close();
    }
  });
});
