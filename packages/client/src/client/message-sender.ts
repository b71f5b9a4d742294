import { FORMAT_VERSION, type PlaintextMessage } from '../messages/message.schema.js';
import { encodePlaintext } from '../messages/plaintext-codec.js';
import { randomId, toBase64 } from '../protocol/bytes.js';
import { ProtocolError } from '../protocol/errors.js';
import type { SignalProtocol } from '../protocol/signal-protocol.js';
import { SocketAckError, type OutgoingEnvelope } from '../transport/socket-client.js';
import type { ContactSessions } from './contact-sessions.js';
import type { Conversations } from './conversations.js';
import type { DeviceKeys } from './device-keys.js';
import type { PresenceMap } from './presence-map.js';
import type { GroupViews } from './group-views.js';
import type { Realtime } from './realtime.js';
import { ApiError } from '../transport/api-error.js';
import type { SessionSlot } from './session.js';

/** Rewrites the envelopes of a send just before they leave (diagnostics, adversarial tests). */
export type EnvelopeMutator = (envelopes: OutgoingEnvelope[]) => OutgoingEnvelope[];

/** A plaintext encoded elsewhere (tests of newer kinds): its client id and padded bytes. */
export interface PreEncodedPlaintext {
  id: string;
  padded: Uint8Array;
  /** Other bytes for one device (a retry's resend goes to its one reader; the others get `padded`). */
  forDevice?: (userId: string, deviceId: number) => Uint8Array | undefined;
}

/** A send the server accepted: what the retry log keeps (retry-log.ts). */
export interface SentRecord {
  conversationId: string;
  plaintext: PlaintextMessage;
  /** Server message id. */
  messageId: string;
  /** Every device it was encrypted for, as `userId.deviceId`. */
  readers: string[];
}

/** What {@link MessageSender} needs. */
export interface MessageSenderDeps {
  session: SessionSlot;
  realtime: Realtime;
  conversations: Conversations;
  contacts: ContactSessions;
  deviceKeys: DeviceKeys;
  /** Presence of the members, looked up for every send of any kind (see `receipts.ts`). */
  presence?: PresenceMap;
  /** My own views of groups and direct chats: who a send may address. */
  groups: GroupViews;
  /** Told of every send the server accepted (the retry log; retries.ts). */
  onSent?: (sent: SentRecord) => void;
}

/**
 * Encrypts plaintexts for every device of a conversation (members' and my other devices) and
 * hands them to chat-service, handling `stale_devices` answers. One attempt per call: the
 * outgoing queue owns retries across failures.
 */
export class MessageSender {
  /** @param deps collaborators */
  constructor(private readonly deps: MessageSenderDeps) {}

