import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, connect, connectDrained, createTestEnv, createUser, fakeBody, request, type Instance, type TestEnv } from './support/harness.js';

// Issue 14: self conversations, direct = exactly two members and self = one (held by the
// database itself), and no group titles on the server.

let env: TestEnv;
let inst: Instance;

beforeAll(async () => {
  env = await createTestEnv('chatshapes');
  inst = await env.start();
});
afterAll(async () => {
  await env?.close();
});

const memberRows = async (conversationId: string) =>
  ((await inst.app.ds.query(`SELECT user_id FROM chat.conversation_members WHERE conversation_id = $1 ORDER BY user_id`, [conversationId])) as {
    user_id: string;
  }[]).map((r) => r.user_id);
const mailboxRows = async (conversationId: string) =>
  ((await inst.app.ds.query(`SELECT count(*)::int AS n FROM chat.mailbox WHERE conversation_id = $1`, [conversationId])) as { n: number }[])[0]?.n;

describe('self conversations', () => {
  it('when a user creates their self conversation twice, concurrently, then there is one, with the user as its only member and no title', async () => {
    const me = await createUser(inst, env.mint);
    const body = { kind: 'self', memberIds: [me.userId] };
    const results = await Promise.all([0, 1, 2].map(() => api(inst.url, me.token, 'POST', '/conversations', body)));
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 201]);
    expect(results[0]?.body).toMatchObject({ kind: 'self', title: null, members: [{ userId: me.userId, role: 'owner' }] });
    expect((await api(inst.url, me.token, 'GET', '/conversations')).body.conversations.map((c: { id: string }) => c.id)).toEqual([results[0]?.body.id]);
  });

  it('when a self conversation names anyone but the caller, or a title, then 400 and nothing is created', async () => {
    const me = await createUser(inst, env.mint);
    const other = await createUser(inst, env.mint);
    for (const body of [
      { kind: 'self', memberIds: [other.userId] },
      { kind: 'self', memberIds: [me.userId, other.userId] },
      { kind: 'self', memberIds: [] },
      { kind: 'self', memberIds: [me.userId], title: 'notes' },
    ]) {
      const r = await api(inst.url, me.token, 'POST', '/conversations', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('validation_error');
    }
    expect((await api(inst.url, me.token, 'GET', '/conversations')).body.conversations).toEqual([]);
    expect((await api(inst.url, other.token, 'GET', '/conversations')).body.conversations).toEqual([]);
  });

  it('when anyone tries to add a member, change a role, read or send into a self conversation, then it is refused and it keeps its one member', async () => {
    const me = await createUser(inst, env.mint);
    const intruder = await createUser(inst, env.mint);
    const id = (await api(inst.url, me.token, 'POST', '/conversations', { kind: 'self', memberIds: [me.userId] })).body.id as string;
    expect((await api(inst.url, me.token, 'POST', `/conversations/${id}/members`, { userIds: [intruder.userId] })).status).toBe(400);
    expect((await api(inst.url, me.token, 'PATCH', `/conversations/${id}/members/${me.userId}`, { role: 'admin' })).status).toBe(400);
    expect((await api(inst.url, me.token, 'PATCH', `/conversations/${id}`, { title: null })).status).toBe(400);
    expect((await api(inst.url, intruder.token, 'GET', `/conversations/${id}`)).status).toBe(404);
    expect((await api(inst.url, intruder.token, 'POST', `/conversations/${id}/members`, { userIds: [intruder.userId] })).status).toBe(404);
    const s = await connect(inst.url, intruder.token, intruder.deviceId);
    const sent = await request(s, 'message:send', {
      conversationId: id,
      clientMessageId: randomUUID(),
      envelopes: [{ userId: me.userId, deviceId: me.deviceId, type: 1, body: fakeBody() }],
    });
    s.close();
    expect(sent).toMatchObject({ ok: false, error: { code: 'not_member' } });
    expect(await memberRows(id)).toEqual([me.userId]);
    expect(await mailboxRows(id)).toBe(0);
  });

  it("when a device sends in the self conversation to the account's other devices, then it is stored through the writer and arrives", async () => {
    const me = await createUser(inst, env.mint, 3);
    const [d1, d2, d3] = me.deviceIds as [number, number, number];
    const id = (await api(inst.url, me.token, 'POST', '/conversations', { kind: 'self', memberIds: [me.userId] })).body.id as string;
    const sender = await connect(inst.url, me.token, d1);
    const other = await connectDrained(inst.url, me.token, d2);
    // the device set is the sender's other keyed devices: leaving one out is stale
    const stale = await request(sender, 'message:send', {
      conversationId: id,
      clientMessageId: randomUUID(),
      envelopes: [{ userId: me.userId, deviceId: d2, type: 1, body: fakeBody() }],
    });
    expect(stale).toMatchObject({ ok: false, error: { code: 'stale_devices', details: { missing: [{ userId: me.userId, deviceId: d3 }], extra: [] } } });
    const sent = await request<{ messageId: string }>(sender, 'message:send', {
      conversationId: id,
      clientMessageId: randomUUID(),
      envelopes: [d2, d3].map((deviceId) => ({ userId: me.userId, deviceId, type: 1, body: fakeBody('to myself') })),
    });
    expect(sent.ok).toBe(true);
    const [got] = await other.box.waitFor(1);
    expect(got).toMatchObject({ conversationId: id, senderUserId: me.userId, senderDeviceId: d1 });
    expect(got?.messageId).toBe(sent.ok ? sent.data.messageId : undefined);
    expect(await mailboxRows(id)).toBe(2);
    sender.close();
    other.socket.close();
  });
});

