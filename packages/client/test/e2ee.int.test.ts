import { Fingerprint, PublicKey } from '@signalapp/libsignal-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ChatClient } from '../src/client/chat-client.js';
import { fromBase64, toBase64, utf8 } from '../src/protocol/bytes.js';
import { UntrustedIdentityError } from '../src/protocol/errors.js';
import type { OutgoingEnvelope } from '../src/transport/socket-client.js';
import { account, messageWith, startStack, type Stack } from './support/stack.js';

/**
 * Issue 4's "Must show" list, with Node clients against the real stack: user-service and
 * chat-service in-process on a fresh PostgreSQL database, RabbitMQ exchange and Redis prefix.
 */

let stack: Stack;
/** Every secret a client typed or was shown: none may reach the database, the bus or a log. */
const secrets: string[] = [];
const MARKER = `MARKER-${crypto.randomUUID()}-plaintext-must-stay-on-clients`;
/** A reaction the scan looks for (three emoji: 12 bytes, too long to turn up by chance). */
const REACTION = '🦩🧬🪼';

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});


async function signUp(tag: string, deviceName = tag) {
  const input = account(tag);
  const client = stack.client(deviceName);
  const { recoveryKey } = await client.signUp(input);
  secrets.push(input.password, recoveryKey);
  return { client, input, recoveryKey };
}

function tokenFromUrl(link: string): string {
  const url = new URL(link);
  const token = url.searchParams.get('token') ?? new URLSearchParams(url.hash.slice(1)).get('token');
  if (!token) throw new Error(`no token in ${link}`);
  return token;
}

/** Reads a link's token from the event user-service published (what notification-service mails). */
async function tokenFromBus(type: string, userId: string, field: 'verifyUrl' | 'resetUrl'): Promise<string> {
  const event = await stack.waitForBus((m) => m.routingKey === type && m.body.includes(userId));
  const payload = (JSON.parse(event.body) as { payload: Record<string, string> }).payload;
  return tokenFromUrl(payload[field]!);
}

/** Verifies Bob's address (resets are mailed to verified addresses only) and runs a reset. */
async function resetToken(client: ChatClient, email: string, userId: string): Promise<string> {
  await client.verifyEmail(await tokenFromBus('user.email_verification_requested.v1', userId, 'verifyUrl'));
  await client.requestPasswordReset(email);
  return tokenFromBus('user.password_reset_requested.v1', userId, 'resetUrl');
}

async function logInAgain(input: { email: string; password: string }, deviceName: string) {
  const client = stack.client(deviceName);
  const result = await client.logIn(input);
  return { client, result };
}

/** Sends and waits until every listed client has the message. */
async function sendAndExpect(from: ChatClient, conversationId: string, text: string, to: ChatClient[]) {
  const waits = to.map((c) => messageWith(c, text));
  const sent = await from.sendText(conversationId, text);
  const got = await Promise.all(waits);
  for (const m of got) {
    expect(m.id).toBe(sent.id);
    expect(m.conversationId).toBe(conversationId);
  }
  return { sent, got };
}

/** Resolves once a client has no decrypt failure left unresolved (its retries came back). */
function allResolved(c: ChatClient): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (c.retries.stats().unresolved > 0) return;
      off();
      resolve();
    };
    const off = c.on('retryChanged', check);
    check();
  });
}

