/**
 * The fault suite's delivery ledger: what each simulated device received, on which of its
 * connections, and whether that could have been live.
 *
 * Every device's connections are numbered (its "epoch": 1 for the first connection, +1 on each
 * reconnect). When a send attempt is emitted, the ledger notes each recipient device's epoch and
 * whether it was connected; the attempt that gets the ack fixes that snapshot for the message.
 * A delivery of the message to a device is then:
 * - **live**: the device was connected when the acked attempt was sent and the copy came on that
 *   same connection (or an earlier one: an earlier attempt was stored and delivered, its ack lost);
 * - **after reconnect**: the device was not connected then, or the copy came on a later
 *   connection (the socket was cut in between, so the server's mailbox drain on the new
 *   connection brought it).
 * A message not received at all by a device that is still on the connection it had when the
 * message was sent is **lost live**: the device stayed connected and the server never pushed it.
 * Nothing here asks the server for anything (no `mailbox:sync`): the ledger only listens.
 *
 * Bodies carry their clientMessageId in the first 24 bytes, so each copy is checked against what
 * was sent (body, conversation, sender). Order: if message A of a sender was acked before that
 * sender's message B was first sent, every device must receive A before B.
 */
import { randomBytes } from 'node:crypto';
import type { MessageNew } from '@cipherchat/contracts';

/** Bytes of a body reserved for the clientMessageId (24 bytes = 32 base64 characters, no padding). */
const ID_BYTES = 24;
const ID_CHARS = 32;

/** What the ledger knows about one message. */
export interface LedgerMessage {
  clientMessageId: string;
  senderKey: number;
  senderUserId: string;
  conversationId: string;
  body: string;
  recipients: number[];
  /** Per recipient: [epoch, connected] at the attempt that got the ack. */
  atSend?: Map<number, [number, boolean]>;
  messageId?: string;
  firstAttemptAt?: number;
  ackedAt?: number;
}

/** One device's connection state. */
interface DeviceState {
  epoch: number;
  connected: boolean;
  drops: number;
}

/** First copy of a message on a device. */
interface Receipt {
  epoch: number;
  at: number;
  /** The clientMessageId its body names ('' if none). */
  cmid: string;
}

/** Totals the report shows. */
export interface LedgerSummary {
  expected: number;
  live: number;
  afterReconnect: number;
  missingLive: number;
  missingAfterCut: number;
  unexpected: number;
  rawDuplicates: number;
  bodyMismatches: number;
  unknownBodies: number;
  /** A copy that came before an older message of its sender, where the older one came live (a device that stayed on its connection). */
  orderViolations: number;
  /** The same where the older message came after the device reconnected (the drain→live switch of a new connection). */
  orderViolationsAcrossReconnect: number;
  devicesCut: number;
  devicesNeverCut: number;
  missingLiveSample: string[];
  missingAfterCutSample: string[];
  orderViolationSample: string[];
}

/** See the module comment. */
export class DeliveryLedger {
  private readonly devices = new Map<number, DeviceState>();
  private readonly byClientId = new Map<string, LedgerMessage>();
  private readonly byMessageId = new Map<string, LedgerMessage>();
  /** `${key}:${messageId}` -> first receipt. */
  private readonly receipts = new Map<string, Receipt>();
  /** Per `${sender}>${device}`: the acked messages from that sender to that device, in ack order. */
  private readonly ackOrder = new Map<string, LedgerMessage[]>();
  /** Per `${sender}>${device}`: how many of those the device has, contiguously from the start. */
  private readonly prefix = new Map<string, number>();
  private rawDuplicates = 0;
  private bodyMismatches = 0;
  private unknownBodies = 0;
  private readonly orderViolations: { key: number; early: LedgerMessage; late: LedgerMessage }[] =
    [];

  /**
   * A device's connection opened or closed.
   * @param key client key
   * @param connected now connected?
   */
  connection(key: number, connected: boolean): void {
    const d = this.device(key);
    if (connected && !d.connected) d.epoch++;
    if (!connected && d.connected) d.drops++;
    d.connected = connected;
  }

