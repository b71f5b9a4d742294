import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatClient } from '../src/client/chat-client.js';
import type { ClientParts } from '../src/client/client-parts.js';
import type { RetryUpdate } from '../src/client/retry-state.js';
import { FORMAT_VERSION, type RetryControl } from '../src/messages/message.schema.js';
import { randomId } from '../src/protocol/bytes.js';
import { account, messageWith, startStack, type Stack } from './support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

async function pair(): Promise<{ alice: ChatClient; bob: ChatClient; conv: { id: string } }> {
  const alice = stack.client('alice');
  const bob = stack.client('bob');
  await alice.signUp(account('alice'));
  await bob.signUp(account('bob'));
  const conv = await alice.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
  // Retry requests follow the message-request rules: Bob accepts Alice's request first.
  await bob.acceptRequest(conv.id);
  // A first exchange: both sides hold a working session.
  const hi = messageWith(bob, 'hi');
  await alice.sendText(conv.id, 'hi');
  await hi;
  const back = messageWith(alice, 'hello');
  await bob.sendText(conv.id, 'hello');
  await back;
  return { alice, bob, conv };
}

const retryChange = (c: ChatClient, state: RetryUpdate['state']) =>
  c.next('retryChanged', (p) => p.state === state) as Promise<RetryUpdate>;

/** The parts behind a client (adversarial tests send hand-made retry messages through its sender). */
const partsOf = (c: ChatClient): ClientParts => (c as unknown as { parts: ClientParts }).parts;

/** Sends a hand-made retry message through a client's own sender (what a hostile peer's client could do). */
async function sendRetry(
  from: ChatClient,
  conversationId: string,
  retry: RetryControl,
): Promise<void> {
  await partsOf(from).sender.fanOut(conversationId, {
    v: FORMAT_VERSION,
    kind: 'retry',
    id: randomId(),
    conversationId,
    sentAt: Date.now(),
    retry,
  });
}

