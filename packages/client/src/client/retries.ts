import type { PlaintextMessage, RetryControl } from '../messages/message.schema.js';
import { readPlaintextJson } from '../messages/plaintext-codec.js';
import { UntrustedIdentityError } from '../protocol/errors.js';
import { KeyedSerialQueue } from '../protocol/serial-queue.js';
import { ApiError } from '../transport/api-error.js';
import { RequestBudget } from './retry-budget.js';
import type { RetryGate } from './retry-gate.js';
import { freshSession, resendContent, retryPlaintext, sendRetryTo } from './retry-send.js';
import type { IncomingEnvelope } from '../transport/socket-client.js';
import type { EmitFn } from './client-types.js';
import type { ContactSessions } from './contact-sessions.js';
import type { DeviceKeys } from './device-keys.js';
import type { MessageSender, SentRecord } from './message-sender.js';
import {
  checkRetryRequest,
  keptPlaintext,
  SentLog,
  type RefusedReason,
  type SentEntry,
} from './retry-log.js';
import {
  capPlaceholders,
  causeOfAnswer,
  failed,
  isRetryable,
  newPlaceholder,
  nextStep,
  RETRY_GIVE_UP_MS,
  statsOf,
  type RetryCause,
  type RetryCounters,
  type RetryPlaceholder,
  type RetryStats,
  unansweredOf,
} from './retry-state.js';
import type { SessionSlot } from './session.js';

const META_PLACEHOLDERS = 'retry.placeholders';
const META_COUNTERS = 'retry.counters';
/** How often waiting placeholders are looked at (requests again, give-ups, removed devices). */
export const RETRY_TICK_MS = 10_000;

/** What {@link Retries} needs. */
export interface RetriesDeps {
  session: SessionSlot;
  sender: MessageSender;
  contacts: ContactSessions;
  deviceKeys: DeviceKeys;
  /** Whether a request may go to a placeholder's sender now (retry-gate.ts: requests, blocks, membership). */
  gate: (conversationId: string, senderUserId: string) => Promise<RetryGate>;
  /** Whether the socket is connected (requests wait for it). */
  connected: () => boolean;
  emit: EmitFn;
  now?: () => number;
  /** How long a placeholder waits before it says "not re-sent" (default {@link RETRY_GIVE_UP_MS}). */
  giveUpMs?: number;
}

/**
 * No silent decrypt failures (docs/client.md "Decrypt failures and retries"). As the receiver: a
 * message that fails to decrypt becomes a placeholder, the session with its sender's device is
 * rebuilt from a fresh bundle and a `retry` request names the message to that device; a resend
 * resolves the placeholder with the message in its place, an answer or a removed device ends it
 * with a cause. As the sender: a request is served only for a message this device sent in the
 * last 24 h to the asking device, through the same conversation, a bounded number of times.
 */
export class Retries {
  private readonly log = new SentLog();
  private placeholders: RetryPlaceholder[] = [];
  private counters: RetryCounters = { resolved: 0, requestsSent: 0, resent: 0, refused: 0 };
  private readonly lanes = new KeyedSerialQueue();
  private readonly resets = new Map<string, number>();
  private readonly budget = new RequestBudget();
  private timer: ReturnType<typeof setInterval> | undefined;

