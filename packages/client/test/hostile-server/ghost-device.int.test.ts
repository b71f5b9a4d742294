import { describe, expect, it, vi } from 'vitest';
import { ChatClient } from '../../src/client/chat-client.js';
import type { PlaintextMessage } from '../../src/messages/message.schema.js';
import { randomId, utf8 } from '../../src/protocol/bytes.js';
import {
  generateSignedPreKey,
  generateLocalIdentity,
  toKeyUpload,
} from '../../src/protocol/keys.js';
import { ApiError } from '../../src/transport/api-error.js';
import { account, messageWith } from '../support/stack.js';
import { hostileEnv, injectEnvelope, plantGhostDevice, realBundle } from './hostile-db.js';

const env = hostileEnv();

async function pair(): Promise<{ alice: ChatClient; bob: ChatClient; conversationId: string }> {
  const alice = env.stack.client('alice laptop');
  const bob = env.stack.client('bob phone');
  await alice.signUp(account('alice'));
  await bob.signUp(account('bob'));
  const conv = await alice.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
  const got = messageWith(bob, 'hello before');
  await alice.sendText(conv.id, 'hello before');
  await got;
  // Bob accepts Alice's request: they see each other's presence, so typing and receipts flow
  const bobOnline = alice.next('presence', (p) => p.userId === bob.user.id && p.online);
  await bob.acceptRequest(conv.id);
  await bobOnline;
  return { alice, bob, conversationId: conv.id };
}

