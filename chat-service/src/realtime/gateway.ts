import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import type { Logger, Metrics, RevocationList, TokenVerifier } from '@cipherchat/service-kit';
import type { Config } from '../config.js';
import type { ChatDeps } from '../domain/deps.js';
import { announcePresence } from '../domain/presence.js';
import { CLOCK_SKEW_MS, LATE_PASS_MS, LOCAL_DELIVERY_WINDOW_MS } from '../domain/send-message.js';
import type { RateLimits } from '../rate-limits.js';
import { AckedEvents } from './acked-events.js';
import { userRoom, type ChatServer, type ChatSocket } from './chat-socket.js';
import { handshake } from './handshake.js';
import { MailboxDrain } from './mailbox-drain.js';
import { registerMessageHandlers } from './message.handlers.js';
import { startRevocationSweep } from './revocation-sweep.js';
import type { Presence } from './presence.js';
import { createRealtimeMetrics } from './realtime.metrics.js';

export type { SocketData } from './chat-socket.js';

/** The running realtime layer. */
export interface Realtime {
  io: ChatServer;
  presence: Presence;
  /**
   * For when the adapter's Redis connection comes back: emits other processes published
   * meanwhile never reached this process, and this process's own publishes failed; those
   * envelopes are still in the mailbox (unacked), and a device that stayed connected would
   * otherwise see them only after its next reconnect or `mailbox:sync`. Takes every local socket
   * out of its device room at once ({@link MailboxDrain.detach}), waits `settleMs` (the
   * subscriber's SUBSCRIBE goes out again), then runs their drains a few at a time: each reads
   * its mailbox in order and joins its room again.
   * @param settleMs wait before the drains
   * @returns how many sockets were resynced
   */
  resyncLocalSockets(settleMs: number): Promise<number>;
  /** Disconnects local sockets, waits for their cleanup, closes the adapter. */
  close(): Promise<void>;
}

/** Mailbox passes run at once by {@link Realtime.resyncLocalSockets}. */
const RESYNC_CONCURRENCY = 8;

const MAX_TIMER_MS = 2_147_483_647;

/**
 * Creates the Socket.IO server, not yet attached to HTTP: per-device and per-user rooms shared
 * across processes through the Redis adapter. The notifier (`Delivery`) can emit through it at
 * once; {@link attachRealtime} attaches it once the HTTP server exists.
 * @param config SOCKET_MAX_BYTES, ALLOWED_ORIGINS, REDIS_PREFIX
 * @param pub Redis connection for publishing (adapter)
 * @param sub Redis connection for subscribing (adapter)
 * @returns the server
 */
export function createSocketServer(config: Config, pub: Redis, sub: Redis): ChatServer {
  return new Server({
    path: '/socket.io/',
    maxHttpBufferSize: config.SOCKET_MAX_BYTES,
    cors: { origin: config.ALLOWED_ORIGINS, credentials: true },
    adapter: createAdapter(pub, sub, { key: `${config.REDIS_PREFIX}:sio` }),
    serveClient: false,
  });
}

/** What {@link attachRealtime} wires together. */
export interface RealtimeParts {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  verifyToken: TokenVerifier;
  limits: RateLimits;
  /** Ended sessions: refused at the handshake, live sockets cut by a periodic sweep. */
  revocations: RevocationList;
  /** The server from {@link createSocketServer}. */
  io: ChatServer;
  presence: Presence;
  deps: ChatDeps;
}

/**
 * Attaches Socket.IO to the HTTP server: the handshake (handshake.ts), then per socket its
 * session expiry and revocation (revocation-sweep.ts), presence, client events (message.handlers.ts, through the ack wrapper in
 * acked-events.ts) and its mailbox drain (mailbox-drain.ts). Live delivery is delivery.ts.
 * @param server HTTP server to attach to
 * @param parts the collaborators
 * @returns the realtime handle
 */