describe('multi-device messaging', () => {
  it('when Alice (1 device) and Bob (2 devices) talk in a direct and a group chat, then every device decrypts everything meant for it', async () => {
    const alice = await signUp('alice');
    const bob = await signUp('bob', 'bob laptop');
    const carol = await signUp('carol');
    const bob2 = await logInAgain(bob.input, 'bob phone');
    expect(bob2.result.identity).toBe('restored');
    expect(await bob2.client.deviceId()).not.toBe(await bob.client.deviceId());

    const direct = await alice.client.createConversation({ kind: 'direct', memberIds: [bob.client.user.id] });
    // Alice is a stranger to Bob: he accepts her request, else no receipt or typing of his goes.
    await bob.client.acceptRequest(direct.id);
    // Alice has never seen Bob's phone: the server answers stale_devices, the client fetches its bundle and retries.
    await sendAndExpect(alice.client, direct.id, 'hi Bob, both of you', [bob.client, bob2.client]);
    // Bob's second device sees what Bob sent from the first (a sync copy, marked as mine).
    const { got } = await sendAndExpect(bob.client, direct.id, 'hi Alice, from the laptop', [alice.client, bob2.client]);
    expect(got[0]?.direction).toBe('in');
    expect(got[1]?.direction).toBe('out');
    await sendAndExpect(bob2.client, direct.id, 'and from the phone', [alice.client, bob.client]);

    const group = await alice.client.createConversation({
      kind: 'group',
      title: 'three of us',
      memberIds: [bob.client.user.id, carol.client.user.id],
    });
    await sendAndExpect(alice.client, group.id, 'hello group', [bob.client, bob2.client, carol.client]);
    await sendAndExpect(carol.client, group.id, 'hello from carol', [alice.client, bob.client, bob2.client]);
    await sendAndExpect(bob2.client, group.id, 'bob phone in the group', [alice.client, bob.client, carol.client]);

    // History survives in each device's store, in order.
    expect((await bob2.client.history(group.id)).filter((m) => m.kind !== 'event').map((m) => m.text)).toEqual([
      'hello group',
      'hello from carol',
      'bob phone in the group',
    ]);

    // Read receipts travel as encrypted messages and update the sender's history.
    const [first] = await alice.client.history(direct.id);
    const delivered = alice.client.next('receipt', (r) => r.type === 'delivered');
    await bob2.client.markDelivered(direct.id, [first!.id]);
    expect(await delivered).toMatchObject({ fromUserId: bob.client.user.id, messageIds: [first!.id] });
    expect((await alice.client.store.getMessage(first!.id))?.status).toBe('delivered');
    const receipt = alice.client.next('receipt', (r) => r.type === 'read');
    const syncedRead = bob2.client.next('receipt', (r) => r.type === 'read');
    await bob.client.markRead(direct.id, [first!.id]);
    expect(await receipt).toMatchObject({ fromUserId: bob.client.user.id, messageIds: [first!.id] });
    expect((await alice.client.store.getMessage(first!.id))?.status).toBe('read');
    // Bob's phone learns he read it on the laptop.
    await syncedRead;
    expect((await bob2.client.store.getMessage(first!.id))?.status).toBe('read');

    // Typing reaches the other members (metadata only).
    const typing = bob.client.next('typing', (t) => t.userId === alice.client.user.id);
    await alice.client.setTyping(direct.id, true);
    expect(await typing).toMatchObject({ conversationId: direct.id, on: true });

    // An attachment: ciphertext on the server; key and digest inside the message.
    const file = utf8(`${MARKER} in a file`);
    const incoming = bob2.client.next('message', (m) => m.kind === 'attachment');
    await alice.client.sendAttachment(direct.id, file, { contentType: 'text/plain', fileName: 'note.txt' });
    const att = await incoming;
    expect(new TextDecoder().decode(await bob2.client.downloadAttachment(att.attachment!))).toBe(`${MARKER} in a file`);
  });
});

describe('group membership changes', () => {
  it('when a member is added or removed behind the sender\'s cached member list, then the next send adapts and only current members read it', async () => {
    const alice = await signUp('alice');
    const bob = await signUp('bob');
    const carol = await signUp('carol');
    const dave = await signUp('dave');
    const group = await alice.client.createConversation({
      kind: 'group',
      title: 'changing',
      memberIds: [bob.client.user.id, carol.client.user.id],
    });
    await sendAndExpect(alice.client, group.id, 'three members', [bob.client, carol.client]);
    // The owner changes the membership (server first, then an end-to-end control message): the
    // other members' cached member lists are stale until conversation:updated; either way they adapt.
    await alice.client.groups.add(group.id, [dave.client.user.id]);
    await sendAndExpect(alice.client, group.id, 'welcome dave', [bob.client, carol.client, dave.client]);
    let carolGotIt = false;
    void messageWith(carol.client, 'carol is gone').then(() => {
      carolGotIt = true;
    });
    await alice.client.groups.remove(group.id, carol.client.user.id);
    await sendAndExpect(alice.client, group.id, 'carol is gone', [bob.client, dave.client]);
    // Carol's sessions with Alice still work in their direct chat.
    const direct = await alice.client.createConversation({ kind: 'direct', memberIds: [carol.client.user.id] });
    await sendAndExpect(alice.client, direct.id, 'still friends', [carol.client]);
    expect(carolGotIt).toBe(false);
  });
});

