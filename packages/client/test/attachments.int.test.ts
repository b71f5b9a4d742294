import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttachmentTooLargeError } from '../src/client/attachment-transfer.js';
import type { StoredMessage } from '../src/messages/message.schema.js';
import { randomBytes, toBase64 } from '../src/protocol/bytes.js';
import { mediaKey } from '../src/storage/media-cache.js';
import { account, startStack, type Stack } from './support/stack.js';

/**
 * Attachments against the real services: the server's limit is read from `GET /api/chat/config`
 * and a larger file is refused before it is encrypted or uploaded; a thumbnail and a voice flag
 * travel inside the encrypted message; a decrypted file is cached (downloaded once) and the cache
 * is emptied when its message is deleted.
 */

const LIMIT = 64 * 1024; // ciphertext bytes the test server accepts
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ ATTACHMENT_MAX_BYTES: String(LIMIT) });
});
afterAll(async () => {
  await stack?.close();
});

/** A client whose HTTP requests are recorded (`METHOD path`). */
async function person(tag: string, now: () => number = Date.now) {
  const requests: string[] = [];
  const client = stack.client(tag, {
    now,
    fetch: (input, init) => {
      requests.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
      return fetch(input, init);
    },
  });
  await client.signUp(account(tag));
  return { client, requests };
}

async function pair(now?: () => number) {
  const alice = await person('alice', now);
  const bob = await person('bob', now);
  const conv = await alice.client.createConversation({
    kind: 'direct',
    memberIds: [bob.client.user.id],
  });
  await bob.client.acceptRequest(conv.id);
  return { alice, bob, conv };
}

const thumbnail = {
  contentType: 'image/jpeg' as const,
  width: 32,
  height: 24,
  // A JPEG header declaring 32×24 (checked against width/height on receipt), then filler.
  data: toBase64(
    new Uint8Array([
      ...[0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 0x11, 8, 0, 24, 0, 32, 3],
      ...randomBytes(900),
    ]),
  ),
};

