import { afterAll, beforeAll, expect } from 'vitest';
import {
  api,
  createTestEnv,
  createUser,
  request,
  type ClientSocket,
  type Instance,
  type TestEnv,
  type TestUser,
} from './harness.js';

/** The environment and instance of a file that tests limits (set once its `beforeAll` ran). */
export interface LimitedInstance {
  env: TestEnv;
  inst: Instance;
}

/**
 * One chat-service instance for the whole file, started with tightened limits in `beforeAll`
 * and closed (database dropped, Redis keys deleted) in `afterAll`. Call at the top of a file.
 * @param prefix database name prefix of the file
 * @param limits config overrides (the limits under test)
 * @returns an object whose `env` and `inst` are set once the file's tests run
 */
export function useLimitedInstance(
  prefix: string,
  limits: Record<string, string>,
): LimitedInstance {
  const ctx = {} as LimitedInstance;
  beforeAll(async () => {
    ctx.env = await createTestEnv(prefix);
    ctx.inst = await ctx.env.start(limits);
  });
  afterAll(async () => {
    await ctx.env?.close();
  });
  return ctx;
}

/**
 * Alice (`aliceDevices` devices) and Bob in a direct conversation, Bob's side accepted unless
 * `accept` is false (a request from a stranger is held to the per-sender request budget).
 * @param t the file's instance
 * @param opts how many devices Alice has (default 1); whether Bob accepts (default true)
 * @returns both users and the conversation id
 */
export async function directPair(
  t: LimitedInstance,
  opts: { aliceDevices?: number; accept?: boolean } = {},
): Promise<{ alice: TestUser & { deviceIds: number[] }; bob: TestUser; conversationId: string }> {
  const alice = await createUser(t.inst, t.env.mint, opts.aliceDevices ?? 1);
  const bob = await createUser(t.inst, t.env.mint);
  const conv = await api(t.inst.url, alice.token, 'POST', '/conversations', {
    kind: 'direct',
    memberIds: [bob.userId],
  });
  expect(conv.status).toBe(201);
  const conversationId = conv.body.id as string;
  if (opts.accept ?? true) {
    const accepted = await api(
      t.inst.url,
      bob.token,
      'POST',
      `/conversations/${conversationId}/accept`,
    );
    expect(accepted.status).toBe(204);
  }
  return { alice, bob, conversationId };
}

/**
 * Sends one message whose envelopes all carry `body`.
 * @param socket the sender's socket
 * @param conversationId conversation
 * @param clientMessageId the sender's id for the message
 * @param to the addressed devices
 * @param body base64 ciphertext
 * @returns the ack
 */
export function sendTo(
  socket: ClientSocket,
  conversationId: string,
  clientMessageId: string,
  to: { userId: string; deviceId: number }[],
  body: string,
) {
  return request(socket, 'message:send', {
    conversationId,
    clientMessageId,
    envelopes: to.map((d) => ({ userId: d.userId, deviceId: d.deviceId, type: 3, body })),
  });
}

/**
 * @param t the file's instance
 * @param senderId sender
 * @returns how many messages of that sender were stored (their dedupe rows)
 */
export async function storedBy(t: LimitedInstance, senderId: string): Promise<number> {
  const [r] = (await t.inst.app.ds.query(
    `SELECT count(*)::int AS n FROM chat.messages WHERE sender_user = $1`,
    [senderId],
  )) as { n: number }[];
  return r?.n ?? 0;
}