describe('restoring an identity', () => {
  it('when Bob logs in on a fresh device with only email and password, or resets his password with the recovery key, then his identity and safety number are unchanged', async () => {
    const alice = await signUp('alice');
    const bob = await signUp('bob');
    const direct = await alice.client.createConversation({ kind: 'direct', memberIds: [bob.client.user.id] });
    await sendAndExpect(alice.client, direct.id, 'before restore', [bob.client]);
    const aliceView = (await alice.client.safetyNumber(bob.client.user.id)).digits;
    const bobView = (await bob.client.safetyNumber(alice.client.user.id)).digits;
    expect(bobView).toBe(aliceView);
    const bobKey = toBase64((await bob.client.store.getLocalIdentity())!.identityKeyPair.pubKey);
    await bob.client.flushBackup();
    bob.client.disconnect();

    // 1. A fresh device: nothing local, only email + password.
    const fresh = await logInAgain(bob.input, 'bob new laptop');
    expect(fresh.result.identity).toBe('restored');
    expect(toBase64((await fresh.client.store.getLocalIdentity())!.identityKeyPair.pubKey)).toBe(bobKey);
    expect((await fresh.client.safetyNumber(alice.client.user.id)).digits).toBe(aliceView);
    await sendAndExpect(alice.client, direct.id, 'to the new laptop', [fresh.client]);
    expect((await alice.client.safetyNumber(bob.client.user.id)).digits).toBe(aliceView);
    expect(await alice.client.identityStatus(bob.client.user.id)).toBe('trusted');
    fresh.client.disconnect();

    // 2. Forgotten password: reset by email, then restore with the recovery key.
    const token = await resetToken(fresh.client, bob.input.email, bob.client.user.id);
    const newPassword = `${bob.input.password} but new`;
    secrets.push(newPassword);
    const resetClient = stack.client('bob after reset');
    const result = await resetClient.resetPassword({
      token: token!,
      newPassword,
      recoveryKey: bob.recoveryKey,
      email: bob.input.email,
    });
    expect(result?.identity).toBe('restored');
    expect(toBase64((await resetClient.store.getLocalIdentity())!.identityKeyPair.pubKey)).toBe(bobKey);
    expect((await resetClient.safetyNumber(alice.client.user.id)).digits).toBe(aliceView);
    await sendAndExpect(alice.client, direct.id, 'after the reset', [resetClient]);
    expect(await alice.client.identityStatus(bob.client.user.id)).toBe('trusted');

    // The backup was re-wrapped under the new password: another device opens it without the recovery key.
    await resetClient.flushBackup();
    const again = await logInAgain({ email: bob.input.email, password: newPassword }, 'bob tablet');
    expect(again.result.identity).toBe('restored');
    expect(toBase64((await again.client.store.getLocalIdentity())!.identityKeyPair.pubKey)).toBe(bobKey);
    // The old password no longer logs in.
    await expect(stack.client('x').logIn(bob.input)).rejects.toMatchObject({ code: 'invalid_credentials' });
  });
});

describe('independent checks with @signalapp/libsignal-client', () => {
  it('when bundles come back from chat-service, then libsignal verifies every signed prekey and computes the same safety number', async () => {
    const alice = await signUp('alice');
    const bob = await signUp('bob');
    await logInAgain(bob.input, 'bob second');
    // Bundles are only for people who share a conversation: Alice opens one, as before any first message.
    await alice.client.createConversation({ kind: 'direct', memberIds: [bob.client.user.id] });
    const bundle = await alice.client.api.chat.keyBundle(bob.client.user.id);
    expect(bundle.devices).toHaveLength(2);
    const bobKey = PublicKey.deserialize(fromBase64(bundle.identityKey));
    for (const d of bundle.devices) {
      const spk = fromBase64(d.signedPreKey.publicKey);
      const sig = fromBase64(d.signedPreKey.signature);
      expect(spk).toHaveLength(33);
      expect(sig).toHaveLength(64);
      expect(bobKey.verify(spk, sig)).toBe(true);
    }
    const aliceKey = (await alice.client.store.getLocalIdentity())!.identityKeyPair.pubKey;
    const ours = await alice.client.safetyNumber(bob.client.user.id);
    const reference = Fingerprint.new(
      5200,
      2,
      utf8(alice.client.user.id),
      PublicKey.deserialize(aliceKey as Uint8Array<ArrayBuffer>),
      utf8(bob.client.user.id),
      bobKey,
    );
    expect(ours.digits).toBe(reference.displayableFingerprint().toString());
    expect(ours.qrPayload).toBe(toBase64(reference.scannableFingerprint().toBuffer()));
  });
});

