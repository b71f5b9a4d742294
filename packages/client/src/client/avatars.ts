import { decryptAttachment, encryptAttachment } from '../attachments/attachment-crypto.js';
import {
  FORMAT_VERSION,
  type AttachmentPointer,
  type PlaintextMessage,
} from '../messages/message.schema.js';
import { fromBase64, randomId, toBase64 } from '../protocol/bytes.js';
import { KeyedSerialQueue } from '../protocol/serial-queue.js';
import type { ProtocolStore } from '../storage/protocol-store.js';
import type { ApiClient } from '../transport/api-client.js';
import { ApiError } from '../transport/api-error.js';
import type { Conversation } from '../transport/chat-endpoints.js';
import { deleteAttachmentBlob } from './attachment-transfer.js';
import { AVATAR_MAX_BYTES, checkAvatarImage } from './avatar-rules.js';
import type { EmitFn } from './client-types.js';
import type { Conversations } from './conversations.js';
import { settingTime } from './message-time.js';
import type { OutgoingQueue } from './outgoing-queue.js';
import type { Safety } from './safety.js';
import type { SessionSlot } from './session.js';

/** Local store key of the avatar index ({@link AvatarIndex}). */
export const META_AVATARS = 'avatars';
/** Local store key of one person's cached picture (base64 of the image). */
export const avatarImageKey = (userId: string): string => `avatar:${userId}`;

/**
 * What this device knows of one person's picture. `pending`: known, not downloaded (it came
 * through a message request I have not accepted, or the download is on its way); `cached`: the
 * checked image is in the local store; `none`: removed, or refused (bad digest, not an image).
 */
export interface AvatarRecord {
  setAt: number;
  state: 'pending' | 'cached' | 'none';
  /** The conversation it came through (a request's pictures wait for its acceptance). */
  conversationId?: string | undefined;
  pointer?: AttachmentPointer | undefined;
  contentType?: string | undefined;
}

/** The avatar index kept in the local store (sealed like every other record). */
export interface AvatarIndex {
  users: Record<string, AvatarRecord>;
  /** My picture's blobs on the server: conversation id to attachment id (deleted on a change). */
  blobs: Record<string, string>;
}

/** What {@link Avatars} needs. */
export interface AvatarsDeps {
  api: ApiClient;
  session: SessionSlot;
  conversations: Pick<Conversations, 'get' | 'list'>;
  /** Whether a conversation may get anything of mine (not a request, nobody I blocked). */
  safety: Pick<Safety, 'mayShare'>;
  queue: Pick<OutgoingQueue, 'sendControl'>;
  emit: EmitFn;
}

/** A cached picture. */
export interface AvatarImage {
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
}

/**
 * Profile pictures, end to end (docs/client.md "Profile pictures"). My picture is encrypted like
 * an attachment (fresh AES-256-GCM key, SHA-256 digest) and uploaded into each conversation I
 * share with someone (a blob is readable by that conversation's members only); the pointer and
 * key go to its members as an `avatar` control message. The server learns that a blob exists,
 * never that it is a picture or whose face it is. Received pictures are checked (digest, image
 * type, size) and cached in the local store; a message request's wait for its acceptance.
 */
export class Avatars {
  private readonly lock = new KeyedSerialQueue();

  /** @param deps collaborators */
  constructor(private readonly deps: AvatarsDeps) {}

  /**
   * @param userId someone (or me)
   * @returns their cached picture, if any
   */
  async image(userId: string): Promise<AvatarImage | undefined> {
    const store = this.deps.session.require().store;
    const rec = (await readIndex(store)).users[userId];
    if (rec?.state !== 'cached') return undefined;
    const b64 = await store.getMeta(avatarImageKey(userId));
    return typeof b64 === 'string'
      ? { bytes: fromBase64(b64), contentType: rec.contentType ?? 'image/jpeg' }
      : undefined;
  }

  /**
   * Sets my picture and sends it to everyone I share a conversation with (and my other devices);
   * the previous picture's blobs are deleted.
   * @param bytes the image, already scaled (PNG, JPEG or WebP; at most 1 MiB)
   * @throws {ApiError} `avatar_too_large`, `avatar_not_image`, `avatar_empty`; upload errors (`quota_exceeded`)
   */
  async set(bytes: Uint8Array): Promise<void> {
    const contentType = checkAvatarImage(bytes);
    return this.lock.run('avatars', async () => {
      const s = this.deps.session.require();
      const index = await readIndex(s.store);
      const setAt = Math.max(Date.now(), (index.users[s.user.id]?.setAt ?? 0) + 1);
      const enc = await encryptAttachment(bytes);
      const old = Object.values(index.blobs);
      index.blobs = {};
      index.users[s.user.id] = { setAt, state: 'cached', contentType };
      await s.store.setMeta(avatarImageKey(s.user.id), toBase64(bytes));
      for (const c of await this.targets()) {
        const up = await this.deps.api.chat.uploadAttachment(c.id, enc.ciphertext);
        index.blobs[c.id] = up.id;
        await writeIndex(s.store, index);
        const pointer = {
          id: up.id,
          key: enc.key,
          digest: enc.digest,
          size: enc.size,
          contentType,
        };
        await this.send(c.id, { pointer, setAt });
      }
      await writeIndex(s.store, index);
      await this.deleteBlobs(old);
      this.deps.emit('avatarChanged', { userId: s.user.id });
    });
  }

