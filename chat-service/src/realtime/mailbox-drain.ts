import type { Logger } from '@cipherchat/service-kit';
import type { ChatDeps } from '../domain/deps.js';
import { mailboxDrained, readMailboxBatch } from '../domain/mailbox.js';
import type { MailboxRow } from '../domain/ports.js';
import { deviceRoom, type ChatSocket } from './chat-socket.js';
import type { RealtimeMetrics } from './realtime.metrics.js';

const DRAIN_BATCH = 200;

/** Rows of the first drain: stored since shortly before pass 1, and the ids pass 1 sent. */
interface InitialWindow {
  since: Date;
  skip: Set<string>;
  record: Set<string>;
}

/**
 * The mailbox drain of one socket: a small state machine that emits the device's stored
 * envelopes in `seq` order, then `mailbox:empty`, and decides when the socket joins its
 * device room (and so starts getting live deliveries).
 *
 * The first time (on connect): pass 1 over everything, then join the device room, then pass 2
 * over rows stored since shortly before pass 1 began, skipping what pass 1 sent. Whatever
 * commits after the join is delivered live, and whatever committed before it is read by one of
 * the passes: nothing falls in between. A `mailbox:sync` while a drain runs makes it run once
 * more (a full pass). The late pass (LATE_PASS_MS after presence registration) runs pass 2
 * once more, for messages another process emitted to this device's other socket only, trusting
 * a presence lookup made just before this socket registered. Such a message was stored (server
 * time taken after the lookup, committed within LOCAL_DELIVERY_WINDOW_MS of it) before
 * registration + that window; allowing CLOCK_SKEW_MS between processes' clocks, the late pass
 * reads rows stored before registration + window + skew. Those still unacked are sent again
 * (clients dedupe by message id); by then nearly all were acked.
 */
export class MailboxDrain {
  private running = false;
  private again = false;
  /** A late pass is due: it reads rows stored before this time. */
  private lateUntil: Date | undefined;
  private deviceJoined = false;
  /** A resync asked for the connect-time protocol again (out of the device room, passes, back in). */
  private rejoin = false;
  private initial: InitialWindow | undefined;
  private lateTimer: NodeJS.Timeout | undefined;

  /**
   * @param socket the authenticated socket (its `data` names the device)
   * @param deps use-case dependencies (the mailbox read)
   * @param metrics drained-envelope counter
   * @param logger for failed drains
   */
  constructor(
    private readonly socket: ChatSocket,
    private readonly deps: ChatDeps,
    private readonly metrics: RealtimeMetrics,
    private readonly logger: Logger,
  ) {}

  /**
   * Schedules the late pass.
   * @param lateUntil it reads rows stored before this time
   * @param afterMs when
   */
  scheduleLatePass(lateUntil: Date, afterMs: number): void {
    this.lateTimer = setTimeout(() => void this.run(lateUntil), afterMs);
  }

  /**
   * Takes the socket out of its device room now (no live emit reaches it any more) and makes the
   * next {@link run} do the connect-time protocol again: pass 1 over the whole mailbox, join,
   * pass 2 over what was stored meanwhile. For when live emits may have been lost while the
   * socket stayed connected (the adapter's Redis was gone): the stored envelopes then arrive in
   * `seq` order, not after newer live ones. A drain already running starts over.
   */
  detach(): void {
    this.rejoin = true;
    if (!this.deviceJoined) return;
    this.deviceJoined = false;
    void Promise.resolve(this.socket.leave(deviceRoom(this.socket.data.userId, this.socket.data.deviceId))).catch(() => undefined);
  }

  /** Cancels a pending late pass (the socket disconnected). */
  stop(): void {
    clearTimeout(this.lateTimer);
  }