describe('identity change', () => {
  it('when Bob starts a new identity, then his first message to Alice is refused and her sends are blocked until she accepts the new key', async () => {
    const alice = await signUp('alice');
    const bob = await signUp('bob');
    const direct = await alice.client.createConversation({ kind: 'direct', memberIds: [bob.client.user.id] });
    await sendAndExpect(alice.client, direct.id, 'hello old Bob', [bob.client]);
    await sendAndExpect(bob.client, direct.id, 'hello Alice', [alice.client]);
    const before = (await alice.client.safetyNumber(bob.client.user.id)).digits;
    bob.client.disconnect();

    // Bob resets his password without the recovery key: a brand-new identity on a new device.
    const token = await resetToken(stack.client('x'), bob.input.email, bob.client.user.id);
    const newBob = stack.client('new bob');
    const newPassword = `${bob.input.password} v2`;
    secrets.push(newPassword);
    const result = await newBob.resetPassword({ token: token!, newPassword, email: bob.input.email });
    expect(result?.identity).toBe('created');
    expect(result?.recoveryKey).toBeTruthy();
    secrets.push(result!.recoveryKey!);

    // New Bob writes first: Alice's client refuses the PreKeyWhisper (patched processV3) and warns.
    const warned = alice.client.next('identityChanged', (c) => c.userId === bob.client.user.id);
    const delivered = messageWith(alice.client, 'it is me, new phone');
    let deliveredEarly = false;
    void delivered.then(() => {
      deliveredEarly = true;
    });
    await newBob.sendText(direct.id, 'it is me, new phone');
    await warned;
    expect(deliveredEarly).toBe(false);
    expect(await alice.client.identityStatus(bob.client.user.id)).toBe('untrusted');

    // Alice's next send is blocked with a typed error.
    const blocked = await alice.client.sendText(direct.id, 'are you really Bob?').catch((e: unknown) => e);
    expect(blocked).toBeInstanceOf(UntrustedIdentityError);
    expect((blocked as UntrustedIdentityError).userId).toBe(bob.client.user.id);
    const after = (await alice.client.safetyNumber(bob.client.user.id)).digits;
    expect(after).not.toBe(before);

    // She compares safety numbers, accepts: the held message is delivered, and sending works.
    expect((await newBob.safetyNumber(alice.client.user.id)).digits).toBe(after);
    await alice.client.acceptIdentity(bob.client.user.id);
    expect((await delivered).senderUserId).toBe(bob.client.user.id);
    await sendAndExpect(alice.client, direct.id, 'welcome back', [newBob]);
  });
});

