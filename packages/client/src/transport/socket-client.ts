import {
  AckOf,
  ConversationUpdatedEvent,
  PreKeysLowEvent,
  PrivacyChangedEvent,
  IdentityChangedEvent,
  MailboxSyncResult,
  MessageAckResult,
  MessageNew,
  MessageSendResult,
  PresenceEvent,
  StaleDevicesDetails,
  type ClientToServerEvents,
  type Envelope,
  type MessageSendPayload,
  type ServerToClientEvents,
} from '@cipherchat/contracts';
import { io, type Socket } from 'socket.io-client';
import { z } from 'zod';
import { ApiError } from './api-error.js';

/** One ciphertext for one device in `message:send` (the contract's `Envelope`). */
export type OutgoingEnvelope = Envelope;
/** `message:send` payload (the contract's `MessageSendPayload`). */
export type SendMessagePayload = MessageSendPayload;
/** Server event `message:new` (the contract's `MessageNew`). */
export type IncomingEnvelope = MessageNew;

/** A socket command answered `{ok:false}` (or timed out / disconnected). */
export class SocketAckError extends ApiError {
  /** Stale device lists when `code === 'stale_devices'` (from the error's `details`). */
  readonly stale: StaleDevicesDetails | undefined;

  /**
   * @param code error code
   * @param message text
   * @param details the error's `details` (for `stale_devices`: `{missing, extra}`)
   * @param options standard `cause`
   */
  constructor(code: string, message: string, details?: unknown, options?: { cause?: unknown }) {
    super(0, code, message, details, options);
    this.name = 'SocketAckError';
    this.stale = code === 'stale_devices' ? StaleDevicesDetails.safeParse(details).data : undefined;
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

/** Typed handlers of server events (the contract's `ServerToClientEvents`) and of the connection. */
export interface SocketEvents extends ServerToClientEvents {
  /** Connected (first time, or again after an automatic reconnection). */
  connect: () => void;
  /** The connection dropped; Socket.IO retries by itself unless the server or I closed it. */
  disconnect: (reason: string) => void;
}

/** Schemas of the server events that carry a payload: checked before any handler sees it. */
const EVENT_SCHEMAS: { [E in keyof ServerToClientEvents]?: z.ZodType<Parameters<ServerToClientEvents[E]>[0]> } = {
  'message:new': MessageNew,
  presence: PresenceEvent,
  'identity:changed': IdentityChangedEvent,
  'conversation:updated': ConversationUpdatedEvent,
  'prekeys:low': PreKeysLowEvent,
  'privacy:changed': PrivacyChangedEvent,
};

/** The typed socket with an ack timeout applied (what `emitWithAck` is called on). */
type TimedSocket = ReturnType<Socket<ServerToClientEvents, ClientToServerEvents>['timeout']>;

/** Any ack; its `data` is then checked with the command's own schema. */
const AnyAck = AckOf(z.unknown());

/**
 * Socket.IO transport to chat-service, typed by the contract (`Socket<ServerToClientEvents,
 * ClientToServerEvents>`): handshake auth `{deviceId, deviceSecret, token}`, acks checked against
 * the contract's schemas, and validated server events (malformed events are dropped, never thrown
 * into handlers).
 */
export class SocketClient {
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
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
   * Subscribes to a server event; payloads are checked against the contract's schema first.
   * @param event name
   * @param handler typed handler
   */
  on<E extends keyof SocketEvents>(event: E, handler: SocketEvents[E]): void {
    const schema = (EVENT_SCHEMAS as Partial<Record<keyof SocketEvents, z.ZodType>>)[event];
    const call = handler as (...args: unknown[]) => void;
    // The typed socket's overloads cannot follow a generic event name: register untyped, the
    // schema (or the contract, for events without payload) guarantees the handler's type.
    const untyped = this.socket as unknown as { on(event: string, listener: (...args: unknown[]) => void): void };
    untyped.on(event, (...args: unknown[]) => {
      if (!schema) {
        call(...args);
        return;
      }
      const parsed = schema.safeParse(args[0]);
      if (parsed.success) call(parsed.data);
    });
  }

  /**
   * Emits a command with a timeout and checks its ack against the contract.
   * @param event the command (for error messages)
   * @param data schema of the ack's `data`
   * @param emit the typed emit on a socket with the ack timeout applied
   * @returns the ack's data
   * @throws {SocketAckError} the server's `{ok:false}` error, `timeout`, or `bad_response`
   */
  private async command<T extends z.ZodType>(
    event: keyof ClientToServerEvents,
    data: T,
    emit: (socket: TimedSocket) => Promise<unknown>,
  ): Promise<z.infer<T>> {
    let answer: unknown;
    try {
      answer = await emit(this.socket.timeout(this.timeout));
    } catch (err) {
      throw new SocketAckError('timeout', `no answer to ${event}`, undefined, { cause: err });
    }
    const ack = AnyAck.safeParse(answer);
    if (!ack.success) throw new SocketAckError('bad_response', `malformed ack for ${event}`, ack.error.issues);
    if (!ack.data.ok) throw new SocketAckError(ack.data.error.code, ack.data.error.message, ack.data.error.details);
    const parsed = data.safeParse(ack.data.data);
    if (!parsed.success) throw new SocketAckError('bad_response', `unexpected ack data for ${event}`, parsed.error.issues);
    return parsed.data;
  }

  /**
   * Emits `message:send`.
   * @param payload envelopes for every recipient device
   * @returns the server message id and timestamp
   * @throws {SocketAckError} `stale_devices` (with `.stale`), `not_member`, ...
   */
  sendMessage(payload: SendMessagePayload): Promise<MessageSendResult> {
    return this.command('message:send', MessageSendResult, (s) => s.emitWithAck('message:send', payload));
  }

  /**
   * Acknowledges received envelopes so the server deletes them from my mailbox.
   * @param messageIds server message ids
   */
  async ack(messageIds: string[]): Promise<void> {
    // The server takes at most 500 ids per ack.
    for (let i = 0; i < messageIds.length; i += 500) {
      const batch = { messageIds: messageIds.slice(i, i + 500) };
      await this.command('message:ack', MessageAckResult, (s) => s.emitWithAck('message:ack', batch));
    }
  }

  /**
   * Asks for the current presence of users (`presence:get`); the server answers only for users
   * who share a conversation with me and leaves the others out.
   * @param userIds at most 500 user ids
   * @returns one entry per visible user
   */
  presence(userIds: string[]): Promise<PresenceEvent[]> {
    return this.command('presence:get', z.array(PresenceEvent), (s) => s.emitWithAck('presence:get', { userIds }));
  }

  /** Asks the server to deliver what is queued in my mailbox. */
  async syncMailbox(): Promise<void> {
    // `mailbox:sync` has no payload, only the ack callback.
    await this.command('mailbox:sync', MailboxSyncResult, (s) => s.emitWithAck('mailbox:sync'));
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
