/**
 * The fault suite's senders. They behave like the real client's outbox: each sender keeps at
 * most WINDOW messages unacked, sends a new one every tick while its socket is connected, and
 * retries an unacked one with the same clientMessageId (the server dedupes) until it is acked.
 * Every attempt that fails is counted by the fault phase it happened in and its error code, so a
 * refused send is explained by the fault that caused it; a message still unacked at the end is a
 * failure.
 */
import type { ChatSocket } from '../src/load/client-host.js';
import { DeliveryLedger, type LedgerMessage } from './delivery-ledger.js';

/** A message the suite wants stored: retried until acked. */
export interface Outgoing extends LedgerMessage {
  envelopes: { userId: string; deviceId: number; type: number; body: string }[];
  /** User ids of recipients that were offline (expect a `chat.message_queued.v1` each). */
  offlineRecipients: string[];
  /** Phase of the first attempt, of the ack, and of the last attempt. */
  sentIn?: string;
  ackedIn?: string;
  lastAttemptIn?: string;
  attempts: number;
  lastAttemptAt: number;
  inflight: boolean;
  duplicateAcks: number;
  /** The server refused it for good (a 4xx-like code no retry can change): never retried. */
  rejected?: string;
}

/** What a sender's `next()` fills in. */
export type NewMessage = Pick<Outgoing, 'conversationId' | 'recipients' | 'offlineRecipients'> & {
  /** Recipient device addresses (one envelope each, all with the same body). */
  to: { userId: string; deviceId: number }[];
};

/** One sending device. */
export interface Sender {
  key: number;
  userId: string;
  socket: () => ChatSocket | undefined;
  /** The next message of this sender. */
  next: () => NewMessage;
}

const WINDOW = 5;
const RESEND_AFTER_MS = 3000;
const BODY_BYTES = 200;
/** Answers that say the request itself is wrong: a retry cannot change them. */
const PERMANENT = new Set(['validation_error', 'forbidden', 'not_found']);

/** Runs the senders on a timer; see the module comment. */
export class LoadDriver {
  readonly all: Outgoing[] = [];
  /** Failed attempts per fault phase and error code (`timeout` = no ack within RESEND_AFTER_MS). */
  readonly failedAttempts: Record<string, Record<string, number>> = {};
  /** Acks naming a different message id for a clientMessageId already acked: a message stored twice. */
  differentIdOnResend = 0;
  sending = true;
  private readonly queues = new Map<number, Outgoing[]>();
  private readonly seqs = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param senders who sends
   * @param ledger where messages and acks are recorded
   * @param phase the current fault phase
   * @param nonce makes clientMessageIds unique to this run
   */
  constructor(
    private readonly senders: Sender[],
    private readonly ledger: DeliveryLedger,
    private readonly phase: () => string,
    private readonly nonce: string,
  ) {}

  /**
   * Starts ticking.
   * @param tickMs one new message per sender per tick (when its window allows)
   */
  start(tickMs: number): void {
    this.timer = setInterval(() => this.tick(), tickMs);
  }

  /** Stops the timer (call after the last ack or the bound). */
  stop(): void {
    clearInterval(this.timer);
  }

  /** @returns messages still unacked and not refused for good */
  unacked(): number {
    return this.all.filter((o) => !o.messageId && !o.rejected).length;
  }

  private tick(): void {
    const now = Date.now();
    for (const s of this.senders) {
      const queue = (this.queues.get(s.key) ?? []).filter((o) => !o.messageId && !o.rejected);
      this.queues.set(s.key, queue);
      // retry what is unacked (the same clientMessageId: the server dedupes)
      for (const o of queue)
        if (!o.inflight && !o.rejected && now - o.lastAttemptAt >= 200) this.attempt(s, o);
      if (this.sending && queue.length < WINDOW && s.socket()?.connected) {
        const seq = this.seqs.get(s.key) ?? 0;
        this.seqs.set(s.key, seq + 1);
        const { to, ...rest } = s.next();
        const clientMessageId = `${this.nonce}${s.key}-${seq}`;
        const body = DeliveryLedger.body(clientMessageId, BODY_BYTES);
        const o: Outgoing = {
          ...rest,
          clientMessageId,
          senderKey: s.key,
          senderUserId: s.userId,
          body,
          envelopes: to.map((t) => ({ userId: t.userId, deviceId: t.deviceId, type: 1, body })),
          attempts: 0,
          lastAttemptAt: 0,
          inflight: false,
          duplicateAcks: 0,
        };
        this.ledger.add(o);
        queue.push(o);
        this.all.push(o);
        this.attempt(s, o);
      }
    }
  }

  private fail(phase: string, code: string): void {
    const byCode = (this.failedAttempts[phase] ??= {});
    byCode[code] = (byCode[code] ?? 0) + 1;
  }

  private attempt(s: Sender, o: Outgoing): void {
    const socket = s.socket();
    if (!socket?.connected) return;
    const phase = this.phase();
    o.inflight = true;
    o.sentIn ??= phase;
    o.lastAttemptIn = phase;
    o.attempts++;
    o.lastAttemptAt = Date.now();
    const snapshot = this.ledger.attempt(o);
    socket.timeout(RESEND_AFTER_MS).emit(
      'message:send',
      {
        conversationId: o.conversationId,
        clientMessageId: o.clientMessageId,
        envelopes: o.envelopes,
      },
      (err, res) => {
        o.inflight = false;
        if (err) return this.fail(phase, 'timeout');
        if (!res.ok) {
          if (PERMANENT.has(res.error.code)) o.rejected = res.error.code;
          return this.fail(phase, res.error.code);
        }
        if (o.messageId && o.messageId !== res.data.messageId) this.differentIdOnResend++;
        if (o.messageId || res.data.duplicate) o.duplicateAcks++;
        o.ackedIn ??= this.phase();
        this.ledger.acked(o, res.data.messageId, snapshot);
      },
    );
  }
}
