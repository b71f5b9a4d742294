import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '@cipherchat/service-kit/testing';
import { LATE_PASS_MS } from '../src/domain/send-message.js';
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

// Two processes whose Socket.IO adapter shares one Redis through a proxy the test can cut.
let env: TestEnv;
let a: Instance;
let b: Instance;
let proxy: TcpProxy;

beforeAll(async () => {
  proxy = new TcpProxy(6379);
  const port = await proxy.start();
  env = await createTestEnv('chatredisback');
  a = await env.start({ REDIS_URL: `redis://127.0.0.1:${port}` });
  b = await env.start({ REDIS_URL: `redis://127.0.0.1:${port}` });
});
afterAll(async () => {
  await proxy?.restore().catch(() => undefined);
  await env?.close();
  await proxy?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Redis comes back', () => {
  it('when the adapter lost a cross-process emit during a Redis outage, then the recipient that stayed connected gets it once Redis is back, without reconnecting or asking', async () => {
    const alice = await createUser(a, env.mint);
    const bob = await createUser(b, env.mint);
    const conv = await api<{ id: string }>(a.url, alice.token, 'POST', '/conversations', {
      kind: 'direct',
      memberIds: [bob.userId],
    });
    const sa = await connect(a.url, alice.token, alice.deviceId);
    // bob on the other process, in his device room (first drain done)
    const { socket: sb, box } = await connectDrained(b.url, bob.token, bob.deviceId);
    let bobDisconnects = 0;
    sb.on('disconnect', () => bobDisconnects++);
    // past bob's late mailbox pass, so only a pass after the outage can bring what it missed
    await sleep(LATE_PASS_MS + 1000);

    await proxy.cut();
    const ack = await request<{ messageId: string }>(sa, 'message:send', {
      conversationId: conv.body.id,
      clientMessageId: 'while-redis-is-gone',
      envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 1, body: fakeBody() }],
    });
    expect(ack.ok).toBe(true);
    if (!ack.ok) return;
    // the adapter's publish gives up (ioredis: two reconnect attempts) before Redis returns
    const deadline = Date.now() + 10_000;
    while (!a.logs.text().includes('redis publish failed') && Date.now() < deadline)
      await sleep(100);
    expect(a.logs.text()).toContain('redis publish failed');
    expect(box.messages).toHaveLength(0);

    await proxy.restore();
    await box.waitForIds([ack.data.messageId], 15_000);
    expect(box.messages.map((m) => m.messageId)).toContain(ack.data.messageId);
    expect(bobDisconnects).toBe(0);
    expect(sb.connected).toBe(true);
    sa.close();
    sb.close();
  });
});