  /** Removes my picture: everyone who had it is told, and its blobs are deleted from the server. */
  remove(): Promise<void> {
    return this.lock.run('avatars', async () => {
      const s = this.deps.session.require();
      const index = await readIndex(s.store);
      const setAt = Math.max(Date.now(), (index.users[s.user.id]?.setAt ?? 0) + 1);
      const old = index.blobs;
      index.blobs = {};
      index.users[s.user.id] = { setAt, state: 'none' };
      await s.store.setMeta(avatarImageKey(s.user.id), undefined);
      await writeIndex(s.store, index);
      const ids = new Set([...(await this.targets()).map((c) => c.id), ...Object.keys(old)]);
      for (const id of ids) await this.send(id, { pointer: null, setAt }).catch(() => undefined);
      await this.deleteBlobs(Object.values(old));
      this.deps.emit('avatarChanged', { userId: s.user.id });
    });
  }

  /**
   * Shares my picture with a conversation that has none of it yet (one I just created, or a
   * request I just accepted). Nothing happens without a picture, or when it may not have it.
   * @param conversationId the conversation
   */
  shareWith(conversationId: string): Promise<void> {
    return this.lock.run('avatars', async () => {
      const s = this.deps.session.require();
      const index = await readIndex(s.store);
      const mine = index.users[s.user.id];
      if (mine?.state !== 'cached' || index.blobs[conversationId]) return;
      if (!(await this.deps.safety.mayShare(conversationId, 'delivered'))) return;
      const b64 = await s.store.getMeta(avatarImageKey(s.user.id));
      if (typeof b64 !== 'string') return;
      const enc = await encryptAttachment(fromBase64(b64));
      const up = await this.deps.api.chat.uploadAttachment(conversationId, enc.ciphertext);
      index.blobs[conversationId] = up.id;
      await writeIndex(s.store, index);
      const pointer = {
        id: up.id,
        key: enc.key,
        digest: enc.digest,
        size: enc.size,
        contentType: mine.contentType ?? 'image/jpeg',
      };
      await this.send(conversationId, { pointer, setAt: mine.setAt });
    });
  }

  /**
   * Someone was added to a group: my picture goes to it again as a fresh blob (the new member
   * could read the old one, but never got its key); the old blob of that group is deleted.
   * @param conversationId the group
   */
  async reshare(conversationId: string): Promise<void> {
    const old = await this.lock.run('avatars', async () => {
      const s = this.deps.session.require();
      const index = await readIndex(s.store);
      const id = index.blobs[conversationId];
      if (index.users[s.user.id]?.state !== 'cached' || !id) return undefined;
      delete index.blobs[conversationId];
      await writeIndex(s.store, index);
      return id;
    });
    if (!old) return;
    await this.shareWith(conversationId);
    await this.deleteBlobs([old]);
  }

  /**
   * A message request was accepted: the pictures that came through it are downloaded now, and
   * mine goes to it.
   * @param conversationId the accepted conversation
   */
  async accepted(conversationId: string): Promise<void> {
    const s = this.deps.session.require();
    const index = await readIndex(s.store);
    for (const [userId, rec] of Object.entries(index.users))
      if (rec.state === 'pending' && rec.conversationId === conversationId)
        await this.download(userId);
    await this.shareWith(conversationId);
  }

