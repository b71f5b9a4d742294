import {
  FORMAT_VERSION,
  type PlaintextMessage,
  type StoredMessage,
} from '../messages/message.schema.js';
import { randomId } from '../protocol/bytes.js';
import type { ApiClient } from '../transport/api-client.js';
import type { IncomingEnvelope } from '../transport/socket-client.js';
import { deleteAttachmentBlob } from './attachment-transfer.js';
import type { EmitFn, SendOptions } from './client-types.js';
import {
  applyAction,
  isValidReaction,
  MessageActionError,
  targetsOf,
  tombstone,
  withinEditWindow,
} from './message-action-rules.js';
import type { OutgoingQueue } from './outgoing-queue.js';
import {
  dropPendingFor,
  META_PENDING_ACTIONS,
  type PendingAction,
  prunePending,
  readPending,
} from './pending-actions.js';
import { clearQuotesOf } from './replies.js';
import type { SessionSlot } from './session.js';

export { META_PENDING_ACTIONS } from './pending-actions.js';
/** Store meta key: attachment blobs of mine deleted for everyone whose server delete still has to happen. */
export const META_PENDING_BLOB_DELETES = 'pendingBlobDeletes';

/** What {@link MessageActions} needs. */
export interface MessageActionsDeps {
  api: ApiClient;
  session: SessionSlot;
  queue: Pick<OutgoingQueue, 'sendControl'>;
  emit: EmitFn;
}

/**
 * Reactions, edits and deletes (docs/client.md "Reactions, edits and deletes"). Mine: checked,
 * applied to the local history first, then queued as a control plaintext in the persisted
 * outgoing queue (it reaches every member's devices and my other devices). Received ones
 * (mine from other devices too): applied by the rules of `message-action-rules.ts`; one whose
 * target has not arrived yet waits in store meta and is applied when the target is stored.
 */
export class MessageActions {
  /** This device's clock (tests move it to step outside the 24 h window). */
  now: () => number = () => Date.now();

  /** @param deps collaborators */
  constructor(private readonly deps: MessageActionsDeps) {}

  /**
   * Sets (or with null takes back) my one reaction to a message.
   * @param messageId the message
   * @param emoji the reaction ({@link isValidReaction}), or null to remove mine
   * @param options `wait: false` to return once queued
   * @returns the message as now stored
   * @throws {MessageActionError} `not_found`, `deleted`, `not_editable`, `invalid_reaction`
   */
  async react(
    messageId: string,
    emoji: string | null,
    options: SendOptions = {},
  ): Promise<StoredMessage> {
    if (emoji !== null && !isValidReaction(emoji))
      throw new MessageActionError(
        'invalid_reaction',
        'a reaction is one emoji (at most 32 characters, not plain text)',
      );
    const target = await this.target(messageId);
    if (target.kind !== 'text' && target.kind !== 'attachment')
      throw new MessageActionError('not_editable', 'only texts and attachments take reactions');
    const plain = this.control(target, 'reaction', {
      reaction: { messageId, emoji },
      fallback: emoji === null ? 'Removed a reaction' : `Reacted ${emoji} to a message`,
    });
    return this.applyAndSend(target, plain, options);
  }

  /**
   * Edits my own text message (or an attachment's caption) within 24 h of its `sentAt`; the
   * earlier text is kept in `edits` on every device that applies it.
   * @param messageId the message
   * @param text the new text (non-empty)
   * @param options `wait: false` to return once queued
   * @returns the message as now stored (unchanged when the text is the same)
   * @throws {MessageActionError} `not_found`, `deleted`, `not_author`, `not_sent`, `too_late`, `not_editable`, `invalid_text`
   */
  async edit(messageId: string, text: string, options: SendOptions = {}): Promise<StoredMessage> {
    if (text.trim().length === 0 || text.length > 65_536)
      throw new MessageActionError('invalid_text', 'the new text must be 1 to 65536 characters');
    const target = await this.mine(messageId);
    if (target.kind !== 'text' && target.kind !== 'attachment')
      throw new MessageActionError('not_editable', 'only texts and captions can be edited');
    if (target.text === text) return target;
    const plain = this.control(target, 'edit', {
      edit: { messageId, text },
      fallback: `Edited a message: ${text}`.slice(0, 2048),
    });
    return this.applyAndSend(target, plain, options);
  }

