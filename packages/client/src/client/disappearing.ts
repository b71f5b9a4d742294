import {
  DisappearTimer,
  FORMAT_VERSION,
  type PlaintextMessage,
  type StoredMessage,
} from '../messages/message.schema.js';
import { randomId } from '../protocol/bytes.js';
import { ApiError } from '../transport/api-error.js';
import type { ApiClient } from '../transport/api-client.js';
import { deleteAttachmentBlob } from './attachment-transfer.js';
import type { EmitFn, SendOptions } from './client-types.js';
import type { Conversations } from './conversations.js';
import type { DeviceKeys } from './device-keys.js';
import type { GroupViews } from './group-views.js';
import type { Groups } from './groups.js';
import { settingTime } from './message-time.js';
import type { OutgoingQueue } from './outgoing-queue.js';
import { dropPendingFor } from './pending-actions.js';
import { clearQuotesOf } from './replies.js';
import type { SessionSlot } from './session.js';

/** Local store key of the expiry index: message id to `expiresAt` (epoch ms). */
export const META_EXPIRING = 'expiringMessages';
/** Local store key of the server blobs of expired attachments of mine still to delete. */
export const META_EXPIRED_BLOBS = 'expiredBlobs';
/** Longest wait between two sweeps (a clock that jumps, a blob delete to try again). */
export const DEFAULT_SWEEP_MAX_MS = 60_000;

/** How the receiver and the receipts stamp and register messages that disappear. */
export interface ExpiryHooks {
  /** @returns the message with `expiresAt` from now, if it has a timer and no `expiresAt` yet (I read it) */
  onRead(m: StoredMessage): StoredMessage;
  /** @returns the message with `expiresAt` from its `sentAt`, if it has a timer (I sent it) */
  onSent(m: StoredMessage): StoredMessage;
  /** Registers a stored message's `expiresAt` with the sweeper. */
  track(m: StoredMessage): Promise<void>;
}

/** What {@link Disappearing} needs. */
export interface DisappearingDeps {
  api: ApiClient;
  session: SessionSlot;
  conversations: Conversations;
  deviceKeys: DeviceKeys;
  views: GroupViews;
  groups: Groups;
  queue: OutgoingQueue;
  emit: EmitFn;
  /** The clock (epoch ms; tests move it forward). */
  now: () => number;
  /** Longest wait between two sweeps (default {@link DEFAULT_SWEEP_MAX_MS}). */
  sweepMaxMs?: number | undefined;
}

/**
 * Disappearing messages. The timer of a conversation is part of my end-to-end state (the group's
 * view, or the direct chat's entry in the same state; both go into the key backup), never a
 * server flag. A text or attachment carries the timer it was sent with (`expiresInS`); it
 * disappears `expiresInS` after it was sent (mine) or after I read it (received). A sweeper
 * deletes what is due from the local store, tells the UI (`messagesExpired`) and deletes the
 * server blob of my expired attachments.
 */
export class Disappearing implements ExpiryHooks {
  private expiring: Record<string, number> = {};
  private blobs: string[] = [];
  private sweepTimer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private sweeping: Promise<void> | undefined;

  /** @param deps collaborators and clock */
  constructor(private readonly deps: DisappearingDeps) {}

  /**
   * @param conversationId a conversation
   * @returns its disappearing timer in seconds, or null when off
   */
  timer(conversationId: string): number | null {
    return this.deps.views.timerOf(conversationId);
  }

