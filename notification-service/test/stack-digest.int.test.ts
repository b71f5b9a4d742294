import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatClient } from '@cipherchat/client';
import { configSchema as chatConfigSchema, createApp as createChatApp, type App as ChatApp } from '@cipherchat/chat-service';
import { configSchema as userConfigSchema, createApp as createUserApp, type App as UserApp } from '@cipherchat/user-service';
import { testEnv } from '@cipherchat/user-service/testing';
import { createLogger, createMetrics, createTokenVerifier, parseConfig } from '@cipherchat/service-kit';
import { LogCapture, testInfra, uniqueSuffix, waitForConsumed } from '@cipherchat/service-kit/testing';
import { startHarness, type Harness } from './support/harness.js';

// The whole path with real services: SDK clients (Signal protocol) send through chat-service,
// which publishes chat.message_queued.v1 only for recipients with no device online; this
// service turns those into digests. user-service provides accounts and the verification link.
let h: Harness;
let userApp: UserApp;
let chatApp: ChatApp;
let attachmentsDir: string;
const clients: ChatClient[] = [];
let userUrl: string;
let chatUrl: string;
let chatQueuePrefix: string;

beforeAll(async () => {
  h = await startHarness({ DIGEST_DELAY_MINUTES: '15' });
  const suffix = uniqueSuffix();
  chatQueuePrefix = `t.notify.${suffix}.chat`;
  const env = await testEnv({ databaseUrl: h.db.url, exchange: h.config.BUS_EXCHANGE, redisKeyPrefix: `t:notify:${suffix}:user:`, overrides: { LOG_LEVEL: 'warn' } });
  userApp = await createUserApp(parseConfig(userConfigSchema, env), { logger: createLogger('user-service', 'warn', new LogCapture()), metrics: createMetrics('user-service', false) });
  userUrl = `http://127.0.0.1:${await userApp.listen(0)}`;
  attachmentsDir = await mkdtemp(path.join(tmpdir(), 'notify-att-'));
  chatApp = await createChatApp(
    parseConfig(chatConfigSchema, {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      DATABASE_URL: h.db.url,
      AMQP_URL: testInfra.amqpUrl,
      BUS_EXCHANGE: h.config.BUS_EXCHANGE,
      REDIS_URL: testInfra.redisUrl,
      REDIS_PREFIX: `t:notify:${suffix}:chat`,
      QUEUE_PREFIX: chatQueuePrefix,
      JWKS_URL: `${userUrl}/api/user/.well-known/jwks.json`,
      HOST: '127.0.0.1',
      ATTACHMENTS_DIR: attachmentsDir,
      ALLOWED_ORIGINS: 'http://localhost:8080',
    }),
    { logger: createLogger('chat-service', 'warn', new LogCapture()), verifyToken: createTokenVerifier(userApp.jwks as never) },
  );
  chatUrl = `http://127.0.0.1:${await chatApp.listen(0)}`;
  h.useVerifier(createTokenVerifier(userApp.jwks as never));
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await chatApp?.close();
  await userApp?.close();
  // chat-service's own queue on the test exchange
  if (chatQueuePrefix) {
    const amqp = (await import('amqplib')).default;
    const conn = await amqp.connect(testInfra.amqpUrl);
    const ch = await conn.createChannel();
    for (const q of ['', '.retry', '.dlq']) await ch.deleteQueue(`${chatQueuePrefix}.user-deleted${q}`);
    await conn.close();
  }
  await h?.cleanup();
  if (attachmentsDir) await rm(attachmentsDir, { recursive: true, force: true });
});

function client(name: string): ChatClient {
  const c = new ChatClient({ userApiUrl: `${userUrl}/api/user`, chatApiUrl: `${chatUrl}/api/chat`, socketUrl: chatUrl, deviceName: name, backupDebounceMs: 20 });
  clients.push(c);
  return c;
}

let n = 0;
/** Signs up, verifies the address with the link from the mail, and logs in again (so this service learns "verified"). */
async function verifiedPerson(tag: string): Promise<{ client: ChatClient; userId: string; email: string; displayName: string }> {
  n += 1;
  const id = `${tag}${n}${uniqueSuffix().slice(0, 6)}`;
  const input = { email: `${id}@example.org`, username: id, displayName: `${tag[0]!.toUpperCase()}${tag.slice(1)}`, password: `correct horse battery ${id}` };
  const first = client(`${tag} laptop`);
  await first.signUp(input);
  const [mail] = await h.inbox.waitFor((m) => m.to === input.email && m.subject.startsWith('Confirm'));
  const link = /Confirm my address: (\S+)/.exec(mail!.text)![1]!;
  await first.verifyEmail(new URL(link).searchParams.get('token')!);
  first.disconnect();
  const again = client(`${tag} laptop again`);
  await again.logIn({ email: input.email, password: input.password });
  await h.inbox.waitFor((m) => m.to === input.email && m.subject.startsWith('Welcome'));
  return { client: again, userId: again.user.id, email: input.email, displayName: input.displayName };
}