  /**
   * A received `avatar` message (a contact, or another device of mine). The latest setting wins
   * (`setAt`, never later than the envelope's server time). A picture from a message request
   * is remembered but not downloaded until I accept it.
   * @param env the envelope's sender and server time
   * @param plain the plaintext
   */
  async receive(
    env: { senderUserId: string; serverTimestamp: string },
    plain: PlaintextMessage,
  ): Promise<void> {
    const change = plain.avatar;
    if (!change) return;
    const download = await this.lock.run('avatars', async () => {
      const s = this.deps.session.require();
      const from = env.senderUserId;
      const mine = from === s.user.id;
      const index = await readIndex(s.store);
      const setAt = Math.min(
        change.setAt,
        settingTime(change.setAt, env.serverTimestamp, Date.now()),
      );
      const cur = index.users[from];
      if (cur && setAt < cur.setAt) return false;
      // Another device of mine uploaded it: this one may have to delete it later.
      if (mine && change.pointer) index.blobs[plain.conversationId] = change.pointer.id;
      if (cur && setAt === cur.setAt && (cur.state === 'cached' || !change.pointer)) {
        await writeIndex(s.store, index);
        return false; // the same picture through another conversation
      }
      const conversationId = plain.conversationId;
      if (!change.pointer) {
        index.users[from] = { setAt, state: 'none', conversationId };
        if (mine) index.blobs = {};
        await s.store.setMeta(avatarImageKey(from), undefined);
        await writeIndex(s.store, index);
        this.deps.emit('avatarChanged', { userId: from });
        return false;
      }
      index.users[from] = { setAt, state: 'pending', conversationId, pointer: change.pointer };
      await writeIndex(s.store, index);
      const conversation = await this.deps.conversations.get(conversationId).catch(() => undefined);
      // Fail closed: a lookup that fails (or a server that makes it fail) downloads nothing now;
      // accepting the conversation fetches it then.
      return mine || conversation?.myState === 'accepted';
    });
    // Not in the inbox's lane: a slow download must not hold back the messages behind it.
    if (download)
      void this.download(env.senderUserId).catch((err: unknown) => this.deps.emit('error', err));
  }

  /**
   * Downloads, checks and caches a known picture that is not cached yet. A blob that does not
   * match its digest, does not decrypt, or is not an image is refused (`avatarRefused`).
   * @param userId whose picture
   */
  download(userId: string): Promise<void> {
    return this.lock.run('avatars', async () => {
      const s = this.deps.session.require();
      const index = await readIndex(s.store);
      const rec = index.users[userId];
      if (rec?.state !== 'pending' || !rec.pointer) return;
      let contentType: string;
      let bytes: Uint8Array;
      try {
        // A picture is at most AVATAR_MAX_BYTES: a pointer to anything bigger is not fetched.
        if (rec.pointer.size > AVATAR_MAX_BYTES)
          throw new ApiError(0, 'avatar_too_large', 'the picture is too large');
        bytes = await decryptAttachment(await this.deps.api.chat.downloadAttachment(rec.pointer.id), rec.pointer.key, rec.pointer.digest);
        contentType = checkAvatarImage(bytes);
      } catch (err) {
        if (err instanceof ApiError && err.code === 'network_error') throw err;
        index.users[userId] = {
          setAt: rec.setAt,
          state: 'none',
          conversationId: rec.conversationId,
        };
        await writeIndex(s.store, index);
        const reason = err instanceof ApiError ? err.code : 'integrity';
        this.deps.emit('avatarRefused', { userId, reason });
        return;
      }
      await s.store.setMeta(avatarImageKey(userId), toBase64(bytes));
      index.users[userId] = { ...rec, state: 'cached', contentType };
      await writeIndex(s.store, index);
      this.deps.emit('avatarChanged', { userId });
    });
  }

  /** Conversations my picture goes to: every one I share (my self conversation too) but requests and those with someone I blocked. */
  private async targets(): Promise<Conversation[]> {
    const all = await this.deps.conversations.list();
    const out: Conversation[] = [];
    for (const c of all)
      if (await this.deps.safety.mayShare(c.id, 'delivered').catch(() => false)) out.push(c);
    return out;
  }

  private async send(
    conversationId: string,
    avatar: { pointer: AttachmentPointer | null; setAt: number },
  ): Promise<void> {
    const plain: PlaintextMessage = {
      v: FORMAT_VERSION,
      kind: 'avatar',
      id: randomId(),
      conversationId,
      sentAt: Date.now(),
      fallback: avatar.pointer
        ? 'Changed their profile picture.'
        : 'Removed their profile picture.',
      avatar,
    };
    await this.deps.queue.sendControl(plain, { wait: false });
  }

  private async deleteBlobs(ids: string[]): Promise<void> {
    for (const id of ids)
      await deleteAttachmentBlob(this.deps.api, id).catch((err: unknown) =>
        this.deps.emit('error', err),
      );
  }
}

async function readIndex(store: ProtocolStore): Promise<AvatarIndex> {
  const raw = (await store.getMeta(META_AVATARS)) as Partial<AvatarIndex> | undefined;
  return { users: { ...(raw?.users ?? {}) }, blobs: { ...(raw?.blobs ?? {}) } };
}

async function writeIndex(store: ProtocolStore, index: AvatarIndex): Promise<void> {
  await store.setMeta(META_AVATARS, index);
}
