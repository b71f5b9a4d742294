import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import {
  MessageAckPayload,
  MessageSendPayload,
  PresenceGetPayload,
  SocketAuth,
  TypingPayload,
  type Ack,
  type ClientToServerEvents,
  type HandshakeErrorCode,
  type ServerToClientEvents,
} from '@cipherchat/contracts';
import { AppError, UnauthorizedError, readAccessToken, toAppError, ValidationError } from '@cipherchat/service-kit';
import { deviceRoom, userRoom, type ChatContext } from '../context.js';
import { deviceSecretMatches } from '../domain/device-secret.js';
import { deviceSecretDigest } from '../store/device.repository.js';
import { contactsOf, memberIds, sharedWith } from '../store/conversation.repository.js';
import { readMailbox } from '../store/mailbox.repository.js';
import { isDeletedUser } from '../store/user-data.repository.js';
import { consumeOrThrow } from '../rate-limits.js';
import { ackEnvelopes, CLOCK_SKEW_MS, LATE_PASS_MS, LOCAL_DELIVERY_WINDOW_MS, sendMessage, type SendDeps } from './message.handlers.js';
import { Presence } from './presence.js';
import { createRealtimeMetrics } from './realtime.metrics.js';

/** Per-socket data set by the handshake middleware. */
export interface SocketData {
  userId: string;
  deviceId: number;
  sessionId: string;
  /** Token expiry, epoch seconds. */
  exp: number;
}

type ChatServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** The running realtime layer. */
export interface Realtime {
  io: ChatServer;
  presence: Presence;
  /** Disconnects local sockets, waits for their cleanup, closes the adapter. */
  close(): Promise<void>;
}

const DRAIN_BATCH = 200;
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Whether an error means a dependency (PostgreSQL, Redis) is unreachable right now, so the
 * client should retry the same request later rather than treat it as a bug.
 */
