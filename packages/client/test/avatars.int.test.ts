import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encryptAttachment } from '../src/attachments/attachment-crypto.js';
import type { ChatClient } from '../src/client/chat-client.js';
import { META_AVATARS, type AvatarIndex } from '../src/client/avatars.js';
import { fromBase64, toBase64 } from '../src/protocol/bytes.js';
import { sendRawPlaintext } from '../src/testing/raw-plaintext.js';
import { ApiError } from '../src/transport/api-error.js';
import { account, messageWith, startStack, type Stack } from './support/stack.js';

/**
 * Profile pictures against the real services: encrypted like attachments, shared end to end
 * with the people I share an accepted conversation with (and my other devices), never with a
 * request or someone I blocked; a request's pictures wait for its acceptance; a blob that does
 * not match its digest is refused; removal reaches everyone and deletes the blob.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

/** A 1×1 PNG (its bytes, as a browser's canvas would make one). */
const PNG = fromBase64(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
);
/** Another picture (different bytes, same magic). */
const PNG2 = new Uint8Array([...PNG, 0, 1, 2, 3]);

async function signUp(tag: string): Promise<ChatClient> {
  const client = stack.client(tag);
  await client.signUp(account(tag));
  return client;
}

/** Resolves with the next `avatarChanged` for `userId`. */
function changed(c: ChatClient, userId: string): Promise<unknown> {
  return c.next('avatarChanged', (a) => a.userId === userId);
}

async function indexOf(c: ChatClient): Promise<AvatarIndex> {
  return ((await c.store.getMeta(META_AVATARS)) ?? { users: {}, blobs: {} }) as AvatarIndex;
}

/** Alice and Bob in an accepted direct chat (Bob read her first message). */
async function contacts(a: ChatClient, b: ChatClient): Promise<string> {
  const direct = await a.createConversation({ kind: 'direct', memberIds: [b.user.id] });
  const hello = messageWith(b, 'hello');
  await a.sendText(direct.id, 'hello');
  await hello;
  await b.acceptRequest(direct.id);
  return direct.id;
}