  /**
   * Makes a body that names its message.
   * @param clientMessageId the send's id (≤ 24 ASCII characters)
   * @param bytes body size before base64 (≥ 24)
   * @returns base64 body
   */
  static body(clientMessageId: string, bytes: number): string {
    return Buffer.concat([
      Buffer.from(clientMessageId.padEnd(ID_BYTES, ' ').slice(0, ID_BYTES), 'latin1'),
      randomBytes(Math.max(0, bytes - ID_BYTES)),
    ]).toString('base64');
  }

  /**
   * Registers a new message (before its first attempt).
   * @param m the message
   */
  add(m: LedgerMessage): void {
    this.byClientId.set(m.clientMessageId, m);
  }

  /**
   * Snapshot of the recipients' connections at an attempt's emit.
   * @param m the message
   * @returns the snapshot to hand to {@link acked}
   */
  attempt(m: LedgerMessage): Map<number, [number, boolean]> {
    m.firstAttemptAt ??= performance.now();
    return new Map(m.recipients.map((r) => [r, [this.device(r).epoch, this.device(r).connected]]));
  }

  /**
   * An attempt got its (first) ack.
   * @param m the message
   * @param messageId the server's id
   * @param snapshot from {@link attempt} for that attempt
   */
  acked(m: LedgerMessage, messageId: string, snapshot: Map<number, [number, boolean]>): void {
    if (m.messageId) return;
    m.messageId = messageId;
    m.ackedAt = performance.now();
    m.atSend = snapshot;
    this.byMessageId.set(messageId, m);
    for (const r of m.recipients) {
      const key = `${m.senderKey}>${r}`;
      const list = this.ackOrder.get(key) ?? [];
      list.push(m);
      this.ackOrder.set(key, list);
    }
  }

  /**
   * A copy arrived.
   * @param key receiving client key
   * @param msg the envelope
   */
  receive(key: number, msg: MessageNew): void {
    const id = `${key}:${msg.messageId}`;
    if (this.receipts.has(id)) {
      this.rawDuplicates++;
      return;
    }
    const cmid = Buffer.from(msg.body.slice(0, ID_CHARS), 'base64').toString('latin1').trimEnd();
    this.receipts.set(id, { epoch: this.device(key).epoch, at: performance.now(), cmid });
    const m = this.byClientId.get(cmid);
    if (!m) {
      this.unknownBodies++;
      return;
    }
    if (
      m.body !== msg.body ||
      m.conversationId !== msg.conversationId ||
      m.senderUserId !== msg.senderUserId ||
      !m.recipients.includes(key)
    )
      this.bodyMismatches++;
    this.checkOrder(key, m);
  }

