import type { PrivacySettings } from '@cipherchat/contracts';
import type { ApiClient } from '../transport/api-client.js';
import { ApiError } from '../transport/api-error.js';
import { ProtocolError } from '../protocol/errors.js';
import { SocketClient, type IncomingEnvelope } from '../transport/socket-client.js';
import type { EmitFn } from './client-types.js';
import type { DeviceKeys } from './device-keys.js';

/** Handshake refusals that retrying cannot fix. */
const FINAL_REFUSALS = new Set([
  'invalid_device_credentials',
  'unknown_device',
  'account_deleted',
  'session_revoked',
  'origin_not_allowed',
]);
/** How often a connected client checks its prekeys (refill, signed prekey rotation). */
const MAINTENANCE_INTERVAL_MS = 6 * 60 * 60 * 1000;
/** Least time between two refills asked for by `prekeys:low` (the server sends it at most once a minute). */
const LOW_REFILL_INTERVAL_MS = 30_000;

/** What {@link Realtime} needs from the rest of the client. */
export interface RealtimeDeps {
  api: ApiClient;
  deviceKeys: DeviceKeys;
  emit: EmitFn;
  /** Socket.IO origin and path. */
  url: string;
  path?: string | undefined;
  /** Gets every `message:new` (the receiver). */
  onEnvelope: (envelope: IncomingEnvelope) => void;
  /** A conversation's membership changed (the conversation cache). */
  onConversationUpdated: (conversationId: string) => void;
  /** The socket is (again) connected (the outgoing queue resumes). */
  onOnline: () => void;
  /** A `presence` event (held receipts go out when their members are back). */
  onPresence?: (event: { userId: string; online: boolean }) => void;
  /** My privacy settings changed on one of my devices (`privacy:changed`): apply them now. */
  onPrivacyChanged?: (settings: PrivacySettings) => void;
  /** The server says this device is no longer registered (removed from another device). */
  onDeviceGone?: () => void;
}

/**
 * The socket to chat-service: connects as this device, brings the socket back after refusals
 * and token expiry, and runs the periodic prekey maintenance while connected (and a refill at
 * once when the server says the one-time prekeys run low).
 */
export class Realtime {
  private socket: SocketClient | undefined;
  /** Sockets {@link recoverSocket} is bringing back (one loop each). */
  private readonly recovering = new WeakSet<SocketClient>();
  private maintenance: ReturnType<typeof setInterval> | undefined;
  /** When the last `prekeys:low` refill started (ms). */
  private lastLowRefill = 0;

  /** @param deps collaborators and endpoints */
  constructor(private readonly deps: RealtimeDeps) {}