describe('profile pictures', () => {
  it('when Alice sets a picture, then Bob (a contact) and her other device get it decrypted, the server holds only ciphertext, and removing it reaches both and deletes the blob', async () => {
    const alice = await signUp('alice');
    const bob = await signUp('bob');
    await contacts(alice, bob);

    const onBob = changed(bob, alice.user.id);
    await alice.avatars.set(PNG);
    await onBob;
    const got = await bob.avatars.image(alice.user.id);
    expect(got?.contentType).toBe('image/png');
    expect(toBase64(got!.bytes)).toBe(toBase64(PNG));
    expect(toBase64((await alice.avatars.image(alice.user.id))!.bytes)).toBe(toBase64(PNG));

    // The server's blobs are ciphertext: neither the picture nor its PNG signature is there.
    const files = await stack.attachmentFiles();
    expect(files).not.toContain(Buffer.from(PNG).toString('latin1'));
    expect(files).not.toContain('\x89PNG');

    // A new picture replaces the old one everywhere; the old blob is gone.
    const oldPointer = (await indexOf(bob)).users[alice.user.id]?.pointer;
    expect(oldPointer).toBeDefined();
    const again = changed(bob, alice.user.id);
    await alice.avatars.set(PNG2);
    await again;
    expect(toBase64((await bob.avatars.image(alice.user.id))!.bytes)).toBe(toBase64(PNG2));
    await expect(bob.api.chat.downloadAttachment(oldPointer!.id)).rejects.toMatchObject({
      status: 404,
    });

    // Removal: Bob shows none, and the blob answers 404.
    const current = (await indexOf(bob)).users[alice.user.id]?.pointer;
    const removed = changed(bob, alice.user.id);
    await alice.avatars.remove();
    await removed;
    expect(await bob.avatars.image(alice.user.id)).toBeUndefined();
    expect(await alice.avatars.image(alice.user.id)).toBeUndefined();
    await expect(bob.api.chat.downloadAttachment(current!.id)).rejects.toMatchObject({
      status: 404,
    });
  });

  it('when Alice has a second device, then a picture set on one shows on the other', async () => {
    const input = account('alice');
    const laptop = stack.client('laptop');
    await laptop.signUp(input);
    const phone = stack.client('phone');
    await phone.logIn(input);
    const bob = await signUp('bob');
    await contacts(laptop, bob);
    const onPhone = changed(phone, laptop.user.id);
    await laptop.avatars.set(PNG);
    await onPhone;
    expect(toBase64((await phone.avatars.image(laptop.user.id))!.bytes)).toBe(toBase64(PNG));
  });

  it('when a stranger writes to Carol, then Carol does not download his picture until she accepts, and he gets hers only then', async () => {
    const mallory = await signUp('mallory');
    const carol = await signUp('carol');
    await mallory.avatars.set(PNG);
    await carol.avatars.set(PNG2); // no conversation yet: nobody gets it
    const direct = await mallory.createConversation({ kind: 'direct', memberIds: [carol.user.id] });
    // The picture arrives inside the request: known, not downloaded.
    await vi.waitFor(
      async () => expect((await indexOf(carol)).users[mallory.user.id]?.state).toBe('pending'),
      { timeout: 20_000 },
    );
    expect(await carol.avatars.image(mallory.user.id)).toBeUndefined();
    // Carol's picture never went to the request.
    expect(Object.keys((await indexOf(carol)).blobs)).not.toContain(direct.id);

    const onCarol = changed(carol, mallory.user.id);
    const onMallory = changed(mallory, carol.user.id);
    await carol.acceptRequest(direct.id);
    await Promise.all([onCarol, onMallory]);
    expect(toBase64((await carol.avatars.image(mallory.user.id))!.bytes)).toBe(toBase64(PNG));
    expect(toBase64((await mallory.avatars.image(carol.user.id))!.bytes)).toBe(toBase64(PNG2));
  });

  it('when Alice blocked Dave, then her new picture goes to Bob but not to Dave', async () => {
    const alice = await signUp('alice');
    const bob = await signUp('bob');
    const dave = await signUp('dave');
    await contacts(alice, bob);
    const withDave = await contacts(dave, alice);
    await alice.block(dave.user.id);
    const onBob = changed(bob, alice.user.id);
    await alice.avatars.set(PNG);
    await onBob;
    expect(Object.keys((await indexOf(alice)).blobs)).not.toContain(withDave);
    // Dave's conversation got no picture: what Alice sends there after it arrives without one.
    const marker = messageWith(dave, 'after the picture');
    await alice.sendText(withDave, 'after the picture');
    await marker;
    expect((await indexOf(dave)).users[alice.user.id]).toBeUndefined();
  });

  it('when Alice has a picture and adds Dave to a group, then Dave gets it once he accepts the group, and Bob (already a member) keeps it', async () => {
    const alice = await signUp('alice');
    const bob = await signUp('bob');
    const dave = await signUp('dave');
    await alice.avatars.set(PNG);
    const onBob = changed(bob, alice.user.id);
    const group = await alice.createConversation({ kind: 'group', memberIds: [bob.user.id] });
    const ready = messageWith(bob, 'group ready');
    await alice.sendText(group.id, 'group ready');
    await ready;
    await bob.acceptRequest(group.id);
    await onBob;

    const added = dave.next('message', (m) => m.kind === 'event' && m.event?.type === 'added');
    await alice.groups.add(group.id, [dave.user.id]);
    await added;
    // The picture comes to Dave inside a group he has not accepted yet: known, not downloaded.
    await vi.waitFor(
      async () => expect((await indexOf(dave)).users[alice.user.id]?.state).toBe('pending'),
      { timeout: 20_000 },
    );
    const onDave = changed(dave, alice.user.id);
    await dave.acceptRequest(group.id);
    await onDave;
    expect(toBase64((await dave.avatars.image(alice.user.id))!.bytes)).toBe(toBase64(PNG));
    expect(toBase64((await bob.avatars.image(alice.user.id))!.bytes)).toBe(toBase64(PNG));
  });

  it('when a contact sends a picture whose blob does not match its digest, then it is refused and none is shown', async () => {
    const mallory = await signUp('mallory');
    const bob = await signUp('bob');
    const direct = await contacts(mallory, bob);
    const enc = await encryptAttachment(PNG);
    const up = await mallory.api.chat.uploadAttachment(direct, enc.ciphertext);
    const other = await encryptAttachment(PNG2);
    const refused = bob.next('avatarRefused', (r) => r.userId === mallory.user.id);
    await sendRawPlaintext(mallory, direct, {
      v: 2,
      kind: 'avatar',
      avatar: {
        pointer: {
          id: up.id,
          key: enc.key,
          digest: other.digest,
          size: enc.size,
          contentType: 'image/png',
        },
        setAt: Date.now(),
      },
    });
    const r = (await refused) as { reason: string };
    expect(r.reason).toBe('integrity');
    expect(await bob.avatars.image(mallory.user.id)).toBeUndefined();
  });

  it('when the picture is not an image or too large, then setting it is refused with a clear code and nothing is sent', async () => {
    const alice = await signUp('alice');
    await expect(alice.avatars.set(new TextEncoder().encode('not an image'))).rejects.toMatchObject(
      { code: 'avatar_not_image' },
    );
    const big = new Uint8Array(1024 * 1024 + 1);
    big.set(PNG.slice(0, 8));
    await expect(alice.avatars.set(big)).rejects.toBeInstanceOf(ApiError);
    await expect(alice.avatars.set(big)).rejects.toMatchObject({ code: 'avatar_too_large' });
    expect(await alice.avatars.image(alice.user.id)).toBeUndefined();
  });
});