  /**
   * Deletes my own message for everyone within 24 h of its `sentAt`: a tombstone on every
   * device; an attachment blob I uploaded is deleted on the server by this device.
   * @param messageId the message
   * @param options `wait: false` to return once queued
   * @returns the tombstone
   * @throws {MessageActionError} `not_found`, `deleted`, `not_author`, `not_sent`, `too_late`
   */
  async deleteForEveryone(messageId: string, options: SendOptions = {}): Promise<StoredMessage> {
    const target = await this.mine(messageId);
    const plain = this.control(target, 'delete', {
      delete: { messageIds: [messageId] },
      fallback: 'Deleted a message',
    });
    const blob = target.attachment?.id;
    const sent = this.applyAndSend(target, plain, options);
    sent.catch(() => undefined); // awaited below; the blob is deleted meanwhile
    if (blob) {
      const s = this.deps.session.require();
      const pending = await this.pendingBlobs();
      await s.store.setMeta(META_PENDING_BLOB_DELETES, [...pending, blob]);
      await this.flushBlobDeletes();
    }
    return sent;
  }

  /**
   * Removes a message from this device's history only (nothing is sent). A message of mine
   * still queued is not sent any more.
   * @param messageId the message
   * @throws {MessageActionError} `not_found`
   */
  async deleteForMe(messageId: string): Promise<void> {
    const s = this.deps.session.require();
    const m = await s.store.getMessage(messageId);
    if (!m) throw new MessageActionError('not_found', `no message ${messageId} on this device`);
    await s.store.deleteMessage(messageId);
    await dropPendingFor(s.store, [messageId]);
    this.deps.emit('messageRemoved', { id: messageId, conversationId: m.conversationId });
  }

  /**
   * Applies a received reaction, edit or delete (the receiver checked the conversation and that
   * its sender is a member). Targets not stored yet keep it pending.
   * @param env the envelope (its sender is authenticated by the Signal session; its server
   *   timestamp bounds the edit window)
   * @param plain the control plaintext
   */
  async receive(
    env: Pick<IncomingEnvelope, 'senderUserId'> & { serverTimestamp?: string | undefined },
    plain: PlaintextMessage,
  ): Promise<void> {
    const s = this.deps.session.require();
    const missing: string[] = [];
    for (const id of targetsOf(plain)) {
      const target = await s.store.getMessage(id);
      if (!target) {
        missing.push(id);
        continue;
      }
      const from = { userId: env.senderUserId, serverTimestamp: env.serverTimestamp };
      const changed = applyAction(target, from, plain);
      if (!changed) continue;
      await s.store.putMessage(changed);
      this.deps.emit('messageChanged', changed);
      if (changed.deletedAt !== undefined) await this.clearQuotes(changed);
    }
    if (missing.length > 0) {
      const pending = await this.pending();
      if (pending.some((p) => p.plain.id === plain.id)) return;
      const entry = {
        fromUserId: env.senderUserId,
        ...(env.serverTimestamp !== undefined ? { serverTimestamp: env.serverTimestamp } : {}),
        plain,
        receivedAt: this.now(),
      };
      await s.store.setMeta(META_PENDING_ACTIONS, prunePending([...pending, entry], this.now()));
    }
  }

