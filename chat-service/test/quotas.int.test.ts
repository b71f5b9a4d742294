import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  connect,
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
  env = await createTestEnv('chatquota');
  inst = await env.start({
    ATTACHMENT_QUOTA_BYTES: '10000',
    RATE_MESSAGES_PER_MIN: '5',
    RATE_MESSAGE_BYTES_PER_MIN: '4096',
  });
});
afterAll(async () => {
  await env?.close();
});

async function upload(token: string, conversationId: string, data: Buffer) {
  const res = await fetch(`${inst.url}/api/chat/attachments?conversationId=${conversationId}`, {
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
  const [r] = (await inst.app.ds.query(
    `SELECT count(*)::int AS n FROM chat.attachments WHERE owner_user = $1`,
    [userId],
  )) as { n: number }[];
  return r?.n ?? 0;
}

describe('attachment storage quota', () => {
  it('when an upload would take my live attachments over the quota, then 413 quota_exceeded and nothing is stored; at the quota it is accepted', async () => {
    const a = await createUser(inst, env.mint);
    const b = await createUser(inst, env.mint);
    const conv = await api(inst.url, a.token, 'POST', '/conversations', {
      kind: 'direct',
      memberIds: [b.userId],
    });
    expect((await upload(a.token, conv.body.id, randomBytes(6000))).status).toBe(201);
    const files = (await readdir(env.attachmentsDir)).length;
    const over = await upload(a.token, conv.body.id, randomBytes(4001));
    expect(over.status).toBe(413);
    expect(over.body.error?.code).toBe('quota_exceeded');
    expect(await rowsOf(a.userId)).toBe(1);
    expect((await readdir(env.attachmentsDir)).length).toBe(files);
    expect((await upload(a.token, conv.body.id, randomBytes(4000))).status).toBe(201);
    // the quota is mine: Bob still has his own
    expect((await upload(b.token, conv.body.id, randomBytes(4000))).status).toBe(201);
    // expired attachments no longer count
    await inst.app.ds.query(
      `UPDATE chat.attachments SET expires_at = now() - interval '1 second' WHERE owner_user = $1`,
      [a.userId],
    );
    expect((await upload(a.token, conv.body.id, randomBytes(9000))).status).toBe(201);
  });

  it('when concurrent uploads together exceed the quota, then only those that fit are stored', async () => {
    const a = await createUser(inst, env.mint);
    const b = await createUser(inst, env.mint);
    const conv = await api(inst.url, a.token, 'POST', '/conversations', {
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
    const alice = await createUser(inst, env.mint, 2);
    const bob = await createUser(inst, env.mint);
    const conv = await api(inst.url, alice.token, 'POST', '/conversations', {
      kind: 'direct',
      memberIds: [bob.userId],
    });
    const s1 = await connect(inst.url, alice.token, alice.deviceIds[0] as number);
    const s2 = await connect(inst.url, alice.token, alice.deviceIds[1] as number);
    try {
      const send = (s: typeof s1, from: number, id: string) =>
        request(s, 'message:send', {
          conversationId: conv.body.id,
          clientMessageId: id,
          envelopes: [
            { userId: bob.userId, deviceId: bob.deviceId, type: 3, body: fakeBody() },
            {
              userId: alice.userId,
              deviceId: alice.deviceIds[from === 0 ? 1 : 0] as number,
              type: 3,
              body: fakeBody(),
            },
          ],
        });
      const acks = [];
      for (let i = 0; i < 7; i++) acks.push(await send(i % 2 ? s2 : s1, i % 2, `r${i}`));
      expect(acks.map((x) => x.ok)).toEqual([true, true, true, true, true, false, false]);
      for (const x of acks.slice(5))
        expect(x).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
      const [r] = (await inst.app.ds.query(
        `SELECT count(*)::int AS n FROM chat.messages WHERE sender_user = $1`,
        [alice.userId],
      )) as { n: number }[];
      expect(r?.n).toBe(5);
    } finally {
      s1.close();
      s2.close();
    }
  });

  it('when a user sends more bytes a minute than allowed, then rate_limited', async () => {
    const alice = await createUser(inst, env.mint);
    const bob = await createUser(inst, env.mint);
    const conv = await api(inst.url, alice.token, 'POST', '/conversations', {
      kind: 'direct',
      memberIds: [bob.userId],
    });
    const s = await connect(inst.url, alice.token, alice.deviceId);
    try {
      const body = Buffer.alloc(3000, 1).toString('base64');
      const env1 = {
        conversationId: conv.body.id,
        envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 3, body }],
      };
      expect(await request(s, 'message:send', { ...env1, clientMessageId: 'b1' })).toMatchObject({
        ok: true,
      });
      expect(await request(s, 'message:send', { ...env1, clientMessageId: 'b2' })).toMatchObject({
        ok: false,
        error: { code: 'rate_limited' },
      });
    } finally {
      s.close();
    }
  });
});
