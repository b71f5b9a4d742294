import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '@cipherchat/service-kit/testing';
import {
  api,
  connect,
  connectDrained,
  createTestEnv,
  createUser,
  fakeBody,
  request,
  type ClientSocket,
  type Instance,
  type TestEnv,
  type TestUser,
} from './support/harness.js';

/** Two messages (4096 envelope bytes) per (sender, recipient) and window while not accepted. */
const LIMITS = { MAILBOX_REQUEST_MAX_MESSAGES: '2', MAILBOX_REQUEST_MAX_BYTES: '4096' };

let env: TestEnv;
let inst: Instance;
/** The same database, with its Redis reached through a proxy that can be cut. */
let viaProxy: Instance;
let proxy: TcpProxy;

beforeAll(async () => {
  proxy = new TcpProxy(6379);
  const port = await proxy.start();
  env = await createTestEnv('chatreqbudget');
  inst = await env.start(LIMITS);
  viaProxy = await env.start({ ...LIMITS, REDIS_URL: `redis://127.0.0.1:${port}` });
});
afterAll(async () => {
  await proxy?.restore().catch(() => undefined);
  await env?.close();
  await proxy?.stop();
});

/** A stranger's request to `me`: their conversation, socket and a one-envelope-per-device send. */
async function strangerTo(me: TestUser & { deviceIds: number[] }, on: Instance = inst) {
  const stranger = await createUser(on, env.mint);
  const conv = await api(on.url, stranger.token, 'POST', '/conversations', {
    kind: 'direct',
    memberIds: [me.userId],
  });
  expect(conv.status).toBe(201);
  const conversationId = conv.body.id as string;
  const socket = await connect(on.url, stranger.token, stranger.deviceId);
  // while Redis is down, each send waits for ioredis to give up its retries: more time
  const send = (body = fakeBody(), timeoutMs = 10_000) =>
    request(
      socket,
      'message:send',
      {
        conversationId,
        clientMessageId: randomUUID(),
        envelopes: me.deviceIds.map((deviceId) => ({ userId: me.userId, deviceId, type: 3, body })),
      },
      timeoutMs,
    );
  return { stranger, conversationId, socket, send };
}

/** An ack as the sender sees it: `ok` or the error code. */
const answer = (ack: { ok: boolean; error?: { code: string } }) =>
  ack.ok ? 'ok' : (ack.error?.code ?? 'error');

/**
 * The answers a stranger gets to one send, then `between` done by the recipient, then three
 * more sends.
 */
async function answersAround(
  between: (me: TestUser, conversationId: string, stranger: TestUser) => Promise<void>,
): Promise<string[]> {
  const me = await createUser(inst, env.mint);
  const s = await strangerTo(me);
  const out: string[] = [];
  try {
    out.push(answer(await s.send()));
    await between(me, s.conversationId, s.stranger);
    for (let i = 0; i < 3; i++) out.push(answer(await s.send()));
  } finally {
    s.socket.close();
  }
  return out;
}

async function comeOnlineAndDrain(me: TestUser): Promise<void> {
  const { socket, box } = await connectDrained(inst.url, me.token, me.deviceId);
  const got = await box.waitFor(1);
  const acked = await request(socket, 'message:ack', { messageIds: got.map((m) => m.messageId) });
  expect(acked).toMatchObject({ ok: true });
  socket.close();
}