  /**
   * A text or attachment message is about to be stored: applies what waited for it.
   * @param message the new message
   * @returns the message with the pending reactions, edits or delete applied
   */
  async arrived(message: StoredMessage): Promise<StoredMessage> {
    const pending = prunePending(await this.pending(), this.now());
    const mine = pending.filter((p) => targetsOf(p.plain).includes(message.id));
    if (mine.length === 0) return message;
    let current = message;
    for (const p of mine.sort((a, b) => a.plain.sentAt - b.plain.sentAt))
      current =
        applyAction(current, { userId: p.fromUserId, serverTimestamp: p.serverTimestamp }, p.plain) ??
        current;
    // A delete may name several messages: keep it for the others still missing.
    const left = pending.filter(
      (p) => !mine.includes(p) || (p.plain.delete?.messageIds.length ?? 0) > 1,
    );
    await this.deps.session.require().store.setMeta(META_PENDING_ACTIONS, left);
    // Replies that came before their original (unchecked quotes) lose its words too.
    if (current.deletedAt !== undefined) await this.clearQuotes(current);
    return current;
  }

  /** Deletes on the server the attachment blobs of my deleted messages still waiting (after a failure, when back online). */
  async flushBlobDeletes(): Promise<void> {
    const s = this.deps.session.current;
    if (!s) return;
    const left: string[] = [];
    for (const id of await this.pendingBlobs()) {
      try {
        await deleteAttachmentBlob(this.deps.api, id); // gone already (404) counts as done
      } catch (err) {
        left.push(id);
        this.deps.emit('error', err);
      }
    }
    await s.store.setMeta(META_PENDING_BLOB_DELETES, left.length > 0 ? left : undefined);
  }

  /** @returns the target, not deleted @throws {MessageActionError} */
  private async target(messageId: string): Promise<StoredMessage> {
    const m = await this.deps.session.require().store.getMessage(messageId);
    if (!m) throw new MessageActionError('not_found', `no message ${messageId} on this device`);
    if (m.deletedAt !== undefined)
      throw new MessageActionError('deleted', 'the message was deleted');
    return m;
  }

  /** @returns my own sent message, within its 24 h window @throws {MessageActionError} */
  private async mine(messageId: string): Promise<StoredMessage> {
    const m = await this.target(messageId);
    if (m.senderUserId !== this.deps.session.require().user.id)
      throw new MessageActionError('not_author', 'only its author may change a message');
    // A message still queued (or failed) has not reached anyone: the queue sends what history holds.
    if (m.status === 'sending' || m.status === 'failed')
      throw new MessageActionError('not_sent', 'the message has not been sent yet');
    if (!withinEditWindow(m.sentAt, this.now()))
      throw new MessageActionError(
        'too_late',
        'messages can be changed for 24 hours after sending',
      );
    return m;
  }

  /** Builds a control plaintext about `target`. */
  private control(
    target: StoredMessage,
    kind: 'reaction' | 'edit' | 'delete',
    body: Partial<PlaintextMessage>,
  ): PlaintextMessage {
    return {
      v: FORMAT_VERSION,
      kind,
      id: randomId(),
      conversationId: target.conversationId,
      sentAt: this.now(),
      ...body,
    };
  }

  /** Applies my control locally (as a receiver would), then queues it. */
  private async applyAndSend(
    target: StoredMessage,
    plain: PlaintextMessage,
    options: SendOptions,
  ): Promise<StoredMessage> {
    const s = this.deps.session.require();
    const changed =
      plain.kind === 'delete'
        ? tombstone(target, plain.sentAt)
        : applyAction(target, { userId: s.user.id }, plain);
    if (!changed) return target;
    await s.store.putMessage(changed);
    this.deps.emit('messageChanged', changed);
    if (changed.deletedAt !== undefined) await this.clearQuotes(changed);
    await this.deps.queue.sendControl(plain, options);
    return changed;
  }

  /** Replies quoting a message deleted for everyone lose its words too. */
  private async clearQuotes(deleted: StoredMessage): Promise<void> {
    const store = this.deps.session.require().store;
    for (const reply of await clearQuotesOf(store, deleted.conversationId, [deleted.id]))
      this.deps.emit('messageChanged', reply);
  }

  private async pending(): Promise<PendingAction[]> {
    return readPending(this.deps.session.require().store);
  }

  private async pendingBlobs(): Promise<string[]> {
    const raw = await this.deps.session.require().store.getMeta(META_PENDING_BLOB_DELETES);
    return Array.isArray(raw) ? raw.filter((x): x is string => typeof x === 'string') : [];
  }
}
