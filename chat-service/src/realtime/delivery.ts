import type { ServerToClientEvents } from '@cipherchat/contracts';
import type { Logger } from '@cipherchat/service-kit';
import type { LiveSockets, Notifier, OutgoingEnvelope } from '../domain/ports.js';
import { deviceRoom, userRoom, type ChatServer } from './chat-socket.js';
import type { PublishTracker } from './publish-tracker.js';

/** Longest wait of a send for its adapter publishes (Redis slow or gone: ack anyway, it is stored). */
const PUBLISH_WAIT_MS = 1_000;

/**
 * The notifier port over Socket.IO rooms: per-user and per-device rooms shared across
 * processes through the Redis adapter. Built before the server is attached to HTTP (emitting
 * needs no attached engine), so routes and use cases get it at construction.
 */
export class Delivery implements Notifier {
  /**
   * @param io the Socket.IO server
   * @param logger for failed socket look-ups
   * @param publishes the adapter's publishes (a send waits for its own)
   */
  constructor(
    private readonly io: ChatServer,
    private readonly logger: Logger,
    private readonly publishes: PublishTracker,
  ) {}

  /** @inheritdoc */
  notifyUsers<E extends keyof ServerToClientEvents>(userIds: readonly string[], event: E, ...args: Parameters<ServerToClientEvents[E]>): void {
    if (userIds.length === 0) return;
    this.io.to(userIds.map(userRoom)).emit(event, ...args);
  }

  /** @inheritdoc */
  notifyDevice<E extends keyof ServerToClientEvents>(userId: string, deviceId: number, event: E, ...args: Parameters<ServerToClientEvents[E]>): void {
    this.io.to(deviceRoom(userId, deviceId)).emit(event, ...args);
  }

  /**
   * Live delivery of a stored message to each addressed device's room. A device whose every
   * live socket, per the send's presence lookup, is on this process is emitted to locally,
   * skipping the Redis adapter's publish (which every process would receive and decode): that
   * is nearly every delivery on a single process. Every other device goes through the adapter,
   * as does everything when presence is unknown or the lookup is older than
   * LOCAL_DELIVERY_WINDOW_MS. A socket of the device that registered on another process after
   * the lookup may miss such a local emit; its late mailbox pass reads the message (see
   * MailboxDrain).
   * @param envelopes one per addressed device
   * @param live the send's presence lookup, or null
   * @returns when the adapter publishes of these emits have Redis's answer (bounded)
   */
  deliver(envelopes: readonly OutgoingEnvelope[], live: LiveSockets | null): Promise<void> {
    const io = this.io;
    const localSockets = io.of('/').sockets;
    return this.publishes.capture(() => {
      for (const e of envelopes) {
        const listed = live?.get(e.userId)?.get(e.deviceId);
        const localOnly = listed !== undefined && listed.every((id) => localSockets.has(id));
        (localOnly ? io.local : io).to(deviceRoom(e.userId, e.deviceId)).emit('message:new', e.message);
      }
    }, PUBLISH_WAIT_MS);
  }

  /** @inheritdoc */
  disconnectDevice(userId: string, deviceId: number): void {
    this.io.in(deviceRoom(userId, deviceId)).disconnectSockets(true);
    // A socket still in its first drain is in the user room only: find it there too.
    this.io
      .in(userRoom(userId))
      .fetchSockets()
      .then((sockets) => {
        for (const s of sockets) if (s.data.deviceId === deviceId) s.disconnect(true);
      })
      .catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'could not look up sockets of a removed device'));
  }

  /** @inheritdoc */
  disconnectUser(userId: string): void {
    this.io.in(userRoom(userId)).disconnectSockets(true);
  }
}