describe('digests through the real chat-service', () => {
  it('when Bob is offline and Carol online while Alice writes to both, then only Bob gets a digest, with the right count and sender', async () => {
    const alice = await verifiedPerson('alice');
    const bob = await verifiedPerson('bob');
    const carol = await verifiedPerson('carol');
    const toBob = await alice.client.createConversation({ kind: 'direct', memberIds: [bob.userId] });
    const toCarol = await alice.client.createConversation({ kind: 'direct', memberIds: [carol.userId] });

    // Carol is online and receives her message right away: chat-service queues no event for her
    const carolGot = carol.client.next('message', (m) => (m as { text?: string }).text === 'hi Carol');
    await alice.client.sendText(toCarol.id, 'hi Carol');
    await carolGot;

    for (const c of clients.filter((c) => c.user?.id === bob.userId)) c.disconnect();
    const queued = waitForConsumed(h.app.bus, h.app.queues.digest, 3, (e) => e.type === 'chat.message_queued.v1');
    for (const text of ['one', 'two', 'three']) await alice.client.sendText(toBob.id, text);
    const events = await queued;
    expect(events.every((e) => e.result === 'ack')).toBe(true);

    const forCarol = (await h.app.ds.query(`SELECT count(*)::int AS n FROM chat.outbox WHERE type = 'chat.message_queued.v1' AND payload->>'recipientUserId' = $1`, [carol.userId])) as { n: number }[];
    expect(forCarol[0]!.n).toBe(0);

    const results = await h.app.digests.runDue(new Date(Date.now() + 16 * 60_000));
    expect(results.filter((r) => r.userId === bob.userId)).toMatchObject([{ outcome: 'sent', count: 3 }]);
    expect(results.filter((r) => r.userId === carol.userId)).toEqual([]);
    const [digest] = await h.inbox.waitFor((m) => m.to === bob.email && m.subject.includes('new messages'));
    expect(digest!.subject).toBe('3 new messages from Alice on CipherChat');
    for (const text of ['one', 'two', 'three']) expect(digest!.text + digest!.html).not.toContain(`>${text}<`);
    expect(h.inbox.to(carol.email).filter((m) => m.subject.includes('new message'))).toEqual([]);
  });

  it('when Dave comes back and reads before the delay, then chat-service reports the drained mailbox and no digest is sent', async () => {
    const erin = await verifiedPerson('erin');
    const dave = await verifiedPerson('dave');
    const conv = await erin.client.createConversation({ kind: 'direct', memberIds: [dave.userId] });
    dave.client.disconnect();
    const queued = waitForConsumed(h.app.bus, h.app.queues.digest, 2, (e) => e.type === 'chat.message_queued.v1');
    await erin.client.sendText(conv.id, 'are you there?');
    await erin.client.sendText(conv.id, 'hello?');
    await queued;

    const drained = waitForConsumed(h.app.bus, h.app.queues.digest, 1, (e) => e.type === 'chat.mailbox_drained.v1');
    const bothRead = new Promise<void>((resolve) => {
      let seen = 0;
      dave.client.on('message', () => ++seen === 2 && resolve());
    });
    await dave.client.connect();
    await bothRead;
    await drained;

    const results = await h.app.digests.runDue(new Date(Date.now() + 60 * 60_000));
    expect(results.filter((r) => r.userId === dave.userId)).toEqual([]);
    expect(h.inbox.to(dave.email).filter((m) => m.subject.includes('new message'))).toEqual([]);
  });

  it('when Bob is offline and Alice reads his earlier message, then her read receipt is held: no queued event, no digest, and Bob gets it when he is back', async () => {
    const alice = await verifiedPerson('alice');
    const bob = await verifiedPerson('bob');
    const conv = await bob.client.createConversation({ kind: 'direct', memberIds: [alice.userId] });
    const got = alice.client.next('message', (m) => (m as { text?: string }).text === 'lunch tomorrow?');
    await bob.client.sendText(conv.id, 'lunch tomorrow?');
    const old = (await got) as { id: string };
    // Alice accepts Bob's request (no receipts go into a request); they see each other online
    const bobOnline = alice.client.next('presence', (p) => p.userId === bob.userId && p.online);
    await alice.client.acceptRequest(conv.id);
    await bobOnline;
    await alice.client.markDelivered(conv.id, [old.id]); // Bob is online: goes out at once

    const gone = alice.client.next('presence', (p) => p.userId === bob.userId && !p.online);
    for (const c of clients.filter((c) => c.user?.id === bob.userId)) c.disconnect();
    await gone;
    // Before receipts were held, this went into Bob's mailbox and was announced as a queued
    // message (chat-service cannot tell a receipt from a message): a digest about nothing.
    await alice.client.markRead(conv.id, [old.id]);
    await alice.client.setTyping(conv.id, true);
    // A real message afterwards is announced; the relay keeps a conversation's events in order,
    // so once it is consumed, anything written for the receipt would have been consumed too.
    const queued = waitForConsumed(h.app.bus, h.app.queues.digest, 1, (e) => e.type === 'chat.message_queued.v1');
    await alice.client.sendText(conv.id, 'yes, at noon');
    await queued;
    const forBob = (await h.app.ds.query(
      `SELECT count(*)::int AS n FROM chat.outbox WHERE type = 'chat.message_queued.v1' AND payload->>'recipientUserId' = $1`,
      [bob.userId],
    )) as { n: number }[];
    expect(forBob[0]!.n).toBe(1);
    const results = await h.app.digests.runDue(new Date(Date.now() + 16 * 60_000));
    expect(results.filter((r) => r.userId === bob.userId)).toMatchObject([{ outcome: 'sent', count: 1 }]);
    const [digest] = await h.inbox.waitFor((m) => m.to === bob.email && m.subject.includes('new message'));
    expect(digest!.subject).toBe('1 new message from Alice on CipherChat');

    // Bob is back: the held receipt reaches him live, and his message shows as read.
    const read = bob.client.next('receipt', (r) => r.type === 'read');
    await bob.client.connect();
    expect(await read).toMatchObject({ fromUserId: alice.userId, messageIds: [old.id] });
  });
});
