import type { PlaintextMessage, StoredMessage } from '../messages/message.schema.js';
import { decodePlaintext, type DecodedPlaintext } from '../messages/plaintext-codec.js';
import { fromBase64 } from '../protocol/bytes.js';
import { DecryptError, UntrustedIdentityError } from '../protocol/errors.js';
import { KeyedSerialQueue } from '../protocol/serial-queue.js';
import type { ProtocolStore } from '../storage/protocol-store.js';
import type { IncomingEnvelope } from '../transport/socket-client.js';
import type { EmitFn } from './client-types.js';
import { addKept, envelopeOf, localStateOf, rereadKept } from './kept-messages.js';
import { boundedSentAt } from './message-time.js';
import { checkedQuote } from './replies.js';
import type { DeviceKeys } from './device-keys.js';
import type { ExpiryHooks } from './disappearing.js';
import { applyReceipt } from './receipt-state.js';
import type { Realtime } from './realtime.js';
import type { SessionSlot } from './session.js';

const META_SEEN = 'seenServerIds';
const SEEN_LIMIT = 500;
/** A typing message older than this (by its `sentAt`, or by the server's timestamp) is not shown. */
export const TYPING_MAX_AGE_MS = 20_000;

/**
 * Whether a typing message is too old to show: written more than 20 s ago by the sender's clock,
 * or stored by the server more than 20 s ago (it waited in the mailbox).
 * @param sentAt the sender's clock, epoch milliseconds
 * @param serverTimestamp the server's timestamp (ISO 8601)
 * @param now this device's clock
 * @returns true when it must not be shown
 */
export function isStaleTyping(sentAt: number, serverTimestamp: string, now = Date.now()): boolean {
  const stored = Date.parse(serverTimestamp);
  return now - sentAt > TYPING_MAX_AGE_MS || (Number.isFinite(stored) && now - stored > TYPING_MAX_AGE_MS);
}

/** What {@link MessageReceiver} needs. */
export interface MessageReceiverDeps {
  session: SessionSlot;
  realtime: Realtime;
  deviceKeys: DeviceKeys;
  emit: EmitFn;
  /** A `device` announcement (own-devices.ts checks and records it). */
  onDevice?: (env: IncomingEnvelope, plain: PlaintextMessage) => Promise<void>;
  /** Handles a group control message (kind `group`). */
  onGroupControl?: (env: IncomingEnvelope, plain: PlaintextMessage) => Promise<void>;
  /** Handles a direct chat's disappearing timer (kind `timer`; disappearing.ts). */
  onTimer?: (env: IncomingEnvelope, plain: PlaintextMessage) => Promise<void>;
  /** A contact's (or my own) profile picture changed (kind `avatar`; avatars.ts). */
  onAvatar?: (env: IncomingEnvelope, plain: PlaintextMessage) => Promise<void>;
  /** Stamps and registers messages that disappear (disappearing.ts). */
  expiry?: ExpiryHooks;
  /** Whether my view of the conversation has the sender as a member (group-views.ts). */
  mayPost?: (conversationId: string, senderUserId: string) => boolean;
  /** Applies a reaction, edit or delete (message-actions.ts). */
  onAction?: (env: IncomingEnvelope, plain: PlaintextMessage) => Promise<void>;
  /** A message failed to decrypt: its placeholder and retry request (retries.ts). */
  onDecryptFailed?: (env: IncomingEnvelope, code: string) => Promise<void>;
  /** A `retry` message (retries.ts); `deliver` handles a resent plaintext as if just received. */
  onRetry?: (env: IncomingEnvelope, plain: PlaintextMessage, deliver: (env: IncomingEnvelope, plain: PlaintextMessage) => Promise<void>) => Promise<void>;
  /** A new text or attachment is about to be stored: applies reactions, edits or deletes that waited for it. */
  arrived?: (m: StoredMessage) => Promise<StoredMessage>;
}