  /** Connects the socket and drains the mailbox. */
  async connect(): Promise<void> {
    const { api, deviceKeys, emit } = this.deps;
    const deviceId = await deviceKeys.deviceId();
    const deviceSecret = await deviceKeys.deviceSecret();
    if (deviceId === undefined || deviceSecret === undefined)
      throw new ProtocolError('no_local_identity', 'device not set up');
    if (this.socket?.connected) return;
    this.socket?.close();
    const socket = new SocketClient({
      url: this.deps.url,
      ...(this.deps.path ? { path: this.deps.path } : {}),
      deviceId,
      deviceSecret,
      getToken: () => api.getTokens()?.accessToken,
    });
    socket.on('message:new', (e) => this.deps.onEnvelope(e));
    socket.on('presence', (p) => {
      this.deps.onPresence?.(p);
      emit('presence', p);
    });
    socket.on('mailbox:empty', (info) => emit('mailboxEmpty', { missed: info?.missed ?? 0 }));
    socket.on('conversation:updated', (e) => this.deps.onConversationUpdated(e.conversationId));
    socket.on('privacy:changed', (settings) => this.deps.onPrivacyChanged?.(settings));
    socket.on('prekeys:low', () => {
      // Others are starting sessions with this device: upload a fresh batch now rather than at
      // the next login or maintenance run (a drained device still gets sessions on its signed
      // prekey, but without forward secrecy for their first message).
      if (Date.now() - this.lastLowRefill < LOW_REFILL_INTERVAL_MS) return;
      this.lastLowRefill = Date.now();
      deviceKeys.setup(true).catch((err: unknown) => emit('error', err));
    });
    socket.on('connect', () => {
      if (this.socket !== socket) return;
      emit('connection', { online: true });
      this.deps.onOnline();
    });
    socket.on('disconnect', () => {
      if (this.socket === socket) emit('connection', { online: false });
    });
    // Logged out elsewhere, revoked from another device, password changed or account deleted:
    // the server says 'session:revoked' and disconnects. Final, like a logout: no refresh, no retry.
    let revoked = false;
    socket.on('session:revoked', () => {
      revoked = true;
    });
    socket.on('disconnect', (reason) => {
      // The server closes sockets whose access token expired ('session:expired' first);
      // socket.io does not retry a server-side disconnect, so refresh and reconnect here.
      if (reason === 'io server disconnect')
        void this.recoverSocket(socket, revoked ? 'session_revoked' : 'token_expired');
    });
    socket.onRejected((code) => void this.recoverSocket(socket, code));
    this.socket = socket;
    // Long-lived clients: refill one-time prekeys and rotate the signed prekey on schedule too.
    if (this.maintenance) clearInterval(this.maintenance);
    this.maintenance = setInterval(() => {
      deviceKeys.setup().catch((err: unknown) => emit('error', err));
    }, MAINTENANCE_INTERVAL_MS);
    (this.maintenance as { unref?: () => void }).unref?.();
    try {
      await socket.connect();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'token_expired' && (await api.refreshNow())) {
        await socket.connect();
      } else {
        throw err;
      }
    }
    // The server drains the mailbox on every connection; nothing more to ask for here.
  }

  /** @returns whether the socket is connected right now */
  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  /**
   * Current presence of users (`presence:get`), asked in batches of 500.
   * @param userIds user ids (duplicates are ignored)
   * @returns one entry per visible user
   */
  async presence(
    userIds: string[],
  ): Promise<{ userId: string; online: boolean; lastSeenAt?: string | null | undefined }[]> {
    const socket = this.require();
    const ids = [...new Set(userIds)];
    const out: { userId: string; online: boolean; lastSeenAt?: string | null | undefined }[] = [];
    for (let i = 0; i < ids.length; i += 500)
      out.push(...(await socket.presence(ids.slice(i, i + 500))));
    return out;
  }

  /**
   * Brings a socket back after the server refused or closed it: refreshes the access token when
   * that is the reason, otherwise retries with capped exponential backoff (a restarting server
   * or a database outage refuses handshakes for a while). Stops when the socket was replaced,
   * the session cannot be refreshed, or the refusal is final (device or account gone).
   */
  private async recoverSocket(socket: SocketClient, code: string): Promise<void> {
    if (this.recovering.has(socket)) return;
    this.recovering.add(socket);
    try {
      for (let attempt = 0; this.socket === socket && !socket.connected; attempt += 1) {
        if (code === 'unknown_device' && this.deps.onDeviceGone) {
          // Removed from another device: the client re-registers (keeping identity and history).
          this.deps.onDeviceGone();
          return;
        }
        if (FINAL_REFUSALS.has(code)) {
          this.deps.emit('error', new ApiError(401, code, 'the server refused this device'));
          return;
        }
        if (
          (code === 'token_expired' || code === 'unauthorized') &&
          !(await this.deps.api.refreshNow())
        )
          return;
        if (attempt > 0)
          await new Promise((r) => setTimeout(r, Math.min(30_000, 250 * 2 ** attempt)));
        if (this.socket !== socket) return;
        try {
          await socket.reconnect();
          return;
        } catch (err) {
          code = err instanceof ApiError ? err.code : 'connect_error';
        }
      }
    } finally {
      this.recovering.delete(socket);
    }
  }

  /** Disconnects the socket and stops the maintenance timer. */
  disconnect(): void {
    if (this.maintenance) clearInterval(this.maintenance);
    this.maintenance = undefined;
    this.socket?.close();
    this.socket = undefined;
  }

  /**
   * Acknowledges envelopes; a failure is reported as an `error` event, never thrown.
   * @param ids server message ids
   */
  async ackQuietly(ids: string[]): Promise<void> {
    try {
      await this.socket?.ack(ids);
    } catch (err) {
      this.deps.emit('error', err);
    }
  }

  /**
   * @returns the socket
   * @throws {ApiError} `not_connected` without a socket
   */
  require(): SocketClient {
    if (!this.socket) throw new ApiError(0, 'not_connected', 'socket not connected');
    return this.socket;
  }
}