  /**
   * Encrypts one plaintext for every device of the conversation's members and my other devices
   * and emits `message:send`; on `stale_devices` it drops extra sessions, fetches bundles for
   * missing devices, and tries again (up to four times).
   * @param conversationId conversation
   * @param plaintext the message (or, in tests of newer kinds, bytes padded elsewhere)
   * @param mutate rewrites the envelopes before they leave
   * @param recipients when given, the only members this message may be encrypted for
   * @param to when given (group control messages), the members to address instead of my view's
   * @returns the server's ack
   * @throws {UntrustedIdentityError} a member's identity changed
   * @throws {SocketAckError} the server refused the message
   * @throws {ApiError} `not_connected` without a socket; `membership_changed` when my view has
   *   a member outside `recipients`; `unexpected_member` when the server lists (or asks for)
   *   someone outside my view; `group_state_pending` before I have the group's state
   */
  async fanOut(
    conversationId: string,
    plaintext: PlaintextMessage | PreEncodedPlaintext,
    mutate?: EnvelopeMutator,
    recipients?: readonly string[],
    to?: readonly string[],
  ): Promise<{ messageId: string; serverTimestamp: string }> {
    const { session, realtime, conversations, contacts, deviceKeys, groups } = this.deps;
    const s = session.require();
    const socket = realtime.require();
    let conversation = await conversations.get(conversationId);
    // Every kind asks the same presence questions, so a `presence:get` does not mark a receipt
    // (not awaited: the send does not need the answer).
    if (realtime.connected) void this.deps.presence?.know(conversation.memberIds.filter((m) => m !== s.user.id)).catch(() => undefined);
    // Padded to 160-byte blocks: a receipt or typing message and a short text look alike.
    const bytes = 'padded' in plaintext ? plaintext.padded : encodePlaintext(plaintext);
    let lastError: unknown;
    for (let attempt = 0; attempt < 4; attempt += 1) {
      // Encrypt to my own view of the conversation; the server's list only routes (someone in
      // it whom no member added fails the send closed).
      const members = await groups.audience(conversation, s.user.id, to);
      // A queued message goes only to the people it was written for: someone who joined since
      // gets nothing without the sender sending it again.
      if (recipients && members.some((m) => m !== s.user.id && !recipients.includes(m))) {
        throw new ApiError(0, 'membership_changed', 'someone joined the conversation after this message was written');
      }
      const targets = await contacts.targetDevices(members);
      const envelopes: OutgoingEnvelope[] = [];
      for (const t of targets) {
        let c: Awaited<ReturnType<SignalProtocol['encrypt']>>;
        try {
          c = await s.protocol.encrypt(t.userId, t.deviceId, ('forDevice' in plaintext && plaintext.forDevice?.(t.userId, t.deviceId)) || bytes);
        } catch (err) {
          // Dropped since the targets were listed (a concurrent send learnt the device was
          // removed): leave it out; the server names it as missing if it is still expected.
          if (err instanceof ProtocolError && err.code === 'no_session') continue;
          throw err;
        }
        envelopes.push({ userId: t.userId, deviceId: t.deviceId, type: c.type, body: toBase64(c.body) });
      }
      try {
        const sent = mutate ? mutate(envelopes) : envelopes;
        const ack = await socket.sendMessage({ conversationId, clientMessageId: plaintext.id, envelopes: sent });
        s.backup.schedule();
        if (!('padded' in plaintext)) {
          this.deps.onSent?.({ conversationId, plaintext, messageId: ack.messageId, readers: sent.map((e) => `${e.userId}.${e.deviceId}`) });
        }
        return ack;
      } catch (err) {
        lastError = err;
        if (!(err instanceof SocketAckError) || err.code !== 'stale_devices' || !err.stale) throw err;
        // Membership may have changed too: refresh it. An extra device of someone who is still a
        // member was removed (drop its session); someone who left keeps their sessions (they
        // are valid for other conversations) and is simply not addressed any more.
        conversation = await conversations.get(conversationId, true);
        const stillMembers = new Set(await groups.audience(conversation, s.user.id, to));
        // The server asks for devices of someone outside my view: nobody added them; refuse.
        const strangers = [...new Set(err.stale.missing.map((m) => m.userId).filter((u) => !stillMembers.has(u)))];
        if (strangers.length > 0) {
          throw new ApiError(0, 'unexpected_member', 'the server lists people no member added; nothing was sent to them', { conversationId, userIds: strangers });
        }
        for (const extra of err.stale.extra) {
          if (stillMembers.has(extra.userId)) await s.protocol.deleteSession(extra.userId, extra.deviceId);
        }
        const missingByUser = new Map<string, number[]>();
        for (const m of err.stale.missing) {
          if (m.userId === s.user.id && m.deviceId === deviceKeys.cachedId) continue;
          missingByUser.set(m.userId, [...(missingByUser.get(m.userId) ?? []), m.deviceId]);
        }
        // A missing device is one this attempt did not address; a concurrent send may have built
        // its session meanwhile, which the next attempt then uses.
        for (const [userId, devices] of missingByUser) await contacts.ensure(userId, devices);
        if (err.stale.extra.length === 0 && missingByUser.size === 0) throw err;
      }
    }
    throw lastError;
  }

  /**
   * Sends an encrypted receipt to the conversation (the senders and my other devices).
   * Receipts are not queued: a lost one is harmless and the next one carries the state.
   * @param conversationId conversation
   * @param type delivered or read
   * @param messageIds client message ids
   */
  async sendReceipt(conversationId: string, type: 'delivered' | 'read', messageIds: string[]): Promise<void> {
    if (messageIds.length === 0) return;
    await this.fanOut(conversationId, {
      v: FORMAT_VERSION,
      kind: 'receipt',
      id: randomId(),
      conversationId,
      sentAt: Date.now(),
      receipt: { type, messageIds },
    });
  }

  /**
   * Sends my typing state to the conversation as an end-to-end encrypted message. Not queued.
   * @param conversationId conversation
   * @param on typing or stopped
   */
  async sendTyping(conversationId: string, on: boolean): Promise<void> {
    await this.fanOut(conversationId, { v: FORMAT_VERSION, kind: 'typing', id: randomId(), conversationId, sentAt: Date.now(), typing: { on } });
  }
}