describe('direct = exactly two members, self = one, held by the database', () => {
  it('when a third member row is written into a direct conversation (or a second into a self one), then the database refuses it', async () => {
    const a = await createUser(inst, env.mint);
    const b = await createUser(inst, env.mint);
    const direct = (await api(inst.url, a.token, 'POST', '/conversations', { kind: 'direct', memberIds: [b.userId] })).body.id as string;
    const self = (await api(inst.url, a.token, 'POST', '/conversations', { kind: 'self', memberIds: [a.userId] })).body.id as string;
    const insert = (conversationId: string, userIds: string[]) =>
      inst.app.ds.query(`INSERT INTO chat.conversation_members (conversation_id, user_id, role) SELECT $1, u, 'member' FROM unnest($2::uuid[]) u`, [
        conversationId,
        userIds,
      ]);
    await expect(insert(direct, [randomUUID()])).rejects.toThrow(/direct conversation cannot have 3 members/);
    await expect(insert(self, [b.userId])).rejects.toThrow(/self conversation cannot have 2 members/);
    // moving a member row from a group into the direct conversation is refused the same way
    const g = (await api(inst.url, a.token, 'POST', '/conversations', { kind: 'group', memberIds: [randomUUID()] })).body.id as string;
    await expect(inst.app.ds.query(`UPDATE chat.conversation_members SET conversation_id = $1 WHERE conversation_id = $2 AND user_id <> $3`, [direct, g, a.userId])).rejects.toThrow(
      /cannot have/,
    );
    // two transactions cannot both slip in under the limit: the first one's insert is not
    // committed yet when the second one counts, so the trigger makes the second wait for it
    await inst.app.ds.query(`DELETE FROM chat.conversation_members WHERE conversation_id = $1 AND user_id = $2`, [direct, b.userId]);
    const first = inst.app.ds.createQueryRunner();
    await first.startTransaction();
    await first.query(`INSERT INTO chat.conversation_members (conversation_id, user_id, role) VALUES ($1, $2, 'member')`, [direct, randomUUID()]);
    const second = insert(direct, [randomUUID()]);
    const secondOutcome = second.then(
      () => 'inserted',
      (e: Error) => e.message,
    );
    await new Promise((r) => setTimeout(r, 200));
    await first.commitTransaction();
    await first.release();
    expect(await secondOutcome).toMatch(/direct conversation cannot have 3 members/);
    expect(await memberRows(direct)).toHaveLength(2);
    expect(await memberRows(self)).toEqual([a.userId]);
    // groups are not limited by it
    await insert(g, [randomUUID(), randomUUID()]);
  });

  it("when a direct conversation has lost its peer, then a send into it is refused with 409 conflict, even one addressed to the sender's own devices", async () => {
    const a = await createUser(inst, env.mint, 2);
    const b = await createUser(inst, env.mint);
    const id = (await api(inst.url, a.token, 'POST', '/conversations', { kind: 'direct', memberIds: [b.userId] })).body.id as string;
    // what user.deleted.v1 leaves behind: the peer's membership is gone
    await inst.app.ds.query(`DELETE FROM chat.conversation_members WHERE conversation_id = $1 AND user_id = $2`, [id, b.userId]);
    const s = await connect(inst.url, a.token, a.deviceId);
    const sent = await request(s, 'message:send', {
      conversationId: id,
      clientMessageId: randomUUID(),
      envelopes: [{ userId: a.userId, deviceId: a.deviceIds[1], type: 1, body: fakeBody() }],
    });
    s.close();
    expect(sent).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(await mailboxRows(id)).toBe(0);
  });
});

describe('no group titles on the server', () => {
  it('when a group is created with a title, then 400 validation_error says titles travel end to end', async () => {
    const a = await createUser(inst, env.mint);
    const r = await api(inst.url, a.token, 'POST', '/conversations', { kind: 'group', memberIds: [randomUUID()], title: 'plans' });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('validation_error');
    expect(r.body.error.message).toMatch(/end to end/);
    expect((await api(inst.url, a.token, 'GET', '/conversations')).body.conversations).toEqual([]);
  });

  it('when any member clears a legacy title, then it is gone; a new title, a direct conversation or a non-member are refused', async () => {
    const owner = await createUser(inst, env.mint);
    const member = await createUser(inst, env.mint);
    const outsider = await createUser(inst, env.mint);
    const id = (await api(inst.url, owner.token, 'POST', '/conversations', { kind: 'group', memberIds: [member.userId] })).body.id as string;
    await inst.app.ds.query(`UPDATE chat.conversations SET title = 'legacy' WHERE id = $1`, [id]);
    expect((await api(inst.url, member.token, 'PATCH', `/conversations/${id}`, { title: 'mine' })).status).toBe(400);
    expect((await api(inst.url, outsider.token, 'PATCH', `/conversations/${id}`, { title: null })).status).toBe(404);
    expect((await api(inst.url, owner.token, 'GET', `/conversations/${id}`)).body.title).toBe('legacy');
    const cleared = await api(inst.url, member.token, 'PATCH', `/conversations/${id}`, { title: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body.title).toBeNull();
    expect((await api(inst.url, owner.token, 'GET', `/conversations/${id}`)).body.title).toBeNull();
    const direct = (await api(inst.url, owner.token, 'POST', '/conversations', { kind: 'direct', memberIds: [member.userId] })).body.id as string;
    expect((await api(inst.url, owner.token, 'PATCH', `/conversations/${direct}`, { title: null })).status).toBe(400);
    // and the database itself keeps titles off direct conversations
    await expect(inst.app.ds.query(`UPDATE chat.conversations SET title = 'x' WHERE id = $1`, [direct])).rejects.toThrow(/conversations_title_groups_only/);
  });
});