  /**
   * Sets a conversation's timer: in a group a `timer` op (owners and admins; groups.ts), in a
   * direct chat a `timer` message (either member) through the outgoing queue. Both record an
   * event line ("Alice set disappearing messages to 1 hour") in the chat. In a direct chat the
   * setting is applied here at once, dated by this device's clock, whatever was stored before
   * (what the event line says is what this device uses).
   * @param conversationId the conversation
   * @param seconds the timer (null: off)
   * @param options direct chats: `wait: false` to return once the `timer` message is queued
   *   (it is applied here at once either way)
   * @throws {ApiError} `validation_error` for a timer out of range, `forbidden` for a plain member of a group
   */
  async set(
    conversationId: string,
    seconds: number | null,
    options: SendOptions = {},
  ): Promise<void> {
    if (!DisappearTimer.safeParse(seconds).success)
      throw new ApiError(400, 'validation_error', 'a timer is 1 s to 1 year, or off');
    const { views, groups, session, deviceKeys, queue } = this.deps;
    if (views.view(conversationId)) return groups.setTimer(conversationId, seconds);
    const c = await this.deps.conversations.get(conversationId);
    if (c.kind === 'group')
      throw new ApiError(0, 'group_state_pending', "waiting for the group's state from a member");
    if (c.kind !== 'direct')
      throw new ApiError(
        400,
        'validation_error',
        'disappearing messages are set in a chat with someone',
      );
    const me = session.require().user.id;
    const id = randomId();
    // The wall clock (not deps.now, which tests move forward for expiry): settings are ordered
    // against the server's timestamps.
    const at = Date.now();
    await views.exclusive(async () => {
      await views.setDirectTimer(conversationId, seconds, at, { force: true });
      await views.record(
        {
          id,
          conversationId,
          senderUserId: me,
          senderDeviceId: deviceKeys.cachedId ?? 0,
          direction: 'out',
          sentAt: at,
          status: 'sent',
        },
        { type: 'timer', actorUserId: me, timerS: seconds },
      );
    });
    const plain: PlaintextMessage = {
      v: FORMAT_VERSION,
      kind: 'timer',
      id,
      conversationId,
      sentAt: at,
      timer: { seconds },
    };
    await queue.sendControl(plain, options);
  }

  /**
   * A received `timer` message (a direct chat's member, or my other device): applied unless a
   * later setting is stored; groups ignore it (their timer is a group op checked against roles).
   * Settings are ordered by the envelope's server timestamp (clamped to 5 min after this
   * device's clock), never by the sender's `sentAt`: a setting dated in the future cannot lock
   * the timer.
   * @param env the envelope's sender and server fields
   * @param plain the plaintext
   */
  async receive(
    env: {
      senderUserId: string;
      senderDeviceId: number;
      serverTimestamp: string;
      messageId: string;
    },
    plain: PlaintextMessage,
  ): Promise<void> {
    const { views, session } = this.deps;
    const s = session.require();
    if (!plain.timer) return;
    const seconds = plain.timer.seconds;
    // Only a direct chat takes a `timer` message (a group's timer is its op, checked against roles).
    const kind = views.view(plain.conversationId)
      ? 'group'
      : (await this.deps.conversations.get(plain.conversationId).catch(() => undefined))?.kind;
    if (kind !== 'direct') {
      this.deps.emit('groupChangeRefused', {
        conversationId: plain.conversationId,
        fromUserId: env.senderUserId,
        op: 'timer',
        reason: 'not_allowed',
      });
      return;
    }
    await views.exclusive(async () => {
      if (await s.store.getMessage(plain.id)) return; // applied already
      const at = settingTime(plain.sentAt, env.serverTimestamp, Date.now());
      if (!(await views.setDirectTimer(plain.conversationId, seconds, at))) return;
      const mine = env.senderUserId === s.user.id;
      await views.record(
        {
          id: plain.id,
          conversationId: plain.conversationId,
          senderUserId: env.senderUserId,
          senderDeviceId: env.senderDeviceId,
          direction: mine ? 'out' : 'in',
          sentAt: at, // the line sits where the setting is ordered
          serverTimestamp: env.serverTimestamp,
          serverMessageId: env.messageId,
          status: mine ? 'sent' : 'received',
        },
        { type: 'timer', actorUserId: env.senderUserId, timerS: seconds },
      );
    });
  }

  /** @inheritdoc */
  onRead(m: StoredMessage): StoredMessage {
    if (!m.expiresInS || m.expiresAt !== undefined) return m;
    return { ...m, expiresAt: this.deps.now() + m.expiresInS * 1000 };
  }

  /** @inheritdoc */
  onSent(m: StoredMessage): StoredMessage {
    if (!m.expiresInS || m.expiresAt !== undefined) return m;
    return { ...m, expiresAt: m.sentAt + m.expiresInS * 1000 };
  }