  /**
   * Drains the mailbox (see the class comment); never throws. A call while a drain runs only
   * asks the running one for another pass.
   * @param lateUntil set for the late pass
   */
  async run(lateUntil?: Date): Promise<void> {
    const socket = this.socket;
    if (lateUntil) this.lateUntil = lateUntil;
    else this.again = true;
    if (this.running) return;
    this.running = true;
    let full = false;
    try {
      do {
        // The first drain of a socket (whoever triggers it: connect or an early mailbox:sync)
        // is the one that switches it to live delivery; a resync does the same again.
        while (!this.deviceJoined || (this.rejoin && socket.connected)) {
          this.rejoin = false;
          this.again = false;
          if (this.deviceJoined) {
            await socket.leave(deviceRoom(socket.data.userId, socket.data.deviceId));
            this.deviceJoined = false;
          }
          const startedAt = Date.now();
          const sent = new Set<string>();
          await this.pass({ record: sent });
          await socket.join(deviceRoom(socket.data.userId, socket.data.deviceId));
          this.deviceJoined = true;
          // 60 s covers any send that was in flight (stored with an earlier server time) when pass 1 began.
          this.initial = { since: new Date(startedAt - 60_000), skip: sent, record: sent };
          await this.pass(this.initial);
          full = true;
        }
        while (socket.connected && (this.again || this.lateUntil) && !this.rejoin) {
          const initial = this.initial;
          if (this.again || !initial) {
            this.again = false;
            this.lateUntil = undefined; // a full pass also reads what the late one would
            this.initial = undefined;
            await this.pass();
            full = true;
          } else {
            const until = this.lateUntil;
            this.lateUntil = undefined;
            this.initial = undefined;
            await this.pass({ ...initial, until });
          }
        }
        // a resync asked while the passes ran starts over
      } while (this.rejoin && socket.connected);
      if (full && socket.connected) {
        const missed = await mailboxDrained(this.deps, socket.data);
        // additive: the payload only when something was missed
        if (missed > 0) socket.emit('mailbox:empty', { missed });
        else socket.emit('mailbox:empty');
      }
    } catch (err) {
      const { userId, deviceId } = socket.data;
      this.logger.warn({ err: (err as Error).message, userId, deviceId }, 'mailbox drain failed');
      // never leave a socket outside its device room
      if (!this.deviceJoined && socket.connected) {
        await Promise.resolve(socket.join(deviceRoom(userId, deviceId))).catch(() => undefined);
        this.deviceJoined = true;
      }
    } finally {
      this.running = false;
    }
  }

  /** Reads the device's mailbox in seq order (optionally only rows stored in a window) and emits it. */
  private async pass(options: { since?: Date; until?: Date; skip?: Set<string>; record?: Set<string> } = {}): Promise<void> {
    let cursor = '0';
    for (;;) {
      const rows = await readMailboxBatch(this.deps, this.socket.data, cursor, DRAIN_BATCH, options);
      await this.emitRows(rows, options.skip ?? null, options.record ?? null);
      const last = rows[rows.length - 1];
      if (!last || rows.length < DRAIN_BATCH || !this.socket.connected) return;
      cursor = last.seq;
    }
  }

  /** Emits one batch of rows, then waits for the transport to flush. */
  private async emitRows(rows: MailboxRow[], skip: Set<string> | null, record: Set<string> | null): Promise<void> {
    const socket = this.socket;
    for (const r of rows) {
      if (skip?.has(r.messageId)) continue;
      record?.add(r.messageId);
      socket.emit('message:new', {
        messageId: r.messageId,
        conversationId: r.conversationId,
        senderUserId: r.senderUserId,
        senderDeviceId: r.senderDeviceId,
        type: r.type,
        body: r.body.toString('base64'),
        serverTimestamp: r.serverTs.toISOString(),
      });
    }
    this.metrics.drained.inc(rows.length);
    // Crude flow control: let the transport flush before reading the next batch.
    const conn = socket.conn as unknown as { writeBuffer?: unknown[]; once(e: string, f: () => void): void };
    if ((conn.writeBuffer?.length ?? 0) > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 5_000);
        conn.once('drain', () => (clearTimeout(t), resolve()));
      });
    } else {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
