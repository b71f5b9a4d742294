import { z } from 'zod';
import { KeyedSerialQueue } from '../protocol/serial-queue.js';
import type { EmitFn } from './client-types.js';
import type { Conversations } from './conversations.js';
import type { ExpiryHooks } from './disappearing.js';
import type { MessageSender } from './message-sender.js';
import type { PresenceMap } from './presence-map.js';
import type { Realtime } from './realtime.js';
import { classifySendError } from './retry-policy.js';
import type { Safety } from './safety.js';
import type { SessionSlot } from './session.js';

/** Store meta key of the receipts held for members who are offline. */
export const META_HELD_RECEIPTS = 'heldReceipts';
/** Most message ids in one receipt plaintext (the schema's limit). */
const RECEIPT_CHUNK = 500;

/** Receipts waiting to be sent, per conversation and type (what rests in the store is untrusted too). */
export const HeldReceipts = z.record(
  z.string(),
  z.object({
    /** Client message ids to report as delivered. */
    delivered: z.array(z.string()).default([]),
    /** Client message ids to report as read. */
    read: z.array(z.string()).default([]),
  }),
);
/** Receipts waiting to be sent, per conversation and type. */
export type HeldReceipts = z.infer<typeof HeldReceipts>;

/** What {@link Receipts} needs. */
export interface ReceiptsDeps {
  session: SessionSlot;
  realtime: Realtime;
  conversations: Conversations;
  sender: MessageSender;
  /** Presence of the members (shared with the sender, which fills it for every send). */
  presence: PresenceMap;
  /** Requests, blocks and privacy: what may be shared at all. */
  safety: Pick<Safety, 'mayShare'>;
  emit: EmitFn;
  /** Starts the disappearing timer of what I read (disappearing.ts). */
  expiry?: ExpiryHooks;
}

/**
 * Sends receipts and typing so that they never wait in an offline user's mailbox. chat-service
 * announces every envelope stored for a user with no live socket (`chat.message_queued.v1`, the
 * email digest's input) and cannot tell a receipt from a message, so the client decides: a
 * receipt or a typing message goes to a conversation only while every other member is online.
 * Otherwise typing is dropped and receipts are held in the store, coalesced per conversation
 * and type, and sent when the missing members come online (`presence`) or at the next
 * connection when they are. Presence comes from the server (`presence:get`) and is kept
 * current by `presence` events; it is forgotten when the socket (re)connects.
 *
 * Before any of that, {@link Safety.mayShare} decides whether the conversation gets it at all:
 * nothing goes into a request I have not accepted or to a person I blocked, and no typing or
 * read receipt when my privacy settings turn them off. What it refuses is dropped, never held.
 */
export class Receipts {
  /** Serialises every read-modify-write of the held receipts, and their sends. */
  private readonly queue = new KeyedSerialQueue();

  /** @param deps collaborators */
  constructor(private readonly deps: ReceiptsDeps) {}

  /**
   * Sends my typing state, only when every other member is online right now (typing is never
   * held or queued: a late one would be wrong).
   * @param conversationId conversation
   * @param on typing or stopped
   * @returns whether it was sent
   */
  async setTyping(conversationId: string, on: boolean): Promise<boolean> {
    if (!this.deps.realtime.connected) return false;
    if (!(await this.deps.safety.mayShare(conversationId, 'typing'))) return false;
    if (!(await this.everyoneOnline(conversationId))) return false;
    await this.deps.sender.sendTyping(conversationId, on);
    return true;
  }

  /**
   * Marks incoming messages read locally, then sends (or holds) the read receipt.
   * @param conversationId conversation
   * @param messageIds client message ids
   * @throws {ApiError} a permanent refusal of the send (the receipt is dropped)
   */
  async markRead(conversationId: string, messageIds: string[]): Promise<void> {
    if (messageIds.length === 0) return;
    const s = this.deps.session.require();
    for (const id of messageIds) {
      const m = await s.store.getMessage(id);
      if (m && m.direction === 'in' && m.status !== 'read') {
        // A disappearing message's timer starts when I read it.
        const read = this.deps.expiry?.onRead({ ...m, status: 'read' }) ?? { ...m, status: 'read' };
        await s.store.putMessage(read);
        await this.deps.expiry?.track(read);
      }
    }
    await this.send(conversationId, 'read', messageIds);
  }

  /**
   * Sends (or holds) a delivered receipt.
   * @param conversationId conversation
   * @param messageIds client message ids
   * @throws {ApiError} a permanent refusal of the send (the receipt is dropped)
   */
  async markDelivered(conversationId: string, messageIds: string[]): Promise<void> {
    if (messageIds.length === 0) return;
    await this.send(conversationId, 'delivered', messageIds);
  }

  /**
   * A `presence` event: remembers it and, when someone came online, sends what was held for them.
   * @param p the event
   */
  onPresence(p: { userId: string; online: boolean }): void {
    this.deps.presence.set(p);
    if (p.online) this.flushInBackground();
  }