/**
 * Handles `message:new`: decrypts, drops duplicates (by server id and by client id), applies
 * receipts and typing, holds messages from a contact whose identity changed until accepted,
 * and acknowledges everything it is done with.
 */
export class MessageReceiver {
  private readonly incoming = new KeyedSerialQueue();
  private readonly heldUntrusted = new Map<string, IncomingEnvelope[]>();
  private seen: string[] = [];

  /** @param deps collaborators */
  constructor(private readonly deps: MessageReceiverDeps) {}

  /**
   * Loads the recently seen server ids of a session's store (after login or resume).
   * @param store the local store
   */
  async load(store: ProtocolStore): Promise<void> {
    const seen = await store.getMeta(META_SEEN);
    this.seen = Array.isArray(seen) ? seen.filter((x): x is string => typeof x === 'string') : [];
  }

  /**
   * Handles one `message:new`. Envelopes are processed one at a time, in arrival order, so a
   * conversation's order is kept.
   * @param envelope the server event
   */
  receive(envelope: IncomingEnvelope): Promise<void> {
    return this.incoming.run('inbox', () => this.receiveNow(envelope));
  }

  /**
   * The upgrade path (after login or resume): messages kept with their raw plaintext that this
   * version now understands better are handled again as if just received, replacing the kept
   * ones (see `kept-messages.ts`). Runs in the inbox lane, so new arrivals wait for it.
   * @returns how many kept messages were handled again
   */
  rereadKept(): Promise<number> {
    return this.incoming.run('inbox', async () => {
      const s = this.deps.session.require();
      return rereadKept(s.store, async (kept, decoded) => {
        const env = envelopeOf(kept);
        const partial = decoded.unknownFields.length > 0 ? decoded : undefined;
        // A control kind (receipt, reaction, timer, group...) acts on its target: its placeholder
        // goes first, so handlers that dedupe by client id do not take it as applied already
        // (and an event they store under that id stays); it comes back if handling fails.
        const control = decoded.plain.kind !== 'text' && decoded.plain.kind !== 'attachment';
        if (control) await s.store.deleteMessage(kept.id);
        try {
          await this.handlePlaintext(env, decoded.plain, partial, kept);
        } catch (err) {
          if (control && !(await s.store.getMessage(kept.id))) await s.store.putMessage(kept);
          throw err;
        }
      });
    });
  }

  /**
   * Processes again the messages held back because their sender's identity changed.
   * @param userId the contact whose new identity was accepted
   */
  async releaseHeld(userId: string): Promise<void> {
    const pending = this.heldUntrusted.get(userId) ?? [];
    this.heldUntrusted.delete(userId);
    for (const env of pending) await this.receive(env);
  }