  /**
   * Every message from the same sender to this device that was acked before `m` was first sent
   * must already be here. (One message lost or late makes each later one a violation until it comes.)
   */
  private checkOrder(key: number, m: LedgerMessage): void {
    const pk = `${m.senderKey}>${key}`;
    const list = this.ackOrder.get(pk);
    if (!list || m.firstAttemptAt === undefined) return;
    let p = this.prefix.get(pk) ?? 0;
    while (p < list.length && this.receipts.has(`${key}:${(list[p] as LedgerMessage).messageId}`))
      p++;
    this.prefix.set(pk, p);
    // messages of this sender acked before m's first attempt (ack order is time order)
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (((list[mid] as LedgerMessage).ackedAt ?? Infinity) < m.firstAttemptAt) lo = mid + 1;
      else hi = mid;
    }
    if (p < lo) {
      this.orderViolations.push({ key, early: m, late: list[p] as LedgerMessage });
    }
  }

  /**
   * A check before a fault: every message acked more than `settledMs` ago must already be on
   * each recipient device that has stayed on the connection it had when the message was sent.
   * (The fault to come cannot explain those; and a later recovery, such as the server's mailbox
   * pass when Redis comes back, must not hide them.)
   * @param acked the acked messages
   * @param devices the devices to check
   * @param settledMs how long a live delivery may take
   * @returns how many are missing, and a few of them
   */
  checkpoint(
    acked: LedgerMessage[],
    devices: Set<number>,
    settledMs: number,
  ): { missing: number; sample: string[] } {
    const before = performance.now() - settledMs;
    const out = { missing: 0, sample: [] as string[] };
    for (const m of acked) {
      if (m.ackedAt === undefined || m.ackedAt > before) continue;
      for (const r of m.recipients) {
        if (!devices.has(r) || this.receipts.has(`${r}:${m.messageId}`)) continue;
        const [epoch, connected] = m.atSend?.get(r) ?? [0, false];
        const d = this.device(r);
        if (!connected || d.epoch !== epoch || !d.connected) continue;
        out.missing++;
        if (out.sample.length < 5)
          out.sample.push(`device ${r} ${m.clientMessageId} ${m.messageId}`);
      }
    }
    return out;
  }

  /**
   * @param key client key
   * @returns whether the device's socket was ever dropped
   */
  wasCut(key: number): boolean {
    return this.device(key).drops > 0;
  }

  /**
   * Classifies every expected delivery of the acked messages to the given devices.
   * @param acked the acked messages
   * @param devices the devices to count (others are left out)
   * @returns the totals
   */
  summarize(acked: LedgerMessage[], devices: Set<number>): LedgerSummary {
    const s: LedgerSummary = {
      expected: 0,
      live: 0,
      afterReconnect: 0,
      missingLive: 0,
      missingAfterCut: 0,
      unexpected: 0,
      rawDuplicates: this.rawDuplicates,
      bodyMismatches: this.bodyMismatches,
      unknownBodies: this.unknownBodies,
      orderViolations: 0,
      orderViolationsAcrossReconnect: 0,
      devicesCut: 0,
      devicesNeverCut: 0,
      missingLiveSample: [],
      missingAfterCutSample: [],
      orderViolationSample: [],
    };
    for (const v of this.orderViolations) {
      if (!devices.has(v.key)) continue;
      const [epoch, connected] = v.late.atSend?.get(v.key) ?? [0, false];
      const got = this.receipts.get(`${v.key}:${v.late.messageId}`);
      const live = connected && got !== undefined && got.epoch <= epoch;
      if (live) s.orderViolations++;
      else s.orderViolationsAcrossReconnect++;
      if (s.orderViolationSample.length < 5)
        s.orderViolationSample.push(
          `device ${v.key}: ${v.early.clientMessageId} before ${v.late.clientMessageId} (${live ? 'live' : 'across a reconnect'})`,
        );
    }
    for (const k of devices) {
      if (this.wasCut(k)) s.devicesCut++;
      else s.devicesNeverCut++;
    }
    for (const m of acked) {
      for (const r of m.recipients) {
        if (!devices.has(r)) continue;
        s.expected++;
        const [epoch, connected] = m.atSend?.get(r) ?? [0, false];
        const got = this.receipts.get(`${r}:${m.messageId}`);
        if (got) {
          if (connected && got.epoch <= epoch) s.live++;
          else s.afterReconnect++;
          continue;
        }
        const d = this.device(r);
        const label = `device ${r} ${m.clientMessageId} ${m.messageId}`;
        if (connected && d.epoch === epoch && d.connected) {
          s.missingLive++;
          if (s.missingLiveSample.length < 5) s.missingLiveSample.push(label);
        } else {
          s.missingAfterCut++;
          if (s.missingAfterCutSample.length < 5) s.missingAfterCutSample.push(label);
        }
      }
    }
    // a copy whose message was never acked, or acked under another id (stored twice)
    for (const [id, r] of this.receipts) {
      const sep = id.indexOf(':');
      if (!devices.has(Number(id.slice(0, sep)))) continue;
      if (this.byClientId.get(r.cmid)?.messageId !== id.slice(sep + 1)) s.unexpected++;
    }
    return s;
  }

  /**
   * @param key client key
   * @param messageId server id
   * @returns whether the device has a copy
   */
  has(key: number, messageId: string): boolean {
    return this.receipts.has(`${key}:${messageId}`);
  }

  private device(key: number): DeviceState {
    let d = this.devices.get(key);
    if (!d) {
      d = { epoch: 0, connected: false, drops: 0 };
      this.devices.set(key, d);
    }
    return d;
  }
}
