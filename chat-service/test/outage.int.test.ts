import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '@cipherchat/service-kit/testing';
import { api, connect, createTestEnv, createUser, fakeBody, inbox, request, type Instance, type TestEnv } from './support/harness.js';

let env: TestEnv;
let inst: Instance;
let proxy: TcpProxy;
let pgProxy: TcpProxy;
let viaPgProxy: Instance;

beforeAll(async () => {
  proxy = new TcpProxy(6379);
  const port = await proxy.start();
  pgProxy = new TcpProxy(5432);
  const pgPort = await pgProxy.start();
  env = await createTestEnv('chatoutage');
  inst = await env.start({ REDIS_URL: `redis://127.0.0.1:${port}` });
  const dbUrl = new URL(env.db.url);
  dbUrl.port = String(pgPort);
  viaPgProxy = await env.start({ DATABASE_URL: dbUrl.toString() });
});
afterAll(async () => {
  await proxy?.restore().catch(() => undefined);
  await pgProxy?.restore().catch(() => undefined);
  await env?.close();
  await proxy?.stop();
  await pgProxy?.stop();
});

describe('Redis outage', () => {
  it('when Redis vanishes, then messages are still stored and delivered locally, limits fail closed with 503, and all recovers after', async () => {
    const alice = await createUser(inst, env.mint);
    const bob = await createUser(inst, env.mint);
    const conv = await api(inst.url, alice.token, 'POST', '/conversations', { kind: 'direct', memberIds: [bob.userId] });
    const sa = await connect(inst.url, alice.token, alice.deviceId);
    const sb = await connect(inst.url, bob.token, bob.deviceId);
    const box = inbox(sb);

    await proxy.cut();
    const ack = await request(sa, 'message:send', {
      conversationId: conv.body.id,
      clientMessageId: 'during-outage',
      envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 1, body: fakeBody() }],
    });
    expect(ack.ok).toBe(true);
    await box.waitFor(1);
    const bundle = await api(inst.url, alice.token, 'GET', `/users/${bob.userId}/keys`);
    expect(bundle.status).toBe(503);
    expect(bundle.body.error.code).toBe('unavailable');
    const ready = await fetch(`${inst.url}/ready`);
    expect(ready.status).toBe(503);

    await proxy.restore();
    // ioredis reconnects by itself: await its ready event, then the limits work again
    const redis = inst.app.ctx.redis;
    if (redis.status !== 'ready') await once(redis, 'ready', { signal: AbortSignal.timeout(20_000) });
    expect((await api(inst.url, alice.token, 'GET', `/users/${bob.userId}/keys`)).status).toBe(200);
    const again = await request(sa, 'message:send', {
      conversationId: conv.body.id,
      clientMessageId: 'after-outage',
      envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 1, body: fakeBody() }],
    });
    expect(again.ok).toBe(true);
    await box.waitFor(2);
    sa.close();
    sb.close();
  });
});

describe('PostgreSQL outage', () => {
  it('when the database vanishes, then sends answer unavailable (never a false ack), the process stays up, and sends work again after', async () => {
    const alice = await createUser(viaPgProxy, env.mint);
    const bob = await createUser(viaPgProxy, env.mint);
    const conv = await api(viaPgProxy.url, alice.token, 'POST', '/conversations', { kind: 'direct', memberIds: [bob.userId] });
    const sa = await connect(viaPgProxy.url, alice.token, alice.deviceId);
    const payload = (id: string) => ({
      conversationId: conv.body.id,
      clientMessageId: id,
      envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 1, body: fakeBody() }],
    });
    await pgProxy.cut();
    const during = await request(sa, 'message:send', payload('pg-down'), 20_000);
    expect(during).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect((await fetch(`${viaPgProxy.url}/health`)).status).toBe(200);
    await pgProxy.restore();
    const after = await request(sa, 'message:send', payload('pg-down'), 20_000);
    expect(after.ok).toBe(true);
    const rows = await inst.app.ds.query(`SELECT count(*)::int AS n FROM chat.mailbox WHERE recipient_user = $1`, [bob.userId]);
    expect(rows[0].n).toBe(1);
    sa.close();
  });
});