  /**
   * The socket is (again) connected: presence may have changed unseen, so everyone known is
   * asked about again (whether or not receipts are held), then every held receipt is tried.
   */
  onOnline(): void {
    const known = this.deps.presence.reset();
    if (!this.deps.session.current) return;
    void (async () => {
      if (known.length > 0) await this.deps.presence.know(known).catch(() => undefined);
      await this.flush();
    })();
  }

  /** @returns the receipts held in the current session's store (tests, diagnostics) */
  async held(): Promise<HeldReceipts> {
    const s = this.deps.session.current;
    if (!s) return {};
    const parsed = HeldReceipts.safeParse((await s.store.getMeta(META_HELD_RECEIPTS)) ?? {});
    return parsed.success ? parsed.data : {};
  }

  /** Tries every held conversation (errors other than being offline are reported as `error`). */
  async flush(): Promise<void> {
    for (const conversationId of Object.keys(await this.held())) {
      await this.queue.run('held', () => this.flushConversation(conversationId)).catch((err: unknown) => {
        if (!classifySendError(err).transient) this.deps.emit('error', err);
      });
    }
  }

  private flushInBackground(): void {
    if (!this.deps.session.current) return;
    void this.flush();
  }

  private async send(conversationId: string, type: 'delivered' | 'read', messageIds: string[]): Promise<void> {
    let allowed: boolean;
    try {
      allowed = await this.deps.safety.mayShare(conversationId, type);
    } catch (err) {
      // Cannot tell now (offline): held, and decided again when it is flushed.
      if (!classifySendError(err).transient) throw err;
      allowed = true;
    }
    if (!allowed) return;
    await this.queue.run('held', async () => {
      const held = await this.held();
      const entry = held[conversationId] ?? { delivered: [], read: [] };
      if (type === 'read') {
        // Read says delivered too: one receipt per message is enough.
        entry.read = [...new Set([...entry.read, ...messageIds])];
        entry.delivered = entry.delivered.filter((id) => !messageIds.includes(id));
      } else {
        entry.delivered = [...new Set([...entry.delivered, ...messageIds.filter((id) => !entry.read.includes(id))])];
      }
      held[conversationId] = entry;
      await this.save(held);
      try {
        await this.flushConversation(conversationId);
      } catch (err) {
        // Offline or a passing failure: it stays held for the next connection or presence change.
        if (!classifySendError(err).transient) throw err;
      }
    });
  }

  /** Sends one conversation's held receipts if every other member is online. Runs inside the queue. */
  private async flushConversation(conversationId: string): Promise<void> {
    const entry = (await this.held())[conversationId];
    if (!entry) return;
    if (!this.deps.realtime.connected) return;
    let everyone: boolean;
    try {
      // Held before a block, or before read receipts were turned off: it never goes.
      if (!(await this.deps.safety.mayShare(conversationId, 'delivered'))) entry.delivered = [];
      if (!(await this.deps.safety.mayShare(conversationId, 'read'))) entry.read = [];
      if (entry.delivered.length === 0 && entry.read.length === 0) return await this.drop(conversationId);
      everyone = await this.everyoneOnline(conversationId);
    } catch (err) {
      if (!classifySendError(err).transient) await this.drop(conversationId);
      throw err;
    }
    if (!everyone) return;
    for (const type of ['delivered', 'read'] as const) {
      while (entry[type].length > 0) {
        const chunk = entry[type].slice(0, RECEIPT_CHUNK);
        try {
          await this.deps.sender.sendReceipt(conversationId, type, chunk);
        } catch (err) {
          // A permanent refusal (not a member any more, an untrusted identity) would fail every
          // time: drop what is left rather than retry it at every presence change.
          if (!classifySendError(err).transient) await this.drop(conversationId);
          throw err;
        }
        entry[type] = entry[type].slice(chunk.length);
        const held = await this.held();
        if (entry.delivered.length === 0 && entry.read.length === 0) delete held[conversationId];
        else held[conversationId] = entry;
        await this.save(held);
      }
    }
  }

  private async drop(conversationId: string): Promise<void> {
    const held = await this.held();
    delete held[conversationId];
    await this.save(held);
  }

  private async save(held: HeldReceipts): Promise<void> {
    await this.deps.session.current?.store.setMeta(META_HELD_RECEIPTS, Object.keys(held).length > 0 ? held : undefined);
  }

  /** Whether every member of a conversation other than me has a live device now. */
  private async everyoneOnline(conversationId: string): Promise<boolean> {
    const me = this.deps.session.require().user.id;
    const conversation = await this.deps.conversations.get(conversationId);
    const others = conversation.memberIds.filter((id) => id !== me);
    await this.deps.presence.know(others);
    return this.deps.presence.allOnline(others);
  }
}