describe('attachments', () => {
  it('when a file is over the server limit, then it is refused before encryption, naming the limit, and nothing is uploaded', async () => {
    const { alice, conv } = await pair();
    expect(await alice.client.maxAttachmentBytes()).toBe(LIMIT - 28);
    const before = alice.requests.length;
    const filesBefore = (await readdir(stack.attachmentsDir)).length;
    let progressed = false;
    const err = await alice.client
      .sendAttachment(
        conv.id,
        randomBytes(LIMIT),
        { contentType: 'application/octet-stream' },
        { onProgress: () => (progressed = true) },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AttachmentTooLargeError);
    expect((err as AttachmentTooLargeError).code).toBe('attachment_too_large');
    expect((err as Error).message).toBe(
      'This file is 64 KB; the server accepts files up to 64 KB.',
    );
    expect((err as AttachmentTooLargeError).details).toEqual({ size: LIMIT, maxBytes: LIMIT - 28 });
    expect(alice.requests.slice(before).filter((r) => r.includes('/attachments'))).toEqual([]);
    expect(progressed).toBe(false);
    expect((await readdir(stack.attachmentsDir)).length).toBe(filesBefore);
    expect(await alice.client.history(conv.id)).toEqual([]);
    // At the limit it goes through.
    await alice.client.sendAttachment(conv.id, randomBytes(LIMIT - 28), {
      contentType: 'application/octet-stream',
    });
  });

  it('when Alice sends a photo with a thumbnail and a voice note, then Bob gets both fields, downloads each file once with progress, and the cache is emptied on delete', async () => {
    const { alice, bob, conv } = await pair();
    const photoBytes = randomBytes(20_000);
    const gotPhoto = bob.client.next(
      'message',
      (m) => m.kind === 'attachment' && m.attachment?.fileName === 'p.jpg',
    ) as Promise<StoredMessage>;
    const uploads: number[] = [];
    const sent = await alice.client.sendAttachment(
      conv.id,
      photoBytes,
      { contentType: 'image/jpeg', fileName: 'p.jpg', thumbnail },
      { onProgress: (p) => uploads.push(p.loaded) },
    );
    expect(uploads.at(-1)).toBe(photoBytes.length + 28);
    const photo = await gotPhoto;
    expect(photo.attachment?.thumbnail).toEqual(thumbnail);
    expect(photo.unknownFields).toBeUndefined();

    const gotVoice = bob.client.next(
      'message',
      (m) => m.attachment?.voice !== undefined,
    ) as Promise<StoredMessage>;
    await alice.client.sendAttachment(conv.id, randomBytes(3000), {
      contentType: 'audio/webm',
      fileName: 'voice.webm',
      voice: { durationMs: 2500 },
    });
    expect((await gotVoice).attachment?.voice).toEqual({ durationMs: 2500 });

    // Bob opens the photo twice: one download, with progress up to the blob's size.
    const downloads = () =>
      bob.requests.filter((r) => r === `GET /api/chat/attachments/${photo.attachment!.id}`).length;
    const progress: Array<{ loaded: number; total: number | undefined }> = [];
    expect(
      await bob.client.downloadAttachment(photo.attachment!, {
        onProgress: (p) => progress.push(p),
      }),
    ).toEqual(photoBytes);
    expect(await bob.client.downloadAttachment(photo.attachment!)).toEqual(photoBytes);
    expect(downloads()).toBe(1);
    expect(progress.at(-1)).toEqual({
      loaded: photoBytes.length + 28,
      total: photoBytes.length + 28,
    });
    expect(await bob.client.store.getMedia(mediaKey(photo.attachment!))).toEqual(photoBytes);
    // Alice's own upload is cached: she opens it without a download.
    expect(await alice.client.downloadAttachment(sent.attachment!)).toEqual(photoBytes);
    expect(alice.requests.filter((r) => r.startsWith('GET /api/chat/attachments/'))).toEqual([]);

    // Delete for everyone: the tombstone takes the cached file on both sides.
    const bobSeesDelete = bob.client.next(
      'messageChanged',
      (m) => m.id === photo.id && m.deletedAt !== undefined,
    );
    await alice.client.actions.deleteForEveryone(sent.id);
    await bobSeesDelete;
    expect(await bob.client.store.getMedia(mediaKey(photo.attachment!))).toBeUndefined();
    expect(await alice.client.store.getMedia(mediaKey(photo.attachment!))).toBeUndefined();
  });

  it('when a message with a cached file disappears or is deleted for me, then the cached file goes with it', async () => {
    const clock = { offsetMs: 0 };
    const { alice, bob, conv } = await pair(() => Date.now() + clock.offsetMs);
    const got = bob.client.next(
      'message',
      (m) => m.kind === 'attachment',
    ) as Promise<StoredMessage>;
    await alice.client.sendAttachment(conv.id, randomBytes(1000), {
      contentType: 'application/pdf',
      fileName: 'a.pdf',
    });
    const m = await got;
    await bob.client.downloadAttachment(m.attachment!);
    expect(await bob.client.store.getMedia(mediaKey(m.attachment!))).toBeDefined();
    await bob.client.actions.deleteForMe(m.id);
    expect(await bob.client.store.getMedia(mediaKey(m.attachment!))).toBeUndefined();

    await alice.client.setDisappearingTimer(conv.id, 300);
    const sent = await alice.client.sendAttachment(conv.id, randomBytes(1000), {
      contentType: 'application/pdf',
      fileName: 'b.pdf',
    });
    expect(await alice.client.store.getMedia(mediaKey(sent.attachment!))).toBeDefined();
    const gone = alice.client.next('messagesExpired', (x) => x.messageIds.includes(sent.id));
    clock.offsetMs = 301_000; // mine disappear 5 minutes after sending
    await alice.client.sweepExpired();
    await gone;
    expect(await alice.client.store.getMedia(mediaKey(sent.attachment!))).toBeUndefined();
  });
});
