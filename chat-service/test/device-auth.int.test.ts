import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, connect, createTestEnv, createUser, deviceSecretOf, fakeBody, nextEvent, request, type Instance, type TestEnv, connectDrained } from './support/harness.js';

let env: TestEnv;
let inst: Instance;

beforeAll(async () => {
  env = await createTestEnv('chatdevauth', { LOG_LEVEL: 'trace' });
  inst = await env.start();
});
afterAll(async () => {
  await env?.close();
});

/**
 * A user with two devices, plus a second session of that user (its own token) that knows
 * device 2's secret only: what a stolen session or a compromised other device has.
 */
async function userWithTwoDevices() {
  const user = await createUser(inst, env.mint, 2);
  const [victim, own] = user.deviceIds as [number, number];
  return {
    user,
    victim,
    victimSecret: deviceSecretOf(user.userId, victim) as string,
    own,
    ownSecret: deviceSecretOf(user.userId, own) as string,
    otherSession: await env.mint.mint(user.userId),
  };
}

const codeOf = (p: Promise<{ close(): void }>) =>
  p.then(
    (s) => (s.close(), 'connected'),
    (e: { data?: { code?: string } }) => e.data?.code,
  );

describe('device secrets', () => {
  it('when a device registers, then it gets a 32-byte base64url secret once, and the table keeps only its SHA-256', async () => {
    const token = await env.mint.mint(randomUUID());
    const r = await api(inst.url, token, 'POST', '/devices', { name: 'laptop' });
    expect(r.status).toBe(201);
    expect(Object.keys(r.body).sort()).toEqual(['deviceId', 'deviceSecret']);
    const secret = r.body.deviceSecret as string;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    // never handed out again
    const mine = await api(inst.url, token, 'GET', '/devices');
    expect(JSON.stringify(mine.body)).not.toContain(secret);

    const rows = (await inst.app.ds.query(`SELECT d::text AS row, secret_digest FROM chat.devices d WHERE device_id = $1 AND secret_digest IS NOT NULL`, [
      r.body.deviceId,
    ])) as { row: string; secret_digest: Buffer }[];
    const row = rows.find((x) => x.secret_digest.equals(createHash('sha256').update(secret).digest()));
    expect(row).toBeDefined();
    const spellings = [secret, Buffer.from(secret, 'base64url').toString('hex'), Buffer.from(secret, 'base64url').toString('base64')];
    const tables = (await inst.app.ds.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'chat' AND table_type = 'BASE TABLE'`)) as {
      table_name: string;
    }[];
    for (const { table_name } of tables) {
      const all = (await inst.app.ds.query(`SELECT t::text AS row FROM chat."${table_name}" t`)) as { row: string }[];
      expect(all.filter((x) => spellings.some((s) => x.row.includes(s))), table_name).toEqual([]);
    }
  });

  it("when another session of the same user connects as a device without its secret or with a wrong one, then connect_error says invalid_device_credentials", async () => {
    const { user, victim, victimSecret, ownSecret, otherSession } = await userWithTwoDevices();
    expect(await codeOf(connect(inst.url, otherSession, victim, { deviceSecret: null }))).toBe('invalid_device_credentials');
    expect(await codeOf(connect(inst.url, otherSession, victim, { deviceSecret: ownSecret }))).toBe('invalid_device_credentials');
    expect(await codeOf(connect(inst.url, otherSession, victim, { deviceSecret: randomBytes(32).toString('base64url') }))).toBe('invalid_device_credentials');
    const oneCharOff = `${victimSecret[0] === 'A' ? 'B' : 'A'}${victimSecret.slice(1)}`;
    expect(await codeOf(connect(inst.url, otherSession, victim, { deviceSecret: oneCharOff }))).toBe('invalid_device_credentials');
    // the token still has to be valid first, and the device id known
    expect(await codeOf(connect(inst.url, 'not.a.jwt', victim, { deviceSecret: victimSecret }))).toBe('unauthorized');
    expect(await codeOf(connect(inst.url, otherSession, 4242, { deviceSecret: victimSecret }))).toBe('unknown_device');
    // a secret of one user's device means nothing for another user's device with the same id
    const stranger = await createUser(inst, env.mint);
    expect(await codeOf(connect(inst.url, stranger.token, victim, { deviceSecret: victimSecret }))).not.toBe('connected');
    // the device itself, with any valid token of its user
    expect(await codeOf(connect(inst.url, otherSession, victim, { deviceSecret: victimSecret }))).toBe('connected');
    expect(await codeOf(connect(inst.url, user.token, victim))).toBe('connected');
  });

  it("when another session of the same user uploads or counts keys for a device without its secret, then 403 invalid_device_credentials and nothing changes", async () => {
    const { user, victim, victimSecret, ownSecret, otherSession } = await userWithTwoDevices();
    const count = async () => (await api(inst.url, user.token, 'GET', `/devices/${victim}/keys/count`, undefined, { deviceSecret: victimSecret })).body.count as number;
    const before = await count();
    const bundleBefore = await inst.app.ds.query(`SELECT signed_prekey FROM chat.devices WHERE user_id = $1 AND device_id = $2`, [user.userId, victim]);
    for (const deviceSecret of [null, ownSecret, randomBytes(32).toString('base64url'), '']) {
      const put = await api(inst.url, otherSession, 'PUT', `/devices/${victim}/keys`, user.signal.upload(3, 7), { deviceSecret });
      expect(put.status).toBe(403);
      expect(put.body.error.code).toBe('invalid_device_credentials');
      const get = await api(inst.url, otherSession, 'GET', `/devices/${victim}/keys/count`, undefined, { deviceSecret });
      expect(get.status).toBe(403);
      expect(get.body.error.code).toBe('invalid_device_credentials');
    }
    expect(await count()).toBe(before);
    expect(await inst.app.ds.query(`SELECT signed_prekey FROM chat.devices WHERE user_id = $1 AND device_id = $2`, [user.userId, victim])).toEqual(bundleBefore);
    // with its secret, any session of the user may act as the device (the client's token refreshes)
    const ok = await api(inst.url, otherSession, 'PUT', `/devices/${victim}/keys`, user.signal.upload(3, 7), { deviceSecret: victimSecret });
    expect(ok.status).toBe(200);
    expect(ok.body.count).toBe(before + 3);
  });

  it("when another session of the same user cannot connect as a device, then it cannot ack that device's envelopes away either", async () => {
    const { user, victim, own, otherSession } = await userWithTwoDevices();
    const sender = await createUser(inst, env.mint);
    const conv = await api(inst.url, sender.token, 'POST', '/conversations', { kind: 'direct', memberIds: [user.userId] });
    const ss = await connect(inst.url, sender.token, sender.deviceId);
    const sent = await request(ss, 'message:send', {
      conversationId: conv.body.id,
      clientMessageId: 'devauth-1',
      envelopes: [victim, own].map((deviceId) => ({ userId: user.userId, deviceId, type: 1, body: fakeBody() })),
    });
    if (!sent.ok) throw new Error(JSON.stringify(sent));
    // as the victim device without its secret: refused, so no drain and no ack
    await expect(connect(inst.url, otherSession, victim, { deviceSecret: null })).rejects.toMatchObject({ data: { code: 'invalid_device_credentials' } });
    // as its own device it may ack the id, which deletes only its own copy
    const so = await connect(inst.url, otherSession, own);
    expect(await request(so, 'message:ack', { messageIds: [sent.data.messageId] })).toEqual({ ok: true, data: { deleted: 1 } });
    expect(await inst.app.ds.query(`SELECT recipient_device FROM chat.mailbox WHERE message_id = $1`, [sent.data.messageId])).toEqual([{ recipient_device: victim }]);
    // the real device still gets it
    const { socket: sv, box } = await connectDrained(inst.url, user.token, victim);
    expect(box.messages.map((m) => m.messageId)).toEqual([sent.data.messageId]);
    ss.close();
    so.close();
    sv.close();
  });

  it('when another device removes a device ("log out other devices"), then its own proof is enough, and the removed secret stops working', async () => {
    const { user, victim, victimSecret, own, ownSecret, otherSession } = await userWithTwoDevices();
    const sv = await connect(inst.url, user.token, victim);
    const gone = nextEvent<string>(sv, 'disconnect');
    // the token alone is not (account-guard.int.test.ts plays that thief in full)
    expect((await api(inst.url, otherSession, 'DELETE', `/devices/${victim}`, undefined, { proof: null })).status).toBe(403);
    expect((await api(inst.url, otherSession, 'DELETE', `/devices/${victim}`, undefined, { proof: { deviceId: own, secret: ownSecret } })).status).toBe(204);
    expect(await gone).toBe('io server disconnect');
    expect(await codeOf(connect(inst.url, user.token, victim, { deviceSecret: victimSecret }))).toBe('unknown_device');
    expect((await api(inst.url, user.token, 'PUT', `/devices/${victim}/keys`, user.signal.upload(1), { deviceSecret: victimSecret })).status).toBe(403);
  });

  it('when devices register, connect and use their secrets, then no secret reaches the logs (trace level)', async () => {
    const { user, victim, victimSecret, own, ownSecret, otherSession } = await userWithTwoDevices();
    await codeOf(connect(inst.url, otherSession, victim, { deviceSecret: ownSecret }));
    await codeOf(connect(inst.url, user.token, own));
    await api(inst.url, user.token, 'GET', `/devices/${victim}/keys/count`, undefined, { deviceSecret: victimSecret });
    await api(inst.url, otherSession, 'PUT', `/devices/${victim}/keys`, user.signal.upload(1), { deviceSecret: ownSecret });
    const text = inst.logs.text();
    expect(text).toContain('device registered');
    expect(text).toContain('/keys');
    for (const secret of [victimSecret, ownSecret]) expect(text).not.toContain(secret);
  });
});