async function mailboxRowsFor(userId: string, deviceId: number): Promise<number> {
  const [r] = await env.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM chat.mailbox WHERE recipient_user = $1 AND recipient_device = $2`,
    [userId, deviceId],
  );
  return r?.n ?? -1;
}

describe('hostile server: a ghost device on my account', () => {
  it('when the server plants a device with a foreign identity key, then my send fails with foreign_device, nothing is stored for the ghost, and after I remove it the held message reaches Bob', async () => {
    const { alice, bob, conversationId } = await pair();
    const ghost = await plantGhostDevice(env.db, alice.user.id);
    const foreign = alice.next('foreignDevice');
    const failedEvent = alice.next('sendFailed');

    const err = await alice.sendText(conversationId, 'for bob only').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'foreign_device', details: { deviceIds: [ghost.deviceId] } });
    const event = await foreign;
    expect(event.deviceId).toBe(ghost.deviceId);
    expect(Number.isNaN(Date.parse(event.createdAt))).toBe(false);
    const failed = await failedEvent;
    expect(failed.code).toBe('foreign_device');
    const held = (await alice.history(conversationId)).find((m) => m.text === 'for bob only');
    expect(held).toMatchObject({ status: 'failed', failure: { code: 'foreign_device' } });

    // Nothing was ever encrypted for the ghost, and the message did not go out at all.
    expect(await mailboxRowsFor(alice.user.id, ghost.deviceId)).toBe(0);
    const stored = await env.db.query(
      `SELECT 1 FROM chat.messages WHERE sender_user = $1 AND client_message_id = $2`,
      [alice.user.id, held?.id],
    );
    expect(stored).toEqual([]);
    expect(await alice.protocol.sessionDevices(alice.user.id)).toEqual([]);

    const devices = await alice.devices();
    expect(devices.find((d) => d.deviceId === ghost.deviceId)).toMatchObject({
      status: 'foreign',
      name: null,
      current: false,
    });
    expect(devices.find((d) => d.current)).toMatchObject({
      status: 'linked',
      name: 'alice laptop',
    });

    // Typing and receipts are not queued: they fail the same way, and nothing goes out either.
    await expect(alice.setTyping(conversationId, true)).rejects.toMatchObject({
      code: 'foreign_device',
    });
    const hello = (await alice.history(conversationId)).find((m) => m.text === 'hello before');
    await expect(alice.markDelivered(conversationId, [hello?.id ?? ''])).rejects.toMatchObject({
      code: 'foreign_device',
    });
    expect(await mailboxRowsFor(alice.user.id, ghost.deviceId)).toBe(0);

    // One removal, and the held message goes to Bob (same id).
    const bobGets = messageWith(bob, 'for bob only');
    await alice.removeDevice(ghost.deviceId);
    const got = await bobGets;
    expect(got.id).toBe(held?.id);
    expect((await alice.devices()).map((d) => d.deviceId)).toEqual([await alice.deviceId()]);
  });

  it('when a message "from my other device" is encrypted under the ghost key and put in my mailbox, then it is never shown and raises no identity change', async () => {
    const { alice, conversationId } = await pair();
    const ghost = await plantGhostDevice(env.db, alice.user.id);
    const myDevice = (await alice.deviceId()) as number;
    await ghost.attacker.protocol.processBundle(
      alice.user.id,
      await realBundle(env.db, alice, myDevice),
    );
    const text = 'I am your other phone, trust me';
    const plain: PlaintextMessage = {
      v: 1,
      kind: 'text',
      id: randomId(),
      conversationId,
      sentAt: Date.now(),
      text,
    };
    const c = await ghost.attacker.protocol.encrypt(
      alice.user.id,
      myDevice,
      utf8(JSON.stringify(plain)),
    );
    const shown: string[] = [];
    alice.on('message', (m) => shown.push(m.text ?? ''));
    let identityChanged = false;
    alice.on('identityChanged', () => (identityChanged = true));
    const refused = alice.next('decryptFailed', (e) => e.senderDeviceId === ghost.deviceId);

    await injectEnvelope(env.db, {
      recipientUser: alice.user.id,
      recipientDevice: myDevice,
      senderUser: alice.user.id,
      senderDevice: ghost.deviceId,
      conversationId,
      type: c.type,
      body: c.body,
    });
    await alice.syncMailbox();
    const failure = await refused;
    expect(failure.code).toBe('foreign_device');
    expect(shown).not.toContain(text);
    expect((await alice.history(conversationId)).some((m) => m.text === text)).toBe(false);
    expect(identityChanged).toBe(false);
    expect(await alice.store.getIdentity(alice.user.id)).toBeUndefined();
  });

  it('when a stolen token registers a device and uploads foreign keys through the API, then my client still refuses it and Bob gets nothing until it is removed', async () => {
    const { alice, bob, conversationId } = await pair();
    // The thief: Alice's access token, its own device and identity.
    const thief = new ChatClient({
      userApiUrl: `${env.stack.userUrl}/api/user`,
      chatApiUrl: `${env.stack.chatUrl}/api/chat`,
    });
    thief.api.setTokens(alice.tokens());
    const created = await thief.api.chat.createDevice();
    const identity = await generateLocalIdentity();
    const signed = await generateSignedPreKey(identity.identityKeyPair, 1);
    await thief.api.chat.uploadKeys(
      created.deviceId,
      created.deviceSecret,
      toKeyUpload(identity, signed, []),
    );

    const err = await alice.sendText(conversationId, 'not for the thief').catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'foreign_device',
      details: { deviceIds: [created.deviceId] },
    });
    expect(await mailboxRowsFor(alice.user.id, created.deviceId)).toBe(0);
    const bobGets = messageWith(bob, 'not for the thief');
    await alice.removeDevice(created.deviceId);
    await bobGets;
  });

  it('when a stolen access token tries to register a device more than 5 minutes after the last password login, then chat-service refuses with 401 fresh_login_required', async () => {
    const alice = env.stack.client('alice laptop');
    await alice.signUp(account('alice'));
    const thief = new ChatClient({
      userApiUrl: `${env.stack.userUrl}/api/user`,
      chatApiUrl: `${env.stack.chatUrl}/api/chat`,
    });
    thief.api.setTokens(alice.tokens());
    // Six minutes later (the services run in this process and read this clock); the access
    // token itself lives 15 minutes.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 6 * 60_000 });
    try {
      const err = await thief.api.chat.createDevice().catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 401, code: 'fresh_login_required' });
    } finally {
      vi.useRealTimers();
    }
    expect((await alice.devices()).map((d) => d.deviceId)).toEqual([await alice.deviceId()]);
  });
});