export function attachRealtime(server: HttpServer, parts: RealtimeParts): Realtime {
  const { config, logger, io, presence, deps } = parts;
  io.attach(server);
  const rtMetrics = createRealtimeMetrics(parts.metrics.registry);
  const events = new AckedEvents(parts.limits.socket, logger);
  const pending = new Set<Promise<unknown>>();
  const drains = new Set<MailboxDrain>();
  const track = (p: Promise<unknown>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  io.use(
    handshake(deps, parts.verifyToken, parts.revocations, new Set(config.ALLOWED_ORIGINS), logger),
  );
  const stopSweep = startRevocationSweep(io, parts.revocations, config.REVOCATION_CHECK_MS, logger);
  io.on('connection', (socket) => {
    track(onConnection(socket));
  });

  async function onConnection(socket: ChatSocket): Promise<void> {
    const { userId, deviceId, exp } = socket.data;
    // The user room now; the device room only after a first pass over the mailbox (see
    // MailboxDrain): a long backlog is then delivered in order instead of interleaved with live
    // messages. Listeners are attached synchronously below (before any await) so no early event is lost.
    const joined = socket.join(userRoom(userId));

    const expiry = setTimeout(
      () => {
        socket.emit('session:expired');
        socket.disconnect(true);
      },
      Math.min(Math.max(exp * 1000 - Date.now(), 0), MAX_TIMER_MS),
    );
    const drain = new MailboxDrain(socket, deps, rtMetrics, logger);
    drains.add(drain);

    rtMetrics.sockets.inc();
    socket.on('disconnect', () => {
      rtMetrics.sockets.dec();
      clearTimeout(expiry);
      drain.stop();
      drains.delete(drain);
      track(
        presence
          .leave(userId, deviceId, socket.id)
          .then(async ({ last, lastSeenAt }) => {
            if (last) await announcePresence(deps, userId, false, lastSeenAt);
          })
          .catch((err: unknown) =>
            logger.warn({ err: (err as Error).message }, 'presence leave failed'),
          ),
      );
    });

    registerMessageHandlers(socket, events, deps, drain, rtMetrics, parts.limits);

    await joined;
    try {
      const first = await presence.join(userId, deviceId, socket.id);
      // Disconnected while registering: the disconnect handler's leave may have run first.
      if (!socket.connected) await presence.leave(userId, deviceId, socket.id);
      else if (first) await announcePresence(deps, userId, true, new Date().toISOString());
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'presence join failed');
    }
    // Registered (or not: then the late pass only frees the first drain's bookkeeping). The late
    // pass reads what was stored up to now + the local-delivery window + clock skew.
    const lateUntil = new Date(Date.now() + LOCAL_DELIVERY_WINDOW_MS + CLOCK_SKEW_MS);
    if (socket.connected) drain.scheduleLatePass(lateUntil, LATE_PASS_MS);
    await drain.run();
  }

  const renewTimer = setInterval(() => {
    const sockets = [...io.of('/').sockets.values()].map((s) => ({
      userId: s.data.userId,
      deviceId: s.data.deviceId,
      socketId: s.id,
    }));
    presence
      .renew(sockets)
      .catch((err: unknown) =>
        logger.warn({ err: (err as Error).message }, 'presence renew failed'),
      );
  }, 20_000);
  renewTimer.unref();

  let closed: Promise<void> | undefined;
  return {
    io,
    presence,
    async resyncLocalSockets(settleMs) {
      const queue = [...drains];
      for (const d of queue) d.detach();
      await new Promise((resolve) => setTimeout(resolve, settleMs));
      const worker = async () => {
        for (let d = queue.shift(); d; d = queue.shift()) await d.run();
      };
      const n = queue.length;
      await Promise.all(Array.from({ length: RESYNC_CONCURRENCY }, worker));
      return n;
    },
    close() {
      closed ??= (async () => {
        clearInterval(renewTimer);
        stopSweep();
        // Graceful: refuse new events, let the ones in flight commit and ack (bounded), then
        // disconnect; clients reconnect to another process and resend anything unacked.
        await events.shutdown(5_000);
        io.local.disconnectSockets(true);
        await Promise.allSettled([...pending]);
        await new Promise<void>((resolve) => {
          io.engine.close();
          resolve();
        });
        await Promise.resolve(io.of('/').adapter.close()).catch(() => undefined);
      })();
      return closed;
    },
  };
}