describe('tampering by the server', () => {
  it('when an envelope is bit-flipped, replayed, or re-addressed to another device, then it fails cleanly, the sessions keep working, and the genuine message comes back once through a retry', async () => {
    const alice = await signUp('alice');
    const bob = await signUp('bob', 'bob 1');
    const bob2 = await logInAgain(bob.input, 'bob 2');
    const direct = await alice.client.createConversation({ kind: 'direct', memberIds: [bob.client.user.id] });
    // Retries follow the message-request rules: Bob accepts Alice's request first.
    await bob.client.acceptRequest(direct.id);
    await sendAndExpect(alice.client, direct.id, 'setup', [bob.client, bob2.client]);
    const d1 = (await bob.client.deviceId())!;
    const d2 = (await bob2.client.deviceId())!;
    const failures: Array<{ device: number; code: string }> = [];
    bob.client.on('decryptFailed', (e) => failures.push({ device: d1, code: e.code }));
    bob2.client.on('decryptFailed', (e) => failures.push({ device: d2, code: e.code }));
    const forDevice = (envs: OutgoingEnvelope[], d: number) => envs.find((e) => e.userId === bob.client.user.id && e.deviceId === d)!;

    // 1. A flipped bit in the envelope for Bob's device 1.
    let failed = bob.client.next('decryptFailed');
    let ok = messageWith(bob2.client, 'flip');
    await alice.client.sendTextWithEnvelopes(direct.id, 'flip', (envs) => {
      const e = forDevice(envs, d1);
      const body = fromBase64(e.body);
      body[Math.floor(body.length / 2)] = (body[Math.floor(body.length / 2)] ?? 0) ^ 0x04;
      e.body = toBase64(body);
      return envs;
    });
    expect((await failed).code).toBe('invalid_message');
    await ok;
    await sendAndExpect(alice.client, direct.id, 'after flip', [bob.client, bob2.client]);

    // 2. A replayed envelope: an old ciphertext for device 1 delivered again under a new message.
    let recorded: OutgoingEnvelope | undefined;
    await alice.client.sendTextWithEnvelopes(direct.id, 'original', (envs) => {
      recorded = { ...forDevice(envs, d1) };
      return envs;
    });
    failed = bob.client.next('decryptFailed');
    ok = messageWith(bob2.client, 'carrier');
    await alice.client.sendTextWithEnvelopes(direct.id, 'carrier', (envs) =>
      envs.map((e) => (e.userId === bob.client.user.id && e.deviceId === d1 ? { ...recorded! } : e)),
    );
    expect((await failed).code).toBe('duplicate_message');
    await ok;
    await sendAndExpect(alice.client, direct.id, 'after replay', [bob.client, bob2.client]);

    // 3. Re-addressed: device 1's ciphertext delivered to device 2 and vice versa.
    const failedBoth = Promise.all([bob.client.next('decryptFailed'), bob2.client.next('decryptFailed')]);
    await alice.client.sendTextWithEnvelopes(direct.id, 'swapped', (envs) => {
      const a = forDevice(envs, d1);
      const b = forDevice(envs, d2);
      [a.body, b.body] = [b.body, a.body];
      return envs;
    });
    await failedBoth;
    await sendAndExpect(alice.client, direct.id, 'after swap', [bob.client, bob2.client]);
    await sendAndExpect(bob.client, direct.id, 'bob still talks', [alice.client, bob2.client]);

    // 4. Moved to another conversation: the envelope says group, the ciphertext says direct.
    const group = await alice.client.createConversation({ kind: 'group', title: 'g', memberIds: [bob.client.user.id] });
    let captured: OutgoingEnvelope | undefined;
    failed = bob.client.next('decryptFailed');
    await alice.client.sendTextWithEnvelopes(direct.id, 'moved', (envs) => {
      const e = forDevice(envs, d1);
      captured = { ...e };
      // Device 1 gets garbage now; the real ciphertext is delivered below under the group's id.
      e.body = toBase64(new Uint8Array(64).fill(7));
      return envs;
    });
    expect((await failed).code).toBe('invalid_message');
    failed = bob.client.next('decryptFailed');
    await bob.client.receive({
      messageId: crypto.randomUUID(),
      conversationId: group.id,
      senderUserId: alice.client.user.id,
      senderDeviceId: (await alice.client.deviceId())!,
      type: captured!.type,
      body: captured!.body,
      serverTimestamp: new Date().toISOString(),
    });
    expect((await failed).code).toBe('conversation_mismatch');
    expect((await bob.client.history(group.id)).map((m) => m.text)).not.toContain('moved');
    await sendAndExpect(alice.client, direct.id, 'after move', [bob.client, bob2.client]);

    expect(failures.map((f) => f.code).sort()).toEqual([
      'conversation_mismatch',
      'duplicate_message',
      'invalid_message',
      'invalid_message',
      'invalid_message',
      'invalid_message',
    ]);
    // No tampered text surfaced on device 1: each failure asked Alice's device again (docs/client.md
    // "Decrypt failures and retries"), and her genuine message arrived once, through the retry.
    for (const c of [bob.client, bob2.client]) await allResolved(c);
    const texts = (await bob.client.history(direct.id)).map((m) => m.text);
    for (const t of ['flip', 'swapped', 'moved']) expect(texts.filter((x) => x === t)).toEqual([t]);
    expect(bob.client.retries.stats()).toMatchObject({ unresolved: 0, resolved: 3 });
  });
});