function isTransient(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  if (typeof e?.code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03', '08006', '08001'].includes(e.code)) return true;
  const msg = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Connection is closed|Stream isn't writeable|ECONNREFUSED/.test(msg);
}

/**
 * The handshake `auth` as parsed here: the device secret is optional so that a missing one is
 * refused with `invalid_device_credentials` after the token check, exactly like a wrong one.
 */
const HandshakeAuth = SocketAuth.partial({ deviceSecret: true });

function refuse(code: HandshakeErrorCode, message: string): Error {
  const err = new Error(message) as Error & { data: { code: HandshakeErrorCode } };
  err.data = { code };
  return err;
}

/**
 * Attaches Socket.IO to the HTTP server: handshake authentication (bearer token in `auth` or
 * the `cc_access` cookie, verified against the JWKS, plus a registered device of that user
 * proven by its device secret),
 * per-device and per-user rooms shared across processes through the Redis adapter, the
 * message relay, mailbox drain, typing and presence.
 * @param ctx shared service context
 * @param server HTTP server to attach to
 * @param pub Redis connection for publishing (adapter)
 * @param sub Redis connection for subscribing (adapter)
 * @returns the realtime handle
 */
export function attachRealtime(ctx: ChatContext, server: HttpServer, pub: Redis, sub: Redis): Realtime {
  const { config, logger } = ctx;
  const allowedOrigins = new Set(config.ALLOWED_ORIGINS);
  const io: ChatServer = new Server(server, {
    path: '/socket.io/',
    maxHttpBufferSize: config.SOCKET_MAX_BYTES,
    cors: { origin: config.ALLOWED_ORIGINS, credentials: true },
    adapter: createAdapter(pub, sub, { key: `${config.REDIS_PREFIX}:sio` }),
    serveClient: false,
  });
  const presence = new Presence(ctx.redis, config.REDIS_PREFIX);
  const rtMetrics = createRealtimeMetrics(ctx.metrics.registry);
  const pending = new Set<Promise<unknown>>();
  /** Client events being handled (their acks not sent yet); shutdown waits for them. */
  const inFlight = new Set<Promise<unknown>>();
  let shuttingDown = false;
  const track = (p: Promise<unknown>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  ctx.notifyUsers = (userIds, event, ...args) => {
    if (userIds.length === 0) return;
    io.to(userIds.map(userRoom)).emit(event, ...args);
  };
  ctx.disconnectDevice = (userId, deviceId) => {
    io.in(deviceRoom(userId, deviceId)).disconnectSockets(true);
    // A socket still in its first drain is in the user room only: find it there too.
    io.in(userRoom(userId))
      .fetchSockets()
      .then((sockets) => {
        for (const s of sockets) if (s.data.deviceId === deviceId) s.disconnect(true);
      })
      .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'could not look up sockets of a removed device'));
  };
  ctx.disconnectUser = (userId) => {
    io.in(userRoom(userId)).disconnectSockets(true);
  };
  /**
   * Live delivery of a stored message to each addressed device's room. A device whose every
   * live socket, per the send's presence lookup, is on this process is emitted to locally,
   * skipping the Redis adapter's publish (which every process would receive and decode): that
   * is nearly every delivery on a single process. Every other device goes through the adapter,
   * as does everything when presence is unknown or the lookup is older than
   * LOCAL_DELIVERY_WINDOW_MS. A socket of the device that registered on another process after
   * the lookup may miss such a local emit; its late mailbox pass reads the message (see drain).
   */
  const deliver: SendDeps['deliver'] = (envelopes, live) => {
    const localSockets = io.of('/').sockets;
    for (const e of envelopes) {
      const listed = live?.get(e.userId)?.get(e.deviceId);
      const localOnly = listed !== undefined && listed.every((id) => localSockets.has(id));
      (localOnly ? io.local : io).to(deviceRoom(e.userId, e.deviceId)).emit('message:new', e.message);
    }
  };

  io.use((socket, next) => {
    void (async () => {
      const auth = HandshakeAuth.safeParse(socket.handshake.auth ?? {});
      if (!auth.success) return next(refuse('unauthorized', 'handshake auth must be {deviceId, deviceSecret, token?}'));
      let token = auth.data.token;
      if (!token) {
        token = readAccessToken(socket.request);
        const viaCookie = token !== undefined && !socket.request.headers.authorization;
        // Cross-site WebSocket hijacking: a cookie-authenticated handshake must come from our origin.
        const origin = socket.request.headers.origin?.replace(/\/$/, '');
        if (viaCookie && (!origin || !allowedOrigins.has(origin))) return next(refuse('origin_not_allowed', 'origin not allowed'));
      }
      if (!token) return next(refuse('unauthorized', 'access token required'));
      let claims;
      try {
        claims = await ctx.verifyToken(token);
      } catch (err) {
        const code = err instanceof UnauthorizedError && err.code === 'token_expired' ? 'token_expired' : 'unauthorized';
        return next(refuse(code, code === 'token_expired' ? 'access token expired' : 'invalid access token'));
      }
      // a token outlives its deleted account by up to 15 minutes
      if (await isDeletedUser(ctx.ds.manager, claims.userId)) return next(refuse('account_deleted', 'this account was deleted'));
      // The token names the user only (any of their sessions); the device secret proves which device.
      const digest = await deviceSecretDigest(ctx.ds.manager, claims.userId, auth.data.deviceId);
      if (digest === null) return next(refuse('unknown_device', 'this device is not registered for the account'));
      if (!deviceSecretMatches(digest, auth.data.deviceSecret)) {
        return next(refuse('invalid_device_credentials', 'the device secret does not prove this device'));
      }
      socket.data = { userId: claims.userId, deviceId: auth.data.deviceId, sessionId: claims.sessionId, exp: claims.exp };
      next();
    })().catch((err: unknown) => {
      logger.warn({ err: (err as Error).message }, 'socket handshake failed');
      next(refuse('unavailable', 'temporarily unavailable'));
    });
  });

  io.on('connection', (socket) => {
    track(onConnection(socket));
  });

  async function onConnection(socket: ChatSocket): Promise<void> {
    const { userId, deviceId, exp } = socket.data;
    const device = { userId, deviceId };
    // The user room now; the device room only after a first pass over the mailbox (see drain):
    // a long backlog is then delivered in order instead of interleaved with live messages.
    // Listeners are attached synchronously below (before any await) so no early event is lost.
    const joined = socket.join(userRoom(userId));

    const expiry = setTimeout(
      () => {
        socket.emit('session:expired');
        socket.disconnect(true);
      },
      Math.min(Math.max(exp * 1000 - Date.now(), 0), MAX_TIMER_MS),
    );

    const sendTurns = new Map<string, Promise<void>>();
    const drainState: {
      running: boolean;
      again: boolean;
      /** A late pass is due: it reads rows stored before this time. */
      lateUntil?: Date;
      deviceJoined: boolean;
      initial?: { since: Date; skip: Set<string>; record: Set<string> };
    } = { running: false, again: false, deviceJoined: false };
    let lateTimer: NodeJS.Timeout | undefined;

    rtMetrics.sockets.inc();
    socket.on('disconnect', () => {
      rtMetrics.sockets.dec();
      clearTimeout(expiry);
      clearTimeout(lateTimer);
      track(
        presence
          .leave(userId, deviceId, socket.id)
          .then(async ({ last, lastSeenAt }) => {
            if (!last) return;
            const contacts = await contactsOf(ctx.ds.manager, userId);
            ctx.notifyUsers(contacts, 'presence', { userId, online: false, lastSeenAt });
          })
          .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'presence leave failed')),
      );
    });

    handle(socket, 'message:send', MessageSendPayload, (p) => {
      // A socket may pipeline sends; those to one conversation keep their order (see SendTurn),
      // sends to different conversations are independent.
      const wait = sendTurns.get(p.conversationId) ?? Promise.resolve();
      let done!: () => void;
      const mine = new Promise<void>((resolve) => (done = resolve));
      sendTurns.set(p.conversationId, mine);
      void mine.then(() => {
        if (sendTurns.get(p.conversationId) === mine) sendTurns.delete(p.conversationId);
      });
      const end = rtMetrics.sendDuration.startTimer();
      return sendMessage({ ctx, presence, deliver }, device, p, { wait, done }).then(
        (r) => {
          end({ outcome: r.duplicate ? 'duplicate' : 'stored' });
          if (!r.duplicate) rtMetrics.envelopesStored.inc(p.envelopes.length);
          return r;
        },
        (err: unknown) => {
          end({ outcome: 'refused' });
          throw err;
        },
      );
    });
    handle(socket, 'message:ack', MessageAckPayload, (p) => ackEnvelopes(ctx, device, p));
    handle(socket, 'mailbox:sync', null, async () => {
      void drain();
      return { started: true as const };
    });
    handle(socket, 'typing', TypingPayload, async (p) => {
      const members = await memberIds(ctx.ds.manager, p.conversationId);
      if (!members.includes(userId)) throw new AppError(403, 'not_member', 'you are not a member of this conversation');
      const others = members.filter((u) => u !== userId);
      ctx.notifyUsers(others, 'typing', { conversationId: p.conversationId, userId, on: p.on });
      return null;
    });
    handle(socket, 'presence:get', PresenceGetPayload, async (p) => {
      const visible = await sharedWith(ctx.ds.manager, userId, [...new Set(p.userIds)]);
      return presence.describe(visible);
    });

    /** Emits one batch of rows; returns the last seq, or null when the batch was the last. */
    async function emitRows(rows: Awaited<ReturnType<typeof readMailbox>>, skip: Set<string> | null, record: Set<string> | null) {
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
      rtMetrics.drained.inc(rows.length);
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

    /** Reads the device's mailbox in seq order (optionally only rows stored since a time) and emits it. */
    async function pass(options: { since?: Date; until?: Date; skip?: Set<string>; record?: Set<string> } = {}): Promise<void> {
      let cursor = '0';
      for (;;) {
        const rows = await readMailbox(ctx.ds.manager, userId, deviceId, cursor, DRAIN_BATCH, options.since, options.until);
        await emitRows(rows, options.skip ?? null, options.record ?? null);
        const last = rows[rows.length - 1];
        if (!last || rows.length < DRAIN_BATCH || !socket.connected) return;
        cursor = last.seq;
      }
    }

    /**
     * Drains the mailbox, then `mailbox:empty`. The first time (on connect): pass 1 over everything,
     * then join the device room, then pass 2 over rows stored since shortly before pass 1
     * began, skipping what pass 1 sent. Whatever commits after the join is delivered live, and
     * whatever committed before it is read by one of the passes: nothing falls in between.
     * `late` (LATE_PASS_MS after presence registration): pass 2 once more, for messages another
     * process emitted to this device's other socket only, trusting a presence lookup made just
     * before this socket registered. Such a message was stored (server time taken after the
     * lookup, committed within LOCAL_DELIVERY_WINDOW_MS of it) before registration + that
     * window; allowing CLOCK_SKEW_MS between processes' clocks, the late pass reads rows stored
     * before registration + window + skew. Those still unacked are sent again (clients dedupe
     * by message id); by then nearly all were acked.
     */
    async function drain(lateUntil?: Date): Promise<void> {
      if (lateUntil) drainState.lateUntil = lateUntil;
      else drainState.again = true;
      if (drainState.running) return;
      drainState.running = true;
      let full = false;
      try {
        // The first drain of a socket (whoever triggers it: connect or an early mailbox:sync)
        // is the one that switches it to live delivery.
        if (!drainState.deviceJoined) {
          drainState.again = false;
          const startedAt = Date.now();
          const sent = new Set<string>();
          await pass({ record: sent });
          await socket.join(deviceRoom(userId, deviceId));
          drainState.deviceJoined = true;
          // 60 s covers any send that was in flight (stored with an earlier server time) when pass 1 began.
          drainState.initial = { since: new Date(startedAt - 60_000), skip: sent, record: sent };
          await pass(drainState.initial);
          full = true;
        }
        while (socket.connected && (drainState.again || drainState.lateUntil)) {
          const initial = drainState.initial;
          if (drainState.again || !initial) {
            drainState.again = false;
            drainState.lateUntil = undefined; // a full pass also reads what the late one would
            drainState.initial = undefined;
            await pass();
            full = true;
          } else {
            const until = drainState.lateUntil;
            drainState.lateUntil = undefined;
            drainState.initial = undefined;
            await pass({ ...initial, until });
          }
        }
        if (full && socket.connected) socket.emit('mailbox:empty');
      } catch (err) {
        logger.warn({ err: (err as Error).message, userId, deviceId }, 'mailbox drain failed');
        // never leave a socket outside its device room
        if (!drainState.deviceJoined && socket.connected) {
          await Promise.resolve(socket.join(deviceRoom(userId, deviceId))).catch(() => undefined);
          drainState.deviceJoined = true;
        }
      } finally {
        drainState.running = false;
      }
    }

    await joined;
    try {
      const first = await presence.join(userId, deviceId, socket.id);
      // Disconnected while registering: the disconnect handler's leave may have run first.
      if (!socket.connected) await presence.leave(userId, deviceId, socket.id);
      else if (first) {
        const contacts = await contactsOf(ctx.ds.manager, userId);
        ctx.notifyUsers(contacts, 'presence', { userId, online: true, lastSeenAt: new Date().toISOString() });
      }
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'presence join failed');
    }
    // Registered (or not: then the late pass only frees the first drain's bookkeeping). The late
    // pass reads what was stored up to now + the local-delivery window + clock skew.
    const lateUntil = new Date(Date.now() + LOCAL_DELIVERY_WINDOW_MS + CLOCK_SKEW_MS);
    if (socket.connected) lateTimer = setTimeout(() => void drain(lateUntil), LATE_PASS_MS);
    await drain();
  }

  /**
   * Registers a client event with validation, per-user rate limit and a uniform ack. Bad input
   * gets an error ack (or is dropped when there is no callback); nothing a client sends can
   * throw out of here, so one client never disturbs the process or another connection.
   */
  function handle<S extends z.ZodType | null, R>(
    socket: ChatSocket,
    event: keyof ClientToServerEvents,
    schema: S,
    run: (payload: S extends z.ZodType ? z.infer<S> : undefined) => Promise<R>,
  ): void {
    (socket as unknown as { on(e: string, l: (...args: unknown[]) => void): void }).on(event, (...args: unknown[]) => {
      const last = args[args.length - 1];
      const ack = typeof last === 'function' ? (last as (res: Ack<R>) => void) : undefined;
      if (ack) args.pop();
      const work = async () => {
        // Shutting down: refuse new work so the client retries on another process.
        if (shuttingDown) throw new AppError(503, 'unavailable', 'server is restarting, try again');
        await consumeOrThrow(ctx.limits.socket, socket.data.userId);
        let payload: unknown = undefined;
        if (schema) {
          const parsed = schema.safeParse(args[0]);
          if (!parsed.success) {
            const details = parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message }));
            throw new ValidationError(`invalid ${event} payload: ${details.slice(0, 3).map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ')}`, details);
          }
          payload = parsed.data;
        }
        return run(payload as S extends z.ZodType ? z.infer<S> : undefined);
      };
      const settled = work().then(
        (data) => ack?.({ ok: true, data }),
        (err: unknown) => {
          const e = isTransient(err) ? new AppError(503, 'unavailable', 'temporarily unavailable, try again') : toAppError(err);
          if (e.status >= 500) logger.error({ err: (err as Error)?.message ?? String(err), event }, 'socket handler failed');
          ack?.({ ok: false, error: { code: e.code, message: e.message, ...(e.details === undefined ? {} : { details: e.details }) } });
        },
      );
      inFlight.add(settled);
      void settled.finally(() => inFlight.delete(settled));
    });
  }

  const renewTimer = setInterval(() => {
    const sockets = [...io.of('/').sockets.values()].map((s) => ({ userId: s.data.userId, deviceId: s.data.deviceId, socketId: s.id }));
    presence.renew(sockets).catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'presence renew failed'));
  }, 20_000);
  renewTimer.unref();

  let closed: Promise<void> | undefined;
  return {
    io,
    presence,
    close() {
      closed ??= (async () => {
        clearInterval(renewTimer);
        // Graceful: refuse new events, let the ones in flight commit and ack (bounded), then
        // disconnect; clients reconnect to another process and resend anything unacked.
        shuttingDown = true;
        await Promise.race([Promise.allSettled([...inFlight]), new Promise((r) => setTimeout(r, 5_000).unref())]);
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