  private async receiveNow(env: IncomingEnvelope): Promise<void> {
    const { session, realtime, emit } = this.deps;
    const s = session.current;
    if (!s) return;
    if (this.seen.includes(env.messageId)) {
      await realtime.ackQuietly([env.messageId]);
      return;
    }
    const drop = async (code: string): Promise<void> => {
      emit('decryptFailed', { messageId: env.messageId, senderUserId: env.senderUserId, senderDeviceId: env.senderDeviceId, code });
      await this.done(env.messageId);
    };
    let plainBytes: Uint8Array;
    try {
      plainBytes = await s.protocol.decrypt(env.senderUserId, env.senderDeviceId, env.type, fromBase64(env.body));
    } catch (err) {
      if (err instanceof UntrustedIdentityError) {
        // Keep it (unacknowledged, so the server keeps it too) until the user accepts the key.
        const list = this.heldUntrusted.get(env.senderUserId) ?? [];
        if (!list.some((e) => e.messageId === env.messageId)) list.push(env);
        this.heldUntrusted.set(env.senderUserId, list);
        emit('identityChanged', { userId: env.senderUserId });
        return;
      }
      const code = err instanceof DecryptError ? err.code : 'invalid_message';
      await drop(code);
      // Not silent: a placeholder, and the sender's device is asked to send it again.
      await this.deps.onDecryptFailed?.(env, code).catch((e: unknown) => emit('error', e));
      return;
    }
    // Session state advanced: keep the backup current.
    s.backup.schedule();
    let decoded: DecodedPlaintext;
    try {
      decoded = decodePlaintext(plainBytes);
    } catch {
      await drop('invalid_message');
      return;
    }
    // The conversation id inside the ciphertext must match the envelope's: the server cannot
    // move a message into another conversation.
    const header = decoded.type === 'known' ? decoded.plain : decoded.header;
    if (header.conversationId !== env.conversationId) {
      await drop('conversation_mismatch');
      return;
    }
    if (decoded.type === 'unknown') {
      if (this.deps.mayPost?.(env.conversationId, env.senderUserId) === false) await drop('not_member');
      else {
        await this.keepUnknown(env, decoded);
        await this.done(env.messageId);
      }
      return;
    }
    const plain = decoded.plain;
    // Someone the server slipped into a chat (not a member in my view) is not shown; group
    // control messages carry their own checks (group-views.ts).
    if (plain.kind !== 'group' && plain.kind !== 'device' && this.deps.mayPost?.(env.conversationId, env.senderUserId) === false) {
      await drop('not_member');
      return;
    }
    await this.handlePlaintext(env, plain, decoded.unknownFields.length > 0 ? decoded : undefined);
    await this.done(env.messageId);
    if (env.type === 3) void this.deps.deviceKeys.setup().catch((err: unknown) => emit('error', err));
  }

  /**
   * Keeps a message of a kind this client does not know: stored with its raw plaintext and shown
   * as "needs a newer version" (never dropped), so an upgraded client can read it again.
   */
  private async keepUnknown(env: IncomingEnvelope, decoded: Extract<DecodedPlaintext, { type: 'unknown' }>): Promise<void> {
    const s = this.deps.session.require();
    const header = { ...decoded.header, sentAt: boundedSentAt(decoded.header.sentAt, env.serverTimestamp) };
    if (await s.store.getMessage(header.id)) return;
    const mine = env.senderUserId === s.user.id;
    const stored: StoredMessage = {
      id: header.id,
      conversationId: header.conversationId,
      senderUserId: env.senderUserId,
      senderDeviceId: env.senderDeviceId,
      direction: mine ? 'out' : 'in',
      kind: 'unsupported',
      unsupported: { kind: header.kind, ...(header.fallback !== undefined ? { fallback: header.fallback } : {}) },
      raw: decoded.raw,
      sentAt: header.sentAt,
      serverTimestamp: env.serverTimestamp,
      serverMessageId: env.messageId,
      status: mine ? 'sent' : 'received',
    };
    await s.store.putMessage(stored);
    await addKept(s.store, stored.id);
    this.deps.emit('message', stored);
  }

