import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { api, connect, createUser, fakeBody } from './support/harness.js';
import { directPair, sendTo, storedBy, useLimitedInstance } from './support/limits.js';

const t = useLimitedInstance('chatquota', {
  ATTACHMENT_QUOTA_BYTES: '10000',
  RATE_MESSAGES_PER_MIN: '5',
  RATE_MESSAGE_BYTES_PER_MIN: '4096',
});

async function upload(token: string, conversationId: string, data: Buffer) {
  const res = await fetch(`${t.inst.url}/api/chat/attachments?conversationId=${conversationId}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(data),
  });
  return {
    status: res.status,
    body: (await res.json()) as { id?: string; error?: { code: string } },
  };
}

async function rowsOf(userId: string): Promise<number> {
  const [r] = (await t.inst.app.ds.query(
    `SELECT count(*)::int AS n FROM chat.attachments WHERE owner_user = $1`,
    [userId],
  )) as { n: number }[];
  return r?.n ?? 0;
}

describe('attachment storage quota', () => {
  it('when an upload would take my live attachments over the quota, then 413 quota_exceeded and nothing is stored; at the quota it is accepted', async () => {
    const a = await createUser(t.inst, t.env.mint);
    const b = await createUser(t.inst, t.env.mint);
    const conv = await api(t.inst.url, a.token, 'POST', '/conversations', {
      kind: 'direct',
      memberIds: [b.userId],
    });
    expect((await upload(a.token, conv.body.id, randomBytes(6000))).status).toBe(201);
    const files = (await readdir(t.env.attachmentsDir)).length;
    const over = await upload(a.token, conv.body.id, randomBytes(4001));
    expect(over.status).toBe(413);
    expect(over.body.error?.code).toBe('quota_exceeded');
    expect(await rowsOf(a.userId)).toBe(1);
    expect((await readdir(t.env.attachmentsDir)).length).toBe(files);
    expect((await upload(a.token, conv.body.id, randomBytes(4000))).status).toBe(201);
    // the quota is mine: Bob still has his own
    expect((await upload(b.token, conv.body.id, randomBytes(4000))).status).toBe(201);
    // expired attachments no longer count
    await t.inst.app.ds.query(
      `UPDATE chat.attachments SET expires_at = now() - interval '1 second' WHERE owner_user = $1`,
      [a.userId],
    );
    expect((await upload(a.token, conv.body.id, randomBytes(9000))).status).toBe(201);
  });

  it('when concurrent uploads together exceed the quota, then only those that fit are stored', async () => {
    const a = await createUser(t.inst, t.env.mint);
    const b = await createUser(t.inst, t.env.mint);
    const conv = await api(t.inst.url, a.token, 'POST', '/conversations', {
      kind: 'direct',
      memberIds: [b.userId],
    });
    expect(conv).toMatchObject({ status: 201 });
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => upload(a.token, conv.body.id, randomBytes(3000))),
    );
    expect(answers.filter((x) => x.status === 201)).toHaveLength(3);
    expect(answers.filter((x) => x.status === 413)).toHaveLength(2);
    expect(await rowsOf(a.userId)).toBe(3);
  });
});

describe('per-sender message rates', () => {
  it('when a user sends more messages a minute than allowed, across two sockets, then rate_limited and nothing of those is stored', async () => {
    const { alice, bob, conversationId } = await directPair(t, { aliceDevices: 2 });
    const s1 = await connect(t.inst.url, alice.token, alice.deviceIds[0] as number);
    const s2 = await connect(t.inst.url, alice.token, alice.deviceIds[1] as number);
    try {
      const send = (s: typeof s1, from: number, id: string) =>
        sendTo(
          s,
          conversationId,
          id,
          [bob, { userId: alice.userId, deviceId: alice.deviceIds[from === 0 ? 1 : 0] as number }],
          fakeBody(),
        );
      const acks = [];
      for (let i = 0; i < 7; i++) acks.push(await send(i % 2 ? s2 : s1, i % 2, `r${i}`));
      expect(acks.map((x) => x.ok)).toEqual([true, true, true, true, true, false, false]);
      for (const x of acks.slice(5))
        expect(x).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
      expect(await storedBy(t, alice.userId)).toBe(5);
    } finally {
      s1.close();
      s2.close();
    }
  });

  it('when a user sends more bytes a minute than allowed, then rate_limited', async () => {
    const { alice, bob, conversationId } = await directPair(t);
    const s = await connect(t.inst.url, alice.token, alice.deviceId);
    try {
      const body = Buffer.alloc(3000, 1).toString('base64');
      expect(await sendTo(s, conversationId, 'b1', [bob], body)).toMatchObject({ ok: true });
      expect(await sendTo(s, conversationId, 'b2', [bob], body)).toMatchObject({
        ok: false,
        error: { code: 'rate_limited' },
      });
      expect(await storedBy(t, alice.userId)).toBe(1);
    } finally {
      s.close();
    }
  });
});
