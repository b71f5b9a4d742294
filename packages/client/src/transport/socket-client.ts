import { io, type Socket } from 'socket.io-client';
import { z } from 'zod';
import { ApiError } from './api-error.js';
import { DeviceId } from './chat-api.schemas.js';

/** One ciphertext for one device in `message:send`. */
export interface OutgoingEnvelope {
  userId: string;
  deviceId: number;
  /** Signal message type: 3 = PreKeyWhisper, 1 = Whisper. */
  type: number;
  /** base64 of the ciphertext bytes. */
  body: string;
}

/** `message:send` payload. */
export interface SendMessagePayload {
  conversationId: string;
  clientMessageId: string;
  envelopes: OutgoingEnvelope[];
}

/** Server event `message:new`. */
export const IncomingEnvelope = z
  .object({
    messageId: z.string(),
    conversationId: z.string(),
    senderUserId: z.string(),
    senderDeviceId: DeviceId,
    type: z.number().int(),
    body: z.string(),
    serverTimestamp: z.union([z.string(), z.number()]).transform((t) => (typeof t === 'number' ? new Date(t).toISOString() : t)),
  })
  .loose();
/** Server event `message:new`. */
export type IncomingEnvelope = z.infer<typeof IncomingEnvelope>;

/** Server event `presence`. */
export const PresenceEvent = z
  .object({ userId: z.string(), online: z.boolean(), lastSeenAt: z.string().nullish() })
  .loose();
/** Server event `typing`. */
export const TypingEvent = z.object({ conversationId: z.string(), userId: z.string(), on: z.boolean() }).loose();

const DeviceAddress = z.object({ userId: z.string(), deviceId: DeviceId });
/** Details of a `stale_devices` error (devices missing from / extra in my envelope list). */
export const StaleDevices = z.object({
  missing: z.array(DeviceAddress).default([]),
  extra: z.array(DeviceAddress).default([]),
});
/** Details of a `stale_devices` error. */
export type StaleDevices = z.infer<typeof StaleDevices>;

const AckError = z
  .object({ code: z.string(), message: z.string().default(''), details: z.unknown().optional() })
  .loose();
const Ack = z.union([
  z.object({ ok: z.literal(true), data: z.unknown().optional() }),
  z.object({ ok: z.literal(false), error: AckError }),
]);
const SendAckData = z.object({
  messageId: z.string(),
  serverTimestamp: z.union([z.string(), z.number()]).transform((t) => (typeof t === 'number' ? new Date(t).toISOString() : t)),
});

/** A socket command answered `{ok:false}` (or timed out / disconnected). */
export class SocketAckError extends ApiError {
  /** Stale device lists when `code === 'stale_devices'`. */
  readonly stale: StaleDevices | undefined;

  /**
   * @param code error code
   * @param message text
   * @param details raw error object
   */
  constructor(code: string, message: string, details?: unknown) {
    super(0, code, message, details);
    this.name = 'SocketAckError';
    if (code === 'stale_devices') {
      // Servers put the lists either in `details` or next to `code`: accept both.
      const raw = details as { details?: unknown; missing?: unknown; extra?: unknown } | undefined;
      const candidate = raw?.details ?? raw;
      const parsed = StaleDevices.safeParse(candidate);
      this.stale = parsed.success ? parsed.data : { missing: [], extra: [] };
    } else {
      this.stale = undefined;
    }
  }
}

/** How to reach chat-service's Socket.IO endpoint. */
export interface SocketClientOptions {
  /** Origin (e.g. `http://localhost:8080`); the path is `/socket.io/`. */
  url: string;
  /** Socket.IO path (default `/socket.io/`). */
  path?: string;
  /** My device id (handshake `auth.deviceId`). */
  deviceId: number;
  /** My device's secret from registration (handshake `auth.deviceSecret`): proves the socket is this device. */
  deviceSecret: string;
  /** Current access token for the handshake (undefined: browsers send the cookie). */
  getToken: () => string | undefined;
  /** Ack timeout in ms (default 15 s). */
  ackTimeoutMs?: number;
}

/** Typed handlers of server events. */
export interface SocketEvents {
  'message:new': (e: IncomingEnvelope) => void;
  presence: (e: z.infer<typeof PresenceEvent>) => void;
  typing: (e: z.infer<typeof TypingEvent>) => void;
  'mailbox:empty': () => void;
  'identity:changed': (e: { userId: string }) => void;
  'conversation:updated': (e: { conversationId: string }) => void;
  /** The server is about to disconnect because the access token expired. */
  'session:expired': () => void;
  /** Connected (first time, or again after an automatic reconnection). */
  connect: () => void;
  /** The connection dropped; Socket.IO retries by itself unless the server or I closed it. */
  disconnect: (reason: string) => void;
}

/**
 * Socket.IO transport to chat-service: handshake auth `{deviceId, deviceSecret, token}`, typed acks, and
 * validated server events (malformed events are dropped, never thrown into handlers).
 */
export class SocketClient {
  private readonly socket: Socket;
  private readonly timeout: number;
  /** True while {@link connect} waits: its own promise reports that handshake's refusal. */
  private connecting = false;
  private rejected: ((code: string) => void) | undefined;

