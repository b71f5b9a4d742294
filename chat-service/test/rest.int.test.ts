import { randomBytes, randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, connect, createTestEnv, createUser, request, type Instance, type TestEnv } from './support/harness.js';

let env: TestEnv;
let inst: Instance;

beforeAll(async () => {
  env = await createTestEnv('chatrest');
  inst = await env.start({ BACKUP_MAX_BYTES: '4096', ATTACHMENT_MAX_BYTES: '65536' });
});
afterAll(async () => {
  await env?.close();
});

const b64 = (n: number) => randomBytes(n).toString('base64');

describe('key backup', () => {
  it('when versions are written in order, then each must be current + 1 and a stale one gets 409 version_conflict', async () => {
    const u = await createUser(inst, env.mint);
    expect((await api(inst.url, u.token, 'GET', '/backup')).status).toBe(404);
    expect((await api(inst.url, u.token, 'PUT', '/backup', { version: 2, blob: b64(32) })).body.error).toMatchObject({
      code: 'version_conflict',
      details: { currentVersion: 0 },
    });
    const blob1 = b64(64);
    expect(await api(inst.url, u.token, 'PUT', '/backup', { version: 1, blob: blob1 })).toEqual({ status: 200, body: { version: 1 } });
    const again = await api(inst.url, u.token, 'PUT', '/backup', { version: 1, blob: b64(64) });
    expect(again.status).toBe(409);
    expect(again.body.error.details).toEqual({ currentVersion: 1 });
    expect((await api(inst.url, u.token, 'GET', '/backup')).body).toEqual({ version: 1, blob: blob1 });
    const blob2 = b64(100);
    expect((await api(inst.url, u.token, 'PUT', '/backup', { version: 2, blob: blob2 })).status).toBe(200);
    expect((await api(inst.url, u.token, 'GET', '/backup')).body).toEqual({ version: 2, blob: blob2 });
  });

  it('when two writers race for the same version, then exactly one wins', async () => {
    const u = await createUser(inst, env.mint);
    const results = await Promise.all(Array.from({ length: 8 }, () => api(inst.url, u.token, 'PUT', '/backup', { version: 1, blob: b64(16) })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(7);
  });

  it('when the blob is larger than BACKUP_MAX_BYTES, then 413 payload_too_large', async () => {
    const u = await createUser(inst, env.mint);
    const r = await api(inst.url, u.token, 'PUT', '/backup', { version: 1, blob: b64(5000) });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('payload_too_large');
  });

  it("when another user asks for a backup, then they only ever get their own (there is no way to name someone else's)", async () => {
    const owner = await createUser(inst, env.mint);
    const other = await createUser(inst, env.mint);
    await api(inst.url, owner.token, 'PUT', '/backup', { version: 1, blob: b64(40) });
    expect((await api(inst.url, other.token, 'GET', '/backup')).status).toBe(404);
    expect((await api(inst.url, other.token, 'GET', `/backup?userId=${owner.userId}`)).status).toBe(404);
    expect((await api(inst.url, other.token, 'GET', `/users/${owner.userId}/backup`)).status).toBe(404);
  });
});

describe('conversations', () => {
  it('when a direct conversation is created twice, from either side and concurrently, then there is exactly one', async () => {
    const a = await createUser(inst, env.mint);
    const b = await createUser(inst, env.mint);
    const results = await Promise.all([
      api(inst.url, a.token, 'POST', '/conversations', { kind: 'direct', memberIds: [b.userId] }),
      api(inst.url, b.token, 'POST', '/conversations', { kind: 'direct', memberIds: [a.userId] }),
      api(inst.url, a.token, 'POST', '/conversations', { kind: 'direct', memberIds: [b.userId, a.userId] }),
    ]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 201]);
    expect(results[0]!.body.members.map((m: { userId: string }) => m.userId).sort()).toEqual([a.userId, b.userId].sort());
    expect((await api(inst.url, a.token, 'POST', '/conversations', { kind: 'direct', memberIds: [b.userId, randomUUID()] })).status).toBe(400);
    expect((await api(inst.url, a.token, 'POST', '/conversations', { kind: 'direct', memberIds: [a.userId] })).status).toBe(400);
  });

  it('when a non-member reads, lists, manages or sends to a conversation, then it looks exactly like a missing one', async () => {
    const owner = await createUser(inst, env.mint);
    const member = await createUser(inst, env.mint);
    const outsider = await createUser(inst, env.mint);
    const g = await api(inst.url, owner.token, 'POST', '/conversations', { kind: 'group', memberIds: [member.userId] });
    expect(g.status).toBe(201);
    const id = g.body.id as string;
    // a legacy title from before titles travelled end to end
    await inst.app.ds.query(`UPDATE chat.conversations SET title = 'secret plans' WHERE id = $1`, [id]);
    const missing = randomUUID();
    for (const target of [id, missing]) {
      const read = await api(inst.url, outsider.token, 'GET', `/conversations/${target}`);
      expect(read.status).toBe(404);
      expect(read.body.error).toEqual({ code: 'not_found', message: 'conversation not found' });
      expect((await api(inst.url, outsider.token, 'PATCH', `/conversations/${target}`, { title: null })).status).toBe(404);
      expect((await api(inst.url, outsider.token, 'POST', `/conversations/${target}/members`, { userIds: [outsider.userId] })).status).toBe(404);
      expect((await api(inst.url, outsider.token, 'DELETE', `/conversations/${target}/members/${member.userId}`)).status).toBe(404);
    }
    expect((await api(inst.url, outsider.token, 'GET', '/conversations')).body).toEqual({ conversations: [], nextCursor: null });
    const s = await connect(inst.url, outsider.token, outsider.deviceId);
    const sendTo = (conversationId: string) =>
      request(s, 'message:send', {
        conversationId,
        clientMessageId: randomUUID(),
        envelopes: [{ userId: owner.userId, deviceId: owner.deviceId, type: 1, body: b64(20) }],
      });
    const r1 = await sendTo(id);
    const r2 = await sendTo(missing);
    expect(r1).toEqual(r2);
    expect(r1).toMatchObject({ ok: false, error: { code: 'not_member' } });
    const title = await inst.app.ds.query(`SELECT title FROM chat.conversations WHERE id = $1`, [id]);
    expect(title).toEqual([{ title: 'secret plans' }]);
    s.close();
  });

  it('when a group is managed, then owners and admins add and remove, members may only leave, and the owner role passes on', async () => {
    const owner = await createUser(inst, env.mint);
    const admin = await createUser(inst, env.mint);
    const m1 = await createUser(inst, env.mint);
    const m2 = await createUser(inst, env.mint);
    const g = await api(inst.url, owner.token, 'POST', '/conversations', { kind: 'group', memberIds: [admin.userId, m1.userId] });
    const id = g.body.id as string;
    expect((await api(inst.url, m1.token, 'POST', `/conversations/${id}/members`, { userIds: [m2.userId] })).status).toBe(403);
    expect((await api(inst.url, owner.token, 'PATCH', `/conversations/${id}/members/${admin.userId}`, { role: 'admin' })).status).toBe(200);
    expect((await api(inst.url, admin.token, 'PATCH', `/conversations/${id}/members/${m1.userId}`, { role: 'admin' })).status).toBe(403);
    const added = await api(inst.url, admin.token, 'POST', `/conversations/${id}/members`, { userIds: [m2.userId] });
    expect(added.status).toBe(200);
    expect(added.body.members).toHaveLength(4);
    expect((await api(inst.url, m1.token, 'DELETE', `/conversations/${id}/members/${m2.userId}`)).status).toBe(403);
    expect((await api(inst.url, admin.token, 'DELETE', `/conversations/${id}/members/${owner.userId}`)).status).toBe(403);
    expect((await api(inst.url, admin.token, 'DELETE', `/conversations/${id}/members/${m2.userId}`)).status).toBe(204);
    expect((await api(inst.url, m1.token, 'DELETE', `/conversations/${id}/members/${m1.userId}`)).status).toBe(204); // leave
    expect((await api(inst.url, m1.token, 'GET', `/conversations/${id}`)).status).toBe(404);
    expect((await api(inst.url, owner.token, 'DELETE', `/conversations/${id}/members/${owner.userId}`)).status).toBe(204);
    const after = await api(inst.url, admin.token, 'GET', `/conversations/${id}`);
    expect(after.body.members).toEqual([expect.objectContaining({ userId: admin.userId, role: 'owner' })]);
  });
});

describe('conversation list', () => {
  it('when a user has more conversations than one page, then pages follow the cursor without gaps or repeats', async () => {
    const u = await createUser(inst, env.mint);
    const created = new Set<string>();
    for (let i = 0; i < 7; i++) created.add((await api(inst.url, u.token, 'POST', '/conversations', { kind: 'group', memberIds: [randomUUID()] })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { conversations: { id: string }[]; nextCursor: string | null } } = await api(
        inst.url,
        u.token,
        'GET',
        `/conversations?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      seen.push(...page.body.conversations.map((c) => c.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(7);
    expect(new Set(seen)).toEqual(created);
    expect((await api(inst.url, u.token, 'GET', '/conversations?cursor=garbage')).status).toBe(400);
    expect((await api(inst.url, u.token, 'GET', '/conversations?limit=0')).status).toBe(400);
  });
});

describe('attachments', () => {
  async function upload(token: string, conversationId: string, data: Buffer) {
    const res = await fetch(`${inst.url}/api/chat/attachments?conversationId=${conversationId}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: new Uint8Array(data),
    });
    return { status: res.status, body: await res.json() };
  }
  async function download(token: string, id: string) {
    const res = await fetch(`${inst.url}/api/chat/attachments/${id}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
  }

  it('when a member uploads ciphertext, then members and the uploader can fetch it and nobody else can', async () => {
    const a = await createUser(inst, env.mint);
    const b = await createUser(inst, env.mint);
    const outsider = await createUser(inst, env.mint);
    const conv = await api(inst.url, a.token, 'POST', '/conversations', { kind: 'direct', memberIds: [b.userId] });
    const data = randomBytes(3000);
    const up = await upload(a.token, conv.body.id, data);
    expect(up.status).toBe(201);
    expect(up.body.size).toBe(3000);
    expect((await download(a.token, up.body.id)).bytes.equals(data)).toBe(true);
    expect((await download(b.token, up.body.id)).bytes.equals(data)).toBe(true);
    expect((await download(outsider.token, up.body.id)).status).toBe(404);
    expect((await download(outsider.token, randomUUID())).status).toBe(404);
    expect((await download(outsider.token, '..%2F..%2Fetc%2Fpasswd')).status).toBe(400);
    // files on disk are named by server-generated ids only
    expect(await readdir(env.attachmentsDir)).toContain(up.body.id);
    // an outsider cannot upload into a conversation they are not in
    expect((await upload(outsider.token, conv.body.id, data)).status).toBe(404);
  });

  it('when its uploader deletes an attachment, then nobody can fetch it and its file is gone; a member or an outsider cannot delete it', async () => {
    const a = await createUser(inst, env.mint);
    const b = await createUser(inst, env.mint);
    const outsider = await createUser(inst, env.mint);
    const conv = await api(inst.url, a.token, 'POST', '/conversations', { kind: 'direct', memberIds: [b.userId] });
    const up = await upload(a.token, conv.body.id, randomBytes(500));
    const del = (token: string, id: string) => api(inst.url, token, 'DELETE', `/attachments/${id}`);
    // the other member and an outsider get 404 and the attachment stays
    expect((await del(b.token, up.body.id)).status).toBe(404);
    expect((await del(outsider.token, up.body.id)).status).toBe(404);
    expect((await del(a.token, 'not-a-uuid')).body.error.code).toBe('validation_error');
    expect((await download(b.token, up.body.id)).status).toBe(200);
    expect((await del(a.token, up.body.id)).status).toBe(204);
    expect((await download(a.token, up.body.id)).status).toBe(404);
    expect((await download(b.token, up.body.id)).status).toBe(404);
    expect(await readdir(env.attachmentsDir)).not.toContain(up.body.id);
    // a second delete (another of the uploader's devices) finds nothing
    expect((await del(a.token, up.body.id)).status).toBe(404);
  });

  it('when a non-member starts an upload, then 404 comes before the body is read', async () => {
    const a = await createUser(inst, env.mint);
    const b = await createUser(inst, env.mint);
    const outsider = await createUser(inst, env.mint);
    const conv = await api(inst.url, a.token, 'POST', '/conversations', { kind: 'direct', memberIds: [b.userId] });
    // announce 60,000 bytes, send 1,000 and stall: only a check before the body can answer now
    const { port } = new URL(inst.url);
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: `/api/chat/attachments?conversationId=${conv.body.id}`,
      headers: { authorization: `Bearer ${outsider.token}`, 'content-type': 'application/octet-stream', 'content-length': '60000' },
    });
    const answered = new Promise<http.IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    req.write(randomBytes(1000));
    const res = await answered;
    expect(res.statusCode).toBe(404);
    res.resume();
    req.destroy();
    const rows = await inst.app.ds.query(`SELECT count(*)::int AS n FROM chat.attachments WHERE owner_user = $1`, [outsider.userId]);
    expect(rows[0].n).toBe(0);
  });

  it('when an attachment is larger than ATTACHMENT_MAX_BYTES or not octet-stream, then 413 / 415', async () => {
    const a = await createUser(inst, env.mint);
    const b = await createUser(inst, env.mint);
    const conv = await api(inst.url, a.token, 'POST', '/conversations', { kind: 'direct', memberIds: [b.userId] });
    const big = await upload(a.token, conv.body.id, randomBytes(70_000));
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
    const res = await fetch(`${inst.url}/api/chat/attachments?conversationId=${conv.body.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.token}`, 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(res.status).toBe(415);
  });

  it('when an attachment expired, then the retention job removes it and it is no longer served', async () => {
    const a = await createUser(inst, env.mint);
    const b = await createUser(inst, env.mint);
    const conv = await api(inst.url, a.token, 'POST', '/conversations', { kind: 'direct', memberIds: [b.userId] });
    const up = await upload(a.token, conv.body.id, randomBytes(100));
    await inst.app.ds.query(`UPDATE chat.attachments SET expires_at = now() - interval '1 minute' WHERE id = $1`, [up.body.id]);
    expect((await download(a.token, up.body.id)).status).toBe(404);
    const out = await inst.app.retention.runOnce();
    expect(out.attachments).toBeGreaterThanOrEqual(1);
    expect(await readdir(env.attachmentsDir)).not.toContain(up.body.id);
  });
});

describe('retention', () => {
  it('when envelopes are older than MESSAGE_RETENTION_DAYS, then the job deletes them and keeps newer ones', async () => {
    const a = await createUser(inst, env.mint);
    const b = await createUser(inst, env.mint);
    const conv = await api(inst.url, a.token, 'POST', '/conversations', { kind: 'direct', memberIds: [b.userId] });
    const s = await connect(inst.url, a.token, a.deviceId);
    const ids = [];
    for (const n of [1, 2]) {
      const r = await request(s, 'message:send', {
        conversationId: conv.body.id,
        clientMessageId: `r${n}`,
        envelopes: [{ userId: b.userId, deviceId: b.deviceId, type: 1, body: b64(10) }],
      });
      if (!r.ok) throw new Error('send failed');
      ids.push(r.data.messageId);
    }
    await inst.app.ds.query(`UPDATE chat.mailbox SET server_ts = now() - interval '31 days' WHERE message_id = $1`, [ids[0]]);
    await inst.app.retention.runOnce();
    const left = await inst.app.ds.query(`SELECT message_id FROM chat.mailbox WHERE recipient_user = $1`, [b.userId]);
    expect(left).toEqual([{ message_id: ids[1] }]);
    s.close();
  });

  it('when expired envelopes span several batches, then each batch commits on its own', async () => {
    const recipient = randomUUID();
    // 5,001 expired envelopes: one full batch (5,000) and one more
    await inst.app.ds.query(
      `INSERT INTO chat.mailbox (message_id, recipient_user, recipient_device, conversation_id, sender_user, sender_device, type, body, server_ts)
       SELECT gen_random_uuid(), $1, 1, gen_random_uuid(), gen_random_uuid(), 1, 1, '\\x00', now() - interval '40 days' FROM generate_series(1, 5001)`,
      [recipient],
    );
    const count = async () => (await inst.app.ds.query(`SELECT count(*)::int AS n FROM chat.mailbox WHERE recipient_user = $1`, [recipient]))[0].n;
    // Another transaction holds the newest of them: the second batch (oldest first) waits for it.
    const pool = (inst.app.ds.driver as unknown as { master: import('pg').Pool }).master;
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM chat.mailbox WHERE seq = (SELECT max(seq) FROM chat.mailbox WHERE recipient_user = $1) FOR UPDATE`, [recipient]);
      const [{ pid }] = (await holder.query(`SELECT pg_backend_pid() AS pid`)).rows;
      const run = inst.app.retention.runOnce();
      for (let i = 0; ; i++) {
        const [blocked] = await inst.app.ds.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [pid]);
        if (blocked.n > 0) break;
        if (i > 500) throw new Error('the retention job never reached the locked row');
        await new Promise((r) => setTimeout(r, 20));
      }
      // the first batch is committed and visible while the second one waits
      expect(await count()).toBe(1);
      await holder.query('ROLLBACK');
      expect((await run).envelopes).toBeGreaterThanOrEqual(5001);
    } finally {
      holder.release();
    }
    expect(await count()).toBe(0);
  });
});