  /**
   * Handles a plaintext this client understands. `again`: the kept message being read again by
   * a newer version (it replaces it, keeping its delivery state).
   */
  private async handlePlaintext(
    env: IncomingEnvelope,
    plain: PlaintextMessage,
    partial?: Extract<DecodedPlaintext, { type: 'known' }>,
    again?: StoredMessage,
  ): Promise<void> {
    // What is stored and shown with its sentAt is dated by the server when its sentAt is more
    // than a day later (message-time.ts). Not edits and deletes: their window check refuses them.
    if (plain.kind === 'text' || plain.kind === 'attachment' || plain.kind === 'group')
      plain = { ...plain, sentAt: boundedSentAt(plain.sentAt, env.serverTimestamp) };
    const s = this.deps.session.require();
    const mine = env.senderUserId === s.user.id;
    switch (plain.kind) {
      case 'text':
      case 'attachment': {
        if (!again && (await s.store.getMessage(plain.id))) return; // dedupe by client message id
        const stored: StoredMessage = {
          id: plain.id,
          conversationId: plain.conversationId,
          senderUserId: env.senderUserId,
          senderDeviceId: env.senderDeviceId,
          direction: mine ? 'out' : 'in',
          kind: plain.kind,
          ...(plain.text !== undefined ? { text: plain.text } : {}),
          ...(plain.attachment ? { attachment: plain.attachment } : {}),
          ...(plain.replyTo ? { replyTo: await checkedQuote(s.store, plain.conversationId, plain.replyTo) } : {}),
          ...(plain.mentions ? { mentions: plain.mentions } : {}),
          ...(partial ? { raw: partial.raw, unknownFields: partial.unknownFields } : {}),
          ...(plain.expiresInS ? { expiresInS: plain.expiresInS } : {}),
          sentAt: plain.sentAt,
          serverTimestamp: env.serverTimestamp,
          serverMessageId: env.messageId,
          status: mine ? 'sent' : 'received',
          // Read again after an upgrade: what this device gathered on it stays.
          ...(again ? localStateOf(again) : {}),
        };
        const applied = (await this.deps.arrived?.(stored)) ?? stored;
        // Mine (from another device of mine) disappears from its send; a received one from my read.
        const kept = mine && this.deps.expiry ? this.deps.expiry.onSent(applied) : applied;
        await s.store.putMessage(kept);
        if (partial) await addKept(s.store, kept.id);
        await this.deps.expiry?.track(kept);
        this.deps.emit('message', kept);
        return;
      }
      case 'reaction':
      case 'edit':
      case 'delete': {
        await this.deps.onAction?.(env, plain);
        return;
      }
      case 'receipt': {
        if (!plain.receipt) return;
        // Status and per-member state (readBy, deliveredTo): receipt-state.ts.
        const receipt = { type: plain.receipt.type, fromUserId: env.senderUserId, conversationId: plain.conversationId };
        for (const id of plain.receipt.messageIds) {
          const m = await s.store.getMessage(id);
          const next = m && applyReceipt(m, receipt, s.user.id);
          if (!next) continue;
          // Read on another device of mine: a disappearing message's timer starts now here too.
          const kept = mine && next.direction === 'in' && this.deps.expiry ? this.deps.expiry.onRead(next) : next;
          await s.store.putMessage(kept);
          if (kept !== next) await this.deps.expiry?.track(kept);
          if (kept.direction === 'out') this.deps.emit('messageUpdated', kept);
        }
        this.deps.emit('receipt', {
          conversationId: plain.conversationId,
          fromUserId: env.senderUserId,
          type: plain.receipt.type,
          messageIds: plain.receipt.messageIds,
        });
        return;
      }
      case 'device': {
        await this.deps.onDevice?.(env, plain);
        return;
      }
      case 'typing': {
        if (isStaleTyping(plain.sentAt, env.serverTimestamp)) return;
        this.deps.emit('typing', { conversationId: plain.conversationId, userId: env.senderUserId, on: plain.typing?.on ?? false });
        return;
      }
      case 'group': {
        await this.deps.onGroupControl?.(env, plain);
        return;
      }
      case 'timer': {
        await this.deps.onTimer?.(env, plain);
        return;
      }
      case 'avatar': {
        await this.deps.onAvatar?.(env, plain);
        return;
      }
      case 'retry': {
        await this.deps.onRetry?.(env, plain, (e, p) => this.handlePlaintext(e, p));
        return;
      }
    }
  }

  /** Remembers a server id as handled, then acknowledges it. */
  private async done(id: string): Promise<void> {
    this.seen.push(id);
    if (this.seen.length > SEEN_LIMIT) this.seen = this.seen.slice(-SEEN_LIMIT);
    await this.deps.session.current?.store.setMeta(META_SEEN, this.seen);
    await this.deps.realtime.ackQuietly([id]);
  }
}