  /** @param options endpoint and identity */
  constructor(options: SocketClientOptions) {
    this.timeout = options.ackTimeoutMs ?? 15_000;
    this.socket = io(options.url, {
      path: options.path ?? '/socket.io/',
      autoConnect: false,
      transports: ['websocket'],
      withCredentials: true,
      // A function, so every reconnection sends the then-current (refreshed) token.
      auth: (cb) => {
        const token = options.getToken();
        const device = { deviceId: options.deviceId, deviceSecret: options.deviceSecret };
        cb(token ? { ...device, token } : device);
      },
    });
    this.socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
      // While `active`, Socket.IO is still retrying by itself (the server was unreachable). A
      // refusal by the server's handshake check ends its retries for good: tell the owner.
      if (this.connecting || this.socket.active) return;
      this.rejected?.(err.data?.code ?? 'connect_error');
    });
  }

  /**
   * Called when an automatic reconnection was refused by the server (expired token, server
   * briefly unable to check the device, ...): Socket.IO gives up then, so the owner decides.
   * @param handler gets the refusal's code
   */
  onRejected(handler: (code: string) => void): void {
    this.rejected = handler;
  }

  /**
   * Connects and resolves once the handshake is accepted.
   * @throws {ApiError} with the server's `connect_error` code (e.g. `token_expired`)
   */
  connect(): Promise<void> {
    if (this.socket.connected) return Promise.resolve();
    this.connecting = true;
    return new Promise((resolve, reject) => {
      const onConnect = () => {
        this.connecting = false;
        this.socket.off('connect_error', onError);
        resolve();
      };
      const onError = (err: Error & { data?: { code?: string } }) => {
        this.connecting = false;
        this.socket.off('connect', onConnect);
        this.socket.disconnect();
        reject(new ApiError(401, err.data?.code ?? 'connect_error', err.message, err.data));
      };
      this.socket.once('connect', onConnect);
      this.socket.once('connect_error', onError);
      this.socket.connect();
    });
  }

  /** @returns whether the socket is connected */
  get connected(): boolean {
    return this.socket.connected;
  }

  /**
   * Subscribes to a server event; payloads are schema-checked first.
   * @param event name
   * @param handler typed handler
   */
  on<E extends keyof SocketEvents>(event: E, handler: SocketEvents[E]): void {
    const schemas: Partial<Record<keyof SocketEvents, z.ZodType>> = {
      'message:new': IncomingEnvelope,
      presence: PresenceEvent,
      typing: TypingEvent,
      'identity:changed': z.object({ userId: z.string() }).loose(),
      'conversation:updated': z.object({ conversationId: z.string() }).loose(),
    };
    const schema = schemas[event];
    this.socket.on(event as string, (payload: unknown) => {
      if (!schema) {
        (handler as (p: unknown) => void)(payload);
        return;
      }
      const parsed = schema.safeParse(payload);
      if (parsed.success) (handler as (p: unknown) => void)(parsed.data);
    });
  }

  private async command<T>(event: string, payload: unknown, schema: z.ZodType<T>): Promise<T> {
    let answer: unknown;
    try {
      answer = await this.socket.timeout(this.timeout).emitWithAck(event, payload);
    } catch (err) {
      throw new SocketAckError('timeout', `no answer to ${event}`, { cause: String(err) });
    }
    const ack = Ack.safeParse(answer);
    if (!ack.success) throw new SocketAckError('bad_response', `malformed ack for ${event}`);
    if (!ack.data.ok) throw new SocketAckError(ack.data.error.code, ack.data.error.message, ack.data.error);
    const data = schema.safeParse(ack.data.data);
    if (!data.success) throw new SocketAckError('bad_response', `unexpected ack data for ${event}`);
    return data.data;
  }

  /**
   * Emits `message:send`.
   * @param payload envelopes for every recipient device
   * @returns the server message id and timestamp
   * @throws {SocketAckError} `stale_devices` (with `.stale`), `not_member`, ...
   */
  sendMessage(payload: SendMessagePayload): Promise<z.infer<typeof SendAckData>> {
    return this.command('message:send', payload, SendAckData);
  }

  /**
   * Acknowledges received envelopes so the server deletes them from my mailbox.
   * @param messageIds server message ids
   */
  async ack(messageIds: string[]): Promise<void> {
    // The server takes at most 500 ids per ack.
    for (let i = 0; i < messageIds.length; i += 500) {
      await this.command('message:ack', { messageIds: messageIds.slice(i, i + 500) }, z.unknown());
    }
  }

  /**
   * Sends typing state to the conversation's members.
   * @param conversationId conversation
   * @param on typing or stopped
   */
  async typing(conversationId: string, on: boolean): Promise<void> {
    await this.command('typing', { conversationId, on }, z.unknown());
  }

  /**
   * Asks for the current presence of users (`presence:get`); the server answers only for users
   * who share a conversation with me and leaves the others out.
   * @param userIds at most 500 user ids
   * @returns one entry per visible user
   */
  presence(userIds: string[]): Promise<z.infer<typeof PresenceEvent>[]> {
    return this.command('presence:get', { userIds }, z.array(PresenceEvent));
  }

  /** Asks the server to deliver what is queued in my mailbox. */
  async syncMailbox(): Promise<void> {
    // `mailbox:sync` has no payload, only the ack callback.
    let answer: unknown;
    try {
      answer = await this.socket.timeout(this.timeout).emitWithAck('mailbox:sync');
    } catch (err) {
      throw new SocketAckError('timeout', 'no answer to mailbox:sync', { cause: String(err) });
    }
    const ack = Ack.safeParse(answer);
    if (ack.success && !ack.data.ok) throw new SocketAckError(ack.data.error.code, ack.data.error.message, ack.data.error);
  }

  /** Reconnects after the server closed the connection (e.g. with a refreshed token). */
  reconnect(): Promise<void> {
    this.socket.disconnect();
    return this.connect();
  }

  /** Disconnects for good. */
  close(): void {
    this.socket.removeAllListeners();
    this.socket.disconnect();
  }
}