describe('the server never sees plaintext', () => {
  it('when Alice sends a marker string, then it appears nowhere in a full pg_dump, the RabbitMQ messages, Redis, the attachment store, the mails or any service log (user, chat, notification)', async () => {
    const alice = await signUp('alice');
    const bob = await signUp('bob');
    const bobOffline = await logInAgain(bob.input, 'bob offline');
    const direct = await alice.client.createConversation({ kind: 'direct', memberIds: [bob.client.user.id] });
    const group = await alice.client.createConversation({ kind: 'group', title: 'marker group', memberIds: [bob.client.user.id] });
    // Bob accepts Alice's requests: they are contacts (he sees her presence, she his).
    await bob.client.acceptRequest(direct.id);
    await bob.client.acceptRequest(group.id);
    await sendAndExpect(alice.client, direct.id, 'warm up', [bob.client, bobOffline.client]);
    // Bob is offline: the marker's ciphertexts wait in his mailboxes during the dump, and
    // chat-service publishes chat.message_queued.v1 for him (metadata only).
    const wentOffline = alice.client.next('presence', (p) => p.userId === bob.client.user.id && !p.online);
    bob.client.disconnect();
    bobOffline.client.disconnect();
    await wentOffline;
    await alice.client.sendText(direct.id, `${MARKER} direct`);
    await alice.client.sendText(group.id, `${MARKER} group`);
    await alice.client.sendAttachment(direct.id, utf8(`${MARKER} attachment`), { contentType: 'text/plain', fileName: `${MARKER}.txt` });
    // Issue 16's kinds carry text too: a reply quoting the marker, an edit to it, a mention, a
    // reaction (an emoji sequence the scan looks for as well) and a disappearing timer.
    const warmUp = (await alice.client.history(direct.id)).find((m) => m.text === 'warm up')!;
    const draft = await alice.client.sendText(direct.id, `${MARKER} reply`, { replyTo: warmUp.id });
    await alice.client.actions.edit(draft.id, `${MARKER} edit`);
    await alice.client.actions.react(warmUp.id, REACTION);
    await alice.client.sendText(group.id, `${MARKER} mention @bob`, { mentions: [bob.client.user.id] });
    await alice.client.setDisappearingTimer(direct.id, 3600);
    await alice.client.flushBackup();
    await bob.client.flushBackup();
    const queued = await stack.waitForBus((m) => m.routingKey.startsWith('chat.message_queued') && m.body.includes(group.id));
    // notification-service consumed it too (it keeps digest metadata and logs at debug level).
    const queuedId = (JSON.parse(queued.body) as { id: string }).id;
    const consumed = await stack.waitForNotify((e) => e.eventId === queuedId && e.result !== 'retry');
    expect(consumed.result).toBe('ack');

    const dump = await stack.dump();
    const bus = stack.busMessages.map((m) => `${m.routingKey} ${m.body}`).join('\n');
    const logs = `${stack.userLogs.text()}\n${stack.chatLogs.text()}\n${stack.notifyLogs.text()}`;
    const mails = stack.mails.join('\n');
    const blobs = await stack.attachmentFiles();
    const redis = await stack.redisDump();

    // The scans are not vacuous: each place holds this test's activity.
    expect(dump).toContain(direct.id);
    expect(dump).toContain(alice.input.username);
    expect(bus).toContain(group.id);
    expect(logs.length).toBeGreaterThan(1000);
    expect(stack.notifyLogs.text()).toContain('notification-service');
    expect(mails).toContain(alice.input.email); // its mails (verification links) were scanned too
    expect(dump).toContain('CREATE SCHEMA notify'); // notification-service's tables are in the dump
    expect(blobs.length).toBeGreaterThan(0);
    expect(redis).toContain('t:client:'); // rate-limit, presence and login-state keys of this run

    const forms = (s: string) => [s, toBase64(utf8(s)), Buffer.from(s).toString('hex')];
    for (const [place, text] of Object.entries({ dump, bus, logs, mails, blobs, redis })) {
      for (const form of [...forms(MARKER), ...forms(REACTION)]) expect(text, `marker in ${place}`).not.toContain(form);
      for (const secret of secrets) {
        for (const form of forms(secret)) expect(text, `a password or recovery key in ${place}`).not.toContain(form);
      }
    }
    // No private key material either: Alice's identity private key, in any encoding.
    const priv = (await alice.client.store.getLocalIdentity())!.identityKeyPair.privKey;
    for (const form of [toBase64(priv), Buffer.from(priv).toString('hex')]) {
      expect(dump + bus + logs).not.toContain(form);
    }

    // And the ciphertexts that sat in the mailbox are real: Bob's device decrypts them on reconnect.
    const direct1 = messageWith(bobOffline.client, `${MARKER} direct`);
    const group1 = messageWith(bobOffline.client, `${MARKER} group`);
    await bobOffline.client.connect();
    await Promise.all([direct1, group1]);
    // ... and so are the edit, the reaction and the timer that waited with them.
    await vi.waitFor(async () => {
      const edited = await bobOffline.client.store.getMessage(draft.id);
      expect(edited).toMatchObject({ text: `${MARKER} edit`, replyTo: { id: warmUp.id } });
      expect((await bobOffline.client.store.getMessage(warmUp.id))?.reactions?.[alice.client.user.id]?.emoji).toBe(REACTION);
      expect(bobOffline.client.disappearingTimer(direct.id)).toBe(3600);
    }, { timeout: 20_000 });
  });
});
