import { describe, expect, it } from 'vitest';
import { api, connect, connectDrained, fakeBody, request } from './support/harness.js';
import { directPair as pair, sendTo, storedBy, useLimitedInstance } from './support/limits.js';

const t = useLimitedInstance('chatcap', {
  MAILBOX_MAX_MESSAGES: '3',
  MAILBOX_MAX_BYTES: '4096',
  MAILBOX_REQUEST_MAX_MESSAGES: '1',
  MAILBOX_REQUEST_MAX_BYTES: '2048',
});

/** Alice and Bob, contacts (Bob accepted: a request is held to the per-sender request budget). */
const directPair = () => pair(t);

async function mailbox(userId: string): Promise<{ rows: number; messages: number; bytes: number }> {
  const [rows] = (await t.inst.app.ds.query(
    `SELECT count(*)::int AS n FROM chat.mailbox WHERE recipient_user = $1`,
    [userId],
  )) as { n: number }[];
  const [usage] = (await t.inst.app.ds.query(
    `SELECT messages, bytes::int AS bytes FROM chat.mailbox_usage WHERE recipient_user = $1`,
    [userId],
  )) as {
    messages: number;
    bytes: number;
  }[];
  return { rows: rows?.n ?? 0, messages: usage?.messages ?? 0, bytes: usage?.bytes ?? 0 };
}

const dedupeRows = (senderId: string) => storedBy(t, senderId);

function body(bytes: number): string {
  return Buffer.alloc(bytes, 7).toString('base64');
}

describe('mailbox caps', () => {
  it('when an offline device has as many envelopes waiting as the cap, then the next send is refused with mailbox_full and nothing of it is stored', async () => {
    const { alice, bob, conversationId } = await directPair();
    const sa = await connect(t.inst.url, alice.token, alice.deviceId);
    try {
      for (let i = 0; i < 3; i++) {
        const ack = await sendTo(sa, conversationId, `m${i}`, [bob], fakeBody());
        expect(ack).toMatchObject({ ok: true });
      }
      const over = await sendTo(sa, conversationId, 'm3', [bob], fakeBody());
      expect(over).toMatchObject({ ok: false, error: { code: 'mailbox_full' } });
      // the answer names no one
      expect(JSON.stringify(over)).not.toContain(bob.userId);
      expect((await mailbox(bob.userId)).rows).toBe(3);
      expect(await dedupeRows(alice.userId)).toBe(3);

      // Bob reads and acks: room again
      const { socket: sb, box } = await connectDrained(t.inst.url, bob.token, bob.deviceId);
      const got = await box.waitFor(3);
      expect(
        await request(sb, 'message:ack', { messageIds: got.map((m) => m.messageId) }),
      ).toMatchObject({ ok: true });
      sb.close();
      await expect
        .poll(async () => mailbox(bob.userId))
        .toEqual({ rows: 0, messages: 0, bytes: 0 });
      const again = await sendTo(sa, conversationId, 'm3', [bob], fakeBody());
      expect(again).toMatchObject({ ok: true });
    } finally {
      sa.close();
    }
  });

  it('when a send would take a mailbox over its byte cap, then mailbox_full; at the cap it is accepted; the counters match the rows', async () => {
    const { alice, bob, conversationId } = await directPair();
    const sa = await connect(t.inst.url, alice.token, alice.deviceId);
    try {
      const first = await sendTo(sa, conversationId, 'b1', [bob], body(3000));
      expect(first).toMatchObject({ ok: true });
      const over = await sendTo(sa, conversationId, 'b2', [bob], body(1097));
      expect(over).toMatchObject({ ok: false, error: { code: 'mailbox_full' } });
      const exact = await sendTo(sa, conversationId, 'b3', [bob], body(1096));
      expect(exact).toMatchObject({ ok: true });
      expect(await mailbox(bob.userId)).toEqual({ rows: 2, messages: 2, bytes: 4096 });
    } finally {
      sa.close();
    }
  });

  it('when the recipient has not accepted the conversation (a request), then the sender is held to the (sender, recipient) request budget', async () => {
    const { alice, bob, conversationId } = await directPair();
    await t.inst.app.ds.query(
      `UPDATE chat.conversation_members SET state = 'request' WHERE conversation_id = $1 AND user_id = $2`,
      [conversationId, bob.userId],
    );
    const sa = await connect(t.inst.url, alice.token, alice.deviceId);
    try {
      const big = await sendTo(sa, conversationId, 'r0', [bob], body(2049));
      expect(big).toMatchObject({ ok: false, error: { code: 'mailbox_full' } });
      const one = await sendTo(sa, conversationId, 'r1', [bob], fakeBody());
      expect(one).toMatchObject({ ok: true });
      const two = await sendTo(sa, conversationId, 'r2', [bob], fakeBody());
      expect(two).toMatchObject({ ok: false, error: { code: 'mailbox_full' } });
      expect((await mailbox(bob.userId)).rows).toBe(1);
      // Bob's own sends to Alice (accepted on her side) are not held to the request budget
      const sb = await connect(t.inst.url, bob.token, bob.deviceId);
      for (const id of ['x1', 'x2']) {
        expect(await sendTo(sb, conversationId, id, [alice], fakeBody())).toMatchObject({
          ok: true,
        });
      }
      sb.close();
    } finally {
      sa.close();
    }
  });

  it('when some envelopes are acked and the device is then removed, then the counters follow the rows down to zero', async () => {
    const { alice, bob, conversationId } = await directPair();
    const sa = await connect(t.inst.url, alice.token, alice.deviceId);
    try {
      for (const id of ['d1', 'd2', 'd3'])
        expect(await sendTo(sa, conversationId, id, [bob], body(100))).toMatchObject({ ok: true });
    } finally {
      sa.close();
    }
    const { socket: sb, box } = await connectDrained(t.inst.url, bob.token, bob.deviceId);
    const got = await box.waitFor(3);
    expect(await request(sb, 'message:ack', { messageIds: [got[0]?.messageId] })).toMatchObject({
      ok: true,
    });
    sb.close();
    await expect
      .poll(async () => mailbox(bob.userId))
      .toEqual({ rows: 2, messages: 2, bytes: 200 });
    const removed = await api(t.inst.url, bob.token, 'DELETE', `/devices/${bob.deviceId}`);
    expect(removed.status).toBe(204);
    expect(await mailbox(bob.userId)).toEqual({ rows: 0, messages: 0, bytes: 0 });
  });

  it('when a batch of concurrent sends crosses the cap, then exactly the cap is stored and the rest are refused whole', async () => {
    const { alice, bob, conversationId } = await directPair();
    const sa = await connect(t.inst.url, alice.token, alice.deviceId);
    try {
      const acks = await Promise.all(
        Array.from({ length: 8 }, (_, i) => sendTo(sa, conversationId, `c${i}`, [bob], fakeBody())),
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