describe('request budgets (a stranger cannot tell what the recipient did)', () => {
  it('when I come online and drain, then a stranger gets the same answers as while I was offline', async () => {
    const me = await createUser(inst, env.mint);
    const { socket: ss, send } = await strangerTo(me);
    let sock: ClientSocket | undefined;
    try {
      for (let i = 0; i < 2; i++) expect(await send()).toMatchObject({ ok: true });
      const whileOffline = await send();
      expect(whileOffline).toMatchObject({ ok: false, error: { code: 'mailbox_full' } });
      const { socket, box } = await connectDrained(inst.url, me.token, me.deviceId);
      sock = socket;
      const got = await box.waitFor(2);
      await request(socket, 'message:ack', { messageIds: got.map((m) => m.messageId) });
      const afterOnline = await send();
      expect(afterOnline.ok).toBe(whileOffline.ok);
      expect(answer(afterOnline)).toBe(answer(whileOffline));
    } finally {
      ss.close();
      sock?.close();
    }
  });

  it('when I block or decline the stranger, or drain, then their answers equal those of a recipient who stays offline and does nothing', async () => {
    const offline = await answersAround(async () => undefined);
    expect(offline).toEqual(['ok', 'ok', 'mailbox_full', 'mailbox_full']);
    const blocked = await answersAround(async (me, _c, stranger) => {
      expect((await api(inst.url, me.token, 'PUT', `/blocks/${stranger.userId}`)).status).toBe(204);
    });
    const declined = await answersAround(async (me, conversationId) => {
      const r = await api(inst.url, me.token, 'POST', `/conversations/${conversationId}/decline`);
      expect(r.status).toBe(204);
    });
    const drained = await answersAround((me) => comeOnlineAndDrain(me));
    expect({ blocked, declined, drained }).toEqual({
      blocked: offline,
      declined: offline,
      drained: offline,
    });
  });

  it('when one stranger has spent their budget, then a second stranger is not shut out', async () => {
    const me = await createUser(inst, env.mint);
    const first = await strangerTo(me);
    const second = await strangerTo(me);
    try {
      for (let i = 0; i < 2; i++) expect(await first.send()).toMatchObject({ ok: true });
      expect(await first.send()).toMatchObject({ ok: false, error: { code: 'mailbox_full' } });
      for (let i = 0; i < 2; i++) expect(await second.send()).toMatchObject({ ok: true });
    } finally {
      first.socket.close();
      second.socket.close();
    }
  });

  it('when the recipient has several devices, then a message counts once and its bytes count over all of them; an over-budget send stores nothing', async () => {
    const me = await createUser(inst, env.mint, 2);
    const s = await strangerTo(me);
    try {
      // 2 messages x 2 devices = 4 envelopes: within a budget of 2 messages
      expect(await s.send(fakeBody())).toMatchObject({ ok: true });
      // 2 x 1500 = 3000 bytes (the first message is ~60): fits 4096
      expect(await s.send(Buffer.alloc(1500, 1).toString('base64'))).toMatchObject({ ok: true });
      const other = await createUser(inst, env.mint, 2);
      const t = await strangerTo(other);
      try {
        expect(await t.send(Buffer.alloc(2000, 1).toString('base64'))).toMatchObject({ ok: true });
        // 2 x 1100 more would be 6200 bytes > 4096 (second message: within the count)
        const over = await t.send(Buffer.alloc(1100, 1).toString('base64'));
        expect(over).toMatchObject({ ok: false, error: { code: 'mailbox_full' } });
        const [rows] = (await inst.app.ds.query(
          `SELECT count(*)::int AS n FROM chat.mailbox WHERE recipient_user = $1`,
          [other.userId],
        )) as { n: number }[];
        expect(rows?.n).toBe(2);
      } finally {
        t.socket.close();
      }
    } finally {
      s.socket.close();
    }
  });

  it('when a send is refused for another reason, or many arrive at once, then only stored messages spend the budget', async () => {
    const me = await createUser(inst, env.mint);
    const s = await strangerTo(me);
    try {
      const stale = await request(s.socket, 'message:send', {
        conversationId: s.conversationId,
        clientMessageId: randomUUID(),
        envelopes: [{ userId: me.userId, deviceId: me.deviceId + 1000, type: 3, body: fakeBody() }],
      });
      expect(stale).toMatchObject({ ok: false, error: { code: 'stale_devices' } });
      const acks = await Promise.all(Array.from({ length: 6 }, () => s.send()));
      expect(acks.map(answer).sort()).toEqual([
        'mailbox_full',
        'mailbox_full',
        'mailbox_full',
        'mailbox_full',
        'ok',
        'ok',
      ]);
    } finally {
      s.socket.close();
    }
  });

  it('when the window has passed, then the budget starts again; once I accept, the occupancy caps apply instead', async () => {
    const me = await createUser(inst, env.mint);
    const s = await strangerTo(me);
    try {
      for (let i = 0; i < 2; i++) expect(await s.send()).toMatchObject({ ok: true });
      expect(await s.send()).toMatchObject({ ok: false, error: { code: 'mailbox_full' } });
      await inst.app.ds.query(
        `UPDATE chat.request_budget SET window_start = now() - interval '86401 seconds'
          WHERE sender_user = $1 AND recipient_user = $2`,
        [s.stranger.userId, me.userId],
      );
      expect(await s.send()).toMatchObject({ ok: true });
      expect(await s.send()).toMatchObject({ ok: true });
      expect(await s.send()).toMatchObject({ ok: false, error: { code: 'mailbox_full' } });
      const accepted = await api(
        inst.url,
        me.token,
        'POST',
        `/conversations/${s.conversationId}/accept`,
      );
      expect(accepted.status).toBe(204);
      for (let i = 0; i < 3; i++) expect(await s.send()).toMatchObject({ ok: true });
    } finally {
      s.socket.close();
    }
  });

  it('when Redis is down, then sends go on and the budget still holds (it is kept in PostgreSQL)', async () => {
    const me = await createUser(viaProxy, env.mint);
    const s = await strangerTo(me, viaProxy);
    try {
      await proxy.cut();
      for (let i = 0; i < 2; i++)
        expect(await s.send(fakeBody(), 60_000)).toMatchObject({ ok: true });
      expect(await s.send(fakeBody(), 60_000)).toMatchObject({
        ok: false,
        error: { code: 'mailbox_full' },
      });
      const other = await strangerTo(me, inst);
      expect(await other.send(fakeBody(), 60_000)).toMatchObject({ ok: true });
      other.socket.close();
    } finally {
      await proxy.restore();
      const redis = viaProxy.app.ctx.redis;
      if (redis.status !== 'ready')
        await once(redis, 'ready', { signal: AbortSignal.timeout(20_000) });
      s.socket.close();
    }
  }, 180_000);
});