  /** @inheritdoc */
  async track(m: StoredMessage): Promise<void> {
    const s = this.deps.session.current;
    if (m.expiresAt === undefined || !s) return;
    this.expiring = { ...this.expiring, [m.id]: m.expiresAt };
    await s.store.setMeta(META_EXPIRING, this.expiring);
    this.schedule();
  }

  /**
   * Starts the sweeper for the logged-in session (login, resume): loads the expiry index and
   * sweeps at once what ran out while the app was closed.
   */
  async start(): Promise<void> {
    const s = this.deps.session.require();
    const index = await s.store.getMeta(META_EXPIRING);
    const blobs = await s.store.getMeta(META_EXPIRED_BLOBS);
    this.expiring = {};
    if (index && typeof index === 'object') {
      for (const [id, at] of Object.entries(index))
        if (typeof at === 'number') this.expiring[id] = at;
    }
    this.blobs = Array.isArray(blobs)
      ? blobs.filter((b): b is string => typeof b === 'string')
      : [];
    this.running = true;
    this.schedule(0);
  }

  /** Stops the sweeper (log out); the index stays in the store for the next login. */
  stop(): void {
    this.running = false;
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.expiring = {};
    this.blobs = [];
  }

  /**
   * Deletes every message whose time is up from the local store, emits `messagesExpired` per
   * conversation, then deletes the server blobs of my expired attachments (kept and tried again
   * at the next sweep when the server cannot be reached).
   */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepNow().finally(() => {
      this.sweeping = undefined;
      this.schedule();
    });
    return this.sweeping;
  }

  private async sweepNow(): Promise<void> {
    const s = this.deps.session.current;
    if (!s) return;
    const now = this.deps.now();
    const due = Object.entries(this.expiring)
      .filter(([, at]) => at <= now)
      .map(([id]) => id);
    const gone = new Map<string, string[]>();
    for (const id of due) {
      const m = await s.store.getMessage(id);
      if (this.deps.session.current !== s) return;
      if (m) {
        await s.store.deleteMessage(id);
        // Only the uploader may delete a blob: my attachments (sent from any of my devices).
        if (m.attachment && m.direction === 'out') this.blobs.push(m.attachment.id);
        gone.set(m.conversationId, [...(gone.get(m.conversationId) ?? []), id]);
      }
      delete this.expiring[id];
    }
    if (due.length > 0) {
      await s.store.setMeta(META_EXPIRING, this.expiring);
      await s.store.setMeta(META_EXPIRED_BLOBS, this.blobs);
    }
    if (due.length > 0) await dropPendingFor(s.store, due);
    for (const [conversationId, messageIds] of gone) {
      this.deps.emit('messagesExpired', { conversationId, messageIds });
      // Replies quoting an expired message lose its words too.
      for (const reply of await clearQuotesOf(s.store, conversationId, messageIds))
        this.deps.emit('messageChanged', reply);
    }
    if (this.blobs.length === 0) return;
    const left: string[] = [];
    for (const id of [...new Set(this.blobs)]) {
      await deleteAttachmentBlob(this.deps.api, id).catch((err: unknown) => {
        left.push(id);
        this.deps.emit('error', err);
      });
    }
    if (this.deps.session.current !== s) return;
    this.blobs = left;
    await s.store.setMeta(META_EXPIRED_BLOBS, left);
  }

  /** One timer: the next expiry, or at most {@link DisappearingDeps.sweepMaxMs} away. */
  private schedule(delayMs?: number): void {
    if (!this.running) return;
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    const max = this.deps.sweepMaxMs ?? DEFAULT_SWEEP_MAX_MS;
    const next = Math.min(...Object.values(this.expiring));
    const wait =
      delayMs ?? (Number.isFinite(next) ? Math.max(0, Math.min(next - this.deps.now(), max)) : max);
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      void this.sweep().catch((err: unknown) => this.deps.emit('error', err));
    }, wait);
    (this.sweepTimer as { unref?: () => void }).unref?.();
  }
}