describe('no silent decrypt failures', () => {
  it("when Bob's session with Alice's device is deleted, then a placeholder appears, a retry request goes out, Alice re-sends on a fresh session and the message appears once on its own", async () => {
    const { alice, bob, conv } = await pair();
    const aliceDevice = (await alice.deviceId()) ?? 0;
    await bob.protocol.deleteSession(alice.user.id, aliceDevice);

    const waiting = retryChange(bob, 'waiting');
    const resolved = retryChange(bob, 'resolved');
    const arrives = messageWith(bob, 'after the reset');
    const sent = await alice.sendText(conv.id, 'after the reset');
    const placeholder = await waiting;
    expect(placeholder).toMatchObject({
      conversationId: conv.id,
      senderUserId: alice.user.id,
      senderDeviceId: aliceDevice,
      messageId: sent.serverMessageId,
      code: 'no_session',
    });
    const m = await arrives;
    expect(await resolved).toMatchObject({ messageId: sent.serverMessageId, resolvedId: sent.id });
    // In place: the original's ids and server time.
    expect(m).toMatchObject({
      id: sent.id,
      serverMessageId: sent.serverMessageId,
      serverTimestamp: sent.serverTimestamp,
      direction: 'in',
    });
    expect((await bob.history(conv.id)).filter((x) => x.text === 'after the reset')).toHaveLength(
      1,
    );
    expect(bob.retries.stats()).toMatchObject({ unresolved: 0, resolved: 1, requestsSent: 1 });
    expect(alice.retries.stats()).toMatchObject({ resent: 1, refused: 0 });
    expect(bob.retries.pending(conv.id)).toEqual([]);

    // The fresh session works both ways afterwards.
    const next = messageWith(alice, 'all good');
    await bob.sendText(conv.id, 'all good');
    await next;
    const again = messageWith(bob, 'still good');
    await alice.sendText(conv.id, 'still good');
    await again;
  });

  it("when a server corrupts Bob's ciphertext in flight, then Bob's placeholder resolves with the message, stored once", async () => {
    const { alice, bob, conv } = await pair();
    const resolved = retryChange(bob, 'resolved');
    const arrives = messageWith(bob, 'tampered');
    const sent = await alice.sendTextWithEnvelopes(conv.id, 'tampered', (envs) =>
      envs.map((e) =>
        e.userId === bob.user.id
          ? {
              ...e,
              body: e.body.slice(0, 40) + (e.body[40] === 'A' ? 'B' : 'A') + e.body.slice(41),
            }
          : e,
      ),
    );
    await arrives;
    expect(await resolved).toMatchObject({
      messageId: sent.serverMessageId,
      code: 'invalid_message',
    });
    expect((await bob.history(conv.id)).filter((x) => x.text === 'tampered')).toHaveLength(1);
    expect(bob.retries.stats().unresolved).toBe(0);
  });

  it('when the resend itself is garbled on the way, then Bob asks for that one too and everything resolves with one copy', async () => {
    const { alice, bob, conv } = await pair();
    const aliceDevice = (await alice.deviceId()) ?? 0;
    await bob.protocol.deleteSession(alice.user.id, aliceDevice);
    // A hostile server garbles Alice's first retry message to Bob.
    const sender = partsOf(alice).sender;
    const fanOut = sender.fanOut.bind(sender);
    let garbled = 0;
    sender.fanOut = (id, plaintext, mutate, ...rest) => {
      if (!('padded' in plaintext) || garbled > 0) return fanOut(id, plaintext, mutate, ...rest);
      garbled += 1;
      const corrupt: typeof mutate = (envs) =>
        (mutate ? mutate(envs) : envs).map((e) =>
          e.userId === bob.user.id
            ? {
                ...e,
                body: e.body.slice(0, 60) + (e.body[60] === 'A' ? 'B' : 'A') + e.body.slice(61),
              }
            : e,
        );
      return fanOut(id, plaintext, corrupt, ...rest);
    };
    const arrives = messageWith(bob, 'through two failures');
    const resolvedTwice = new Promise<void>((resolve) => {
      let n = 0;
      bob.on('retryChanged', (p) => {
        if (p.state === 'resolved' && ++n === 2) resolve();
      });
    });
    const sent = await alice.sendText(conv.id, 'through two failures');
    expect(await arrives).toMatchObject({ id: sent.id, serverMessageId: sent.serverMessageId });
    await resolvedTwice;
    expect(garbled).toBe(1);
    expect(
      (await bob.history(conv.id)).filter((x) => x.text === 'through two failures'),
    ).toHaveLength(1);
    expect(bob.retries.stats()).toMatchObject({ unresolved: 0, resolved: 2 });
  });

  it("when Alice's phone is removed before it could re-send, then Bob's placeholder says the device was removed", async () => {
    const creds = account('alice');
    const laptop = stack.client('alice laptop');
    await laptop.signUp(creds);
    const phone = stack.client('alice phone');
    await phone.logIn({ email: creds.email, password: creds.password });
    const bob = stack.client('bob');
    await bob.signUp(account('bob'));
    const conv = await bob.createConversation({ kind: 'direct', memberIds: [laptop.user.id] });
    const first = messageWith(bob, 'from the phone');
    await phone.sendText(conv.id, 'from the phone');
    await first;
    const phoneDevice = (await phone.deviceId()) ?? 0;

    bob.disconnect();
    await phone.sendText(conv.id, 'lost on the way');
    await bob.protocol.deleteSession(laptop.user.id, phoneDevice);
    expect(await phone.logOut({ forget: true, removeDevice: true })).toEqual({
      deviceRemoved: true,
    });

    const waiting = retryChange(bob, 'waiting');
    const failed = retryChange(bob, 'failed');
    await bob.connect();
    expect(await waiting).toMatchObject({ senderDeviceId: phoneDevice });
    expect(await failed).toMatchObject({
      senderUserId: laptop.user.id,
      senderDeviceId: phoneDevice,
      cause: 'device_removed',
    });
    expect(bob.retries.stats()).toMatchObject({
      unresolved: 1,
      failed: 1,
      byDevice: [{ userId: laptop.user.id, deviceId: phoneDevice, unresolved: 1 }],
    });
    expect(bob.retries.pending(conv.id)).toEqual([
      expect.objectContaining({ state: 'failed', cause: 'device_removed' }),
    ]);
  });

  it('when hostile retry requests name an unknown message, a message of another conversation, or ask too often, then Alice refuses them and re-sends nothing', async () => {
    const { alice, bob, conv } = await pair();
    const mallory = stack.client('mallory');
    await mallory.signUp(account('mallory'));
    const other = await mallory.createConversation({ kind: 'direct', memberIds: [alice.user.id] });
    const greet = messageWith(alice, 'hey alice');
    await mallory.sendText(other.id, 'hey alice');
    await greet;
    const secret = await alice.sendText(conv.id, 'for bob only');
    const to = { userId: alice.user.id, deviceId: (await alice.deviceId()) ?? 0 };
    const leaked: string[] = [];
    mallory.on('message', (m) => void (m.text !== undefined && leaked.push(m.text)));

    // Not a reader: Mallory names Alice's message to Bob, through her own chat with Alice.
    let refused = alice.next('retryRefused');
    await sendRetry(mallory, other.id, {
      op: 'request',
      messageId: secret.serverMessageId ?? '',
      to,
    });
    expect(await refused).toMatchObject({
      fromUserId: mallory.user.id,
      reason: 'foreign_conversation',
    });
    // A message Alice never sent.
    refused = alice.next('retryRefused');
    await sendRetry(mallory, other.id, { op: 'request', messageId: randomId(), to });
    expect(await refused).toMatchObject({ reason: 'unknown_message' });

    // Bob, a reader, asks for the same message three times: twice served, then refused.
    const bobDevice = { userId: bob.user.id, deviceId: (await bob.deviceId()) ?? 0 };
    for (let i = 0; i < 2; i++)
      await sendRetry(bob, conv.id, { op: 'request', messageId: secret.serverMessageId ?? '', to });
    refused = alice.next('retryRefused');
    await sendRetry(bob, conv.id, { op: 'request', messageId: secret.serverMessageId ?? '', to });
    expect(await refused).toMatchObject({
      fromUserId: bobDevice.userId,
      fromDeviceId: bobDevice.deviceId,
      reason: 'rate_limited',
    });
    expect(alice.retries.stats().refused).toBe(3);
    // Bob had no placeholder for it: the resends changed nothing there (one copy, no resolution).
    expect((await bob.history(conv.id)).filter((x) => x.text === 'for bob only')).toHaveLength(1);
    expect(bob.retries.stats().resolved).toBe(0);
    // A message from Mallory on the same path still arrives (so nothing was just slow), and nothing of Bob's reached her.
    const marker = messageWith(mallory, 'done');
    await alice.sendText(other.id, 'done');
    await marker;
    expect(leaked).toEqual(['done']);
  });

  it('when Carol joins a group after Alice wrote a message and asks for it again, then Alice refuses: Carol was not among its readers', async () => {
    const alice = stack.client('alice');
    const bob = stack.client('bob');
    const carol = stack.client('carol');
    await alice.signUp(account('alice'));
    await bob.signUp(account('bob'));
    await carol.signUp(account('carol'));
    const group = await alice.createConversation({
      kind: 'group',
      memberIds: [bob.user.id],
      title: 'plans',
    });
    const seen = messageWith(bob, 'before carol');
    const secret = await alice.sendText(group.id, 'before carol');
    await seen;
    const joined = carol.next(
      'message',
      (m) => m.kind === 'event' && m.conversationId === group.id,
    );
    await alice.groups.add(group.id, [carol.user.id]);
    await joined;

    const refused = alice.next('retryRefused');
    const to = { userId: alice.user.id, deviceId: (await alice.deviceId()) ?? 0 };
    await sendRetry(carol, group.id, {
      op: 'request',
      messageId: secret.serverMessageId ?? '',
      to,
    });
    expect(await refused).toMatchObject({ fromUserId: carol.user.id, reason: 'not_reader' });
    // What Alice sends next reaches Carol, and the old message never did.
    const after = messageWith(carol, 'welcome carol');
    await alice.sendText(group.id, 'welcome carol');
    await after;
    expect((await carol.history(group.id)).map((m) => m.text).filter(Boolean)).toEqual([
      'welcome carol',
    ]);
  });
});