  /** @param deps collaborators */
  constructor(private readonly deps: RetriesDeps) {}

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** Loads the log, placeholders and counters of a session's store, and starts the periodic look. */
  async load(store: import('../storage/protocol-store.js').ProtocolStore): Promise<void> {
    await this.log.load(store);
    const list = await store.getMeta(META_PLACEHOLDERS);
    this.placeholders = Array.isArray(list)
      ? (list as RetryPlaceholder[]).filter((p) => typeof p?.messageId === 'string')
      : [];
    const c = (await store.getMeta(META_COUNTERS)) as Partial<RetryCounters> | undefined;
    const n = (k: keyof RetryCounters) => (typeof c?.[k] === 'number' ? c[k] : 0);
    this.counters = {
      resolved: n('resolved'),
      requestsSent: n('requestsSent'),
      resent: n('resent'),
      refused: n('refused'),
    };
    if (!this.timer) {
      const tick = () => void this.tick().catch((err: unknown) => this.deps.emit('error', err));
      this.timer = setInterval(tick, RETRY_TICK_MS);
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  /** Stops the periodic look and writes the log (log-out). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.log.flush().catch(() => undefined);
  }

  /** @param conversationId only this conversation's @returns the placeholders, oldest first */
  pending(conversationId?: string): RetryPlaceholder[] {
    return this.placeholders
      .filter((p) => conversationId === undefined || p.conversationId === conversationId)
      .map((p) => ({ ...p }));
  }

  /** @returns counters of unresolved failures (in all and per sender device), resolutions, requests, resends, refusals */
  stats(): RetryStats {
    return statsOf(this.placeholders, this.counters);
  }

  /** @param sent a send the server accepted: kept in the log (not retries themselves: no retry of a retry) */
  recordSent(sent: SentRecord): void {
    if (sent.plaintext.kind === 'retry') return;
    const p = keptPlaintext(sent.plaintext);
    const entry: SentEntry = {
      s: sent.messageId,
      c: sent.plaintext.id,
      k: sent.plaintext.kind,
      conv: sent.conversationId,
      r: sent.readers,
      t: this.now(),
    };
    this.log.record(p ? { ...entry, p } : entry);
  }

  /**
   * An envelope failed to decrypt: a placeholder for it (once per server id) and a request.
   * @param env the envelope
   * @param code the decrypt error's code
   */
  async onDecryptFailed(env: IncomingEnvelope, code: string): Promise<void> {
    if (!isRetryable(code) || this.placeholders.some((p) => p.messageId === env.messageId)) return;
    const p = newPlaceholder(env, code, this.now());
    this.placeholders = capPlaceholders([...this.placeholders, p]);
    await this.save();
    this.deps.emit('retryChanged', { ...p });
    void this.ask(p.messageId).catch((err: unknown) => this.deps.emit('error', err));
  }

  /** Sends due requests, gives up on old placeholders (also on reconnection and every {@link RETRY_TICK_MS}). */
  async tick(): Promise<void> {
    if (!this.deps.session.current) return;
    const now = this.now();
    for (const p of [...this.placeholders]) {
      const step = nextStep(p, now, this.deps.giveUpMs ?? RETRY_GIVE_UP_MS);
      if (step === 'give_up') await this.end(p.messageId, 'no_answer');
      else if (step === 'request')
        await this.ask(p.messageId).catch((err: unknown) => this.deps.emit('error', err));
    }
  }

  /**
   * A `retry` plaintext arrived. Only the device it names acts on it.
   * @param env its envelope
   * @param plain the plaintext (kind `retry`)
   * @param deliver handles a resent plaintext as if just received (message-receiver.ts)
   */
  async receive(
    env: IncomingEnvelope,
    plain: PlaintextMessage,
    deliver: (env: IncomingEnvelope, plain: PlaintextMessage) => Promise<void>,
  ): Promise<void> {
    const r = plain.retry;
    const s = this.deps.session.require();
    if (!r || r.to.userId !== s.user.id || r.to.deviceId !== this.deps.deviceKeys.cachedId) return;
    if (r.op === 'request') {
      this.serve(env, r);
      return;
    }
    // A resend or an answer counts only from the very device whose message failed, through its conversation.
    const p = this.placeholders.find(
      (x) =>
        x.messageId === r.messageId &&
        x.senderUserId === env.senderUserId &&
        x.senderDeviceId === env.senderDeviceId &&
        x.conversationId === env.conversationId,
    );
    if (!p) return;
    if (r.op === 'answer') {
      const cause = causeOfAnswer(r.reason);
      await (cause ? this.end(p.messageId, cause) : this.resolve(p));
      return;
    }
    let inner: PlaintextMessage | undefined;
    try {
      const decoded = r.plaintext !== undefined ? readPlaintextJson(r.plaintext) : undefined;
      if (decoded?.type === 'known') inner = decoded.plain;
    } catch {
      inner = undefined;
    }
    // Nothing moved into another conversation.
    // A request or an answer sent again is handled as received; a resend inside a resend is not.
    if (!inner || inner.retry?.op === 'resend' || inner.conversationId !== env.conversationId)
      return;
    // Stored as the original: its server id and time (it takes the placeholder's place); a late
    // original or a second resend is the same client id and is dropped by the receiver's dedupe.
    // The resend of a failed resend names the original too: both resolve, stored as the original.
    const original =
      r.of !== undefined
        ? this.placeholders.find(
            (x) =>
              x.messageId === r.of &&
              x.senderUserId === p.senderUserId &&
              x.senderDeviceId === p.senderDeviceId &&
              x.conversationId === p.conversationId,
          )
        : undefined;
    const first = original ?? p;
    await deliver(
      { ...env, messageId: first.messageId, serverTimestamp: first.serverTimestamp },
      inner,
    );
    await this.resolve(p, inner.id);
    if (original) await this.resolve(original, inner.id);
  }

  /** Asks the sender's device for a placeholder's message (on a fresh session the first time). */
  private ask(messageId: string): Promise<void> {
    const first = this.placeholders.find((p) => p.messageId === messageId);
    if (!first) return Promise.resolve();
    return this.lanes.run(`${first.senderUserId}.${first.senderDeviceId}`, async () => {
      const p = this.placeholders.find((x) => x.messageId === messageId);
      if (!p || nextStep(p, this.now(), this.deps.giveUpMs) !== 'request' || !this.deps.connected())
        return;
      const s = this.deps.session.require();
      // Gated and budgeted before any session work (a bundle fetch costs the peer a prekey).
      const gate = await this.deps.gate(p.conversationId, p.senderUserId);
      if (gate === 'left') return this.end(messageId, 'left');
      if (gate === 'hold') return;
      const device = `${p.senderUserId}.${p.senderDeviceId}`;
      const unanswered = p.requests === 0 ? unansweredOf(this.placeholders, p) : 0;
      if (!this.budget.allows(device, this.now(), unanswered)) return;
      this.budget.spend(device, this.now());
      try {
        await freshSession(
          {
            session: this.deps.session,
            contacts: this.deps.contacts,
            resets: this.resets,
            now: this.now(),
          },
          p.senderUserId,
          p.senderDeviceId,
          p.requests === 0,
        );
      } catch (err) {
        if (err instanceof UntrustedIdentityError) return this.end(messageId, 'identity_changed');
        if (err instanceof ApiError && err.status === 404)
          return this.end(messageId, 'device_removed');
        throw err;
      }
      // The server lists no keys for it any more: it was removed.
      if (!(await s.protocol.hasSession(p.senderUserId, p.senderDeviceId)))
        return this.end(messageId, 'device_removed');
      const to = { userId: p.senderUserId, deviceId: p.senderDeviceId };
      const request = retryPlaintext(
        p.conversationId,
        { op: 'request', messageId, to },
        this.now(),
      );
      // Not logged: a request is never sent again (one lost is followed by the next, up to MAX_REQUESTS).
      if (!(await sendRetryTo(this.sendDeps(), p.conversationId, to, request))) {
        // Not addressed: the server no longer lists the device (the send dropped its session),
        // or its user is no longer in the conversation in my view.
        const removed = !(await s.protocol.hasSession(to.userId, to.deviceId));
        return this.end(messageId, removed ? 'device_removed' : 'left');
      }
      this.update(messageId, (x) => ({
        ...x,
        requests: x.requests + 1,
        lastRequestAt: this.now(),
      }));
      this.counters.requestsSent += 1;
      await this.save();
    });
  }

  /** Serves a request in the asking device's lane (not the inbox's: it sends). */
  private serve(env: IncomingEnvelope, r: RetryControl): void {
    const reader = `${env.senderUserId}.${env.senderDeviceId}`;
    const now = this.now();
    const check = checkRetryRequest(
      this.log.get(r.messageId),
      { conversationId: env.conversationId, reader },
      now,
    );
    if (!check.ok) return this.refuse(env, r, check.reason);
    const to = { userId: env.senderUserId, deviceId: env.senderDeviceId };
    void this.lanes
      .run(reader, async () => {
        // Answering follows the rules of asking: nothing to someone I blocked or whose request
        // I have not accepted, nor to someone no longer in the conversation (retry-gate.ts).
        if ((await this.deps.gate(env.conversationId, env.senderUserId)) !== 'ok')
          return this.refuse(env, r, 'blocked');
        if (!this.log.take(check.entry, reader, now)) return this.refuse(env, r, 'rate_limited');
        // No reset here: the asking device rebuilt its side before asking (a first message, which
        // this device's session now follows), or its request decrypted on the current session,
        // which then works both ways. Resetting too would race with its fresh session.
        const content = await resendContent(
          this.deps.session.require().store,
          check.entry,
          this.now(),
        );
        const real = retryPlaintext(
          env.conversationId,
          {
            op: content.plaintext ? 'resend' : 'answer',
            messageId: r.messageId,
            to,
            ...(content.plaintext
              ? {
                  plaintext: JSON.stringify(content.plaintext),
                  ...(check.entry.o ? { of: check.entry.o } : {}),
                }
              : { reason: content.reason }),
          },
          this.now(),
        );
        // Logged with the depth of what it answers: a resend is sent again from the history.
        const depth = (check.entry.d ?? 0) + 1;
        const logAs = content.plaintext
          ? {
              c: check.entry.c,
              k: check.entry.k,
              ...(check.entry.p !== undefined ? { p: check.entry.p } : {}),
              o: check.entry.o ?? check.entry.s,
              d: depth,
            }
          : { c: real.id, k: 'retry', p: JSON.stringify(real), d: depth };
        if (!(await sendRetryTo(this.sendDeps(), env.conversationId, to, real, logAs))) return;
        if (content.plaintext) this.counters.resent += 1;
        await this.save();
      })
      .catch((err: unknown) => this.deps.emit('error', err));
  }

  private sendDeps(): Parameters<typeof sendRetryTo>[0] {
    return { sender: this.deps.sender, log: this.log, now: this.now() };
  }

  private refuse(env: IncomingEnvelope, r: RetryControl, reason: RefusedReason): void {
    this.counters.refused += 1;
    void this.save().catch(() => undefined);
    this.deps.emit('retryRefused', {
      fromUserId: env.senderUserId,
      fromDeviceId: env.senderDeviceId,
      messageId: r.messageId,
      reason,
    });
  }

  private async resolve(p: RetryPlaceholder, resolvedId?: string): Promise<void> {
    this.placeholders = this.placeholders.filter((x) => x.messageId !== p.messageId);
    this.counters.resolved += 1;
    await this.save();
    this.deps.emit('retryChanged', {
      ...p,
      state: 'resolved',
      ...(resolvedId ? { resolvedId } : {}),
    });
  }

  private async end(messageId: string, cause: RetryCause): Promise<void> {
    const p = this.update(messageId, (x) => failed(x, cause));
    await this.save();
    if (p) this.deps.emit('retryChanged', { ...p });
  }

  private update(
    messageId: string,
    change: (p: RetryPlaceholder) => RetryPlaceholder,
  ): RetryPlaceholder | undefined {
    let out: RetryPlaceholder | undefined;
    this.placeholders = this.placeholders.map((p) =>
      p.messageId === messageId ? (out = change(p)) : p,
    );
    return out;
  }

  private async save(): Promise<void> {
    const store = this.deps.session.current?.store;
    if (!store) return;
    await store.setMeta(META_PLACEHOLDERS, this.placeholders);
    await store.setMeta(META_COUNTERS, this.counters);
  }
}
