import type { Me, PrivacySettings } from '@cipherchat/contracts';
import type { StoredMessage } from '../messages/message.schema.js';
import type { ProtocolStore } from '../storage/protocol-store.js';
import type { ApiClientOptions } from '../transport/api-client.js';
import type { RetryPolicy } from './retry-policy.js';
import type { RetryUpdate } from './retry-state.js';

/** Options of `ChatClient`. */
export interface ChatClientOptions extends ApiClientOptions {
  /** Socket.IO origin (default `baseUrl`). */
  socketUrl?: string;
  /** Socket.IO path (default `/socket.io/`). */
  socketPath?: string;
  /**
   * Opens the local store of an account (default: a fresh in-memory store). Gets the OPAQUE
   * export key too, for stores that seal themselves with a password-derived key (CLI file).
   */
  openStore?: (userId: string, ctx: { exportKey?: string | undefined }) => Promise<ProtocolStore>;
  /**
   * Name of this device ("Firefox on Linux"), chosen by the app. It never goes to the server:
   * it travels end to end in this device's announcement to my other devices.
   */
  deviceName?: string;
  /** Quiet period before a background backup upload (default 1000 ms). */
  backupDebounceMs?: number;
  /** Backoff and retry budget of the outgoing queue (defaults: {@link DEFAULT_RETRY_POLICY}). */
  sendRetry?: Partial<RetryPolicy>;
  /** The clock disappearing messages expire by (default `Date.now`; tests move it forward). */
  now?: () => number;
  /** Longest wait between two sweeps of expired messages (default 60 s). */
  disappearingSweepMs?: number;
  /**
   * Size cap of the decrypted-media cache in the local store, least recently used first out
   * (default 100 MiB; 0 turns it off, e.g. for a store written whole to one file).
   */
  mediaCacheBytes?: number;
  /** How long a decrypt failure's placeholder waits for a resend before it says why not (default 48 h; retry-state.ts). */
  retryGiveUpMs?: number;
}

/** How a send call returns. */
export interface SendOptions {
  /**
   * `true` (default): resolve once the server accepted the message (retries included), reject
   * with the last error when it failed for good. `false`: resolve as soon as the message is
   * queued (status `sending`, its local id final); follow it with `messageUpdated` / `sendFailed`.
   */
  wait?: boolean;
  /** Client id of a message of this conversation (in my local history) that this one replies to. */
  replyTo?: string;
  /** Members mentioned in the text (user ids; duplicates are dropped, at most 100). */
  mentions?: string[];
}

/** Why an outgoing message failed for good (see {@link ChatClientEvents.sendFailed}). */
export interface SendFailure {
  /** The message, now stored with status `failed` and its `failure` reason. */
  message: StoredMessage;
  /** Stable reason code (`not_member`, `validation_error`, `untrusted_identity`, `network_error`...). */
  code: string;
  /** The error of the last attempt. */
  error: unknown;
}

/** Events of `ChatClient`. */
export interface ChatClientEvents {
  /**
   * A text or attachment message (incoming, or a copy of what I sent from another device), or a
   * membership change (kind `event`: "Carol added Dan").
   */
  message: (m: StoredMessage) => void;
  /** Someone received or read my messages. */
  receipt: (r: { conversationId: string; fromUserId: string; type: 'delivered' | 'read'; messageIds: string[] }) => void;
  typing: (t: { conversationId: string; userId: string; on: boolean }) => void;
  presence: (p: { userId: string; online: boolean; lastSeenAt?: string | null | undefined }) => void;
  /**
   * My privacy settings changed on one of my devices (this one included): they already apply
   * here (what `privacy()` answers and what my receipts and typing follow).
   */
  privacyChanged: (settings: PrivacySettings) => void;
  /** A contact's identity key changed: sending to them is blocked until `acceptIdentity`. */
  identityChanged: (c: { userId: string }) => void;
  /** An envelope could not be used (it is acknowledged; a decrypt failure also gets a placeholder and a retry: `retryChanged`). */
  decryptFailed: (e: { messageId: string; senderUserId: string; senderDeviceId: number; code: string }) => void;
  /**
   * A message I could not decrypt (docs/client.md "Decrypt failures and retries"): its placeholder
   * appeared (`waiting`), could not resolve (`failed`, with a `cause`), or resolved (`resolved`:
   * the message, sent again by its sender's device, is in its place and came as `message`).
   */
  retryChanged: (p: RetryUpdate) => void;
  /** Another device asked this one to send a message again and was refused (unknown message, not a reader, over the limits). */
  retryRefused: (r: { fromUserId: string; fromDeviceId: number; messageId: string; reason: string }) => void;
  /** A background task (backup upload, prekey refill) failed. */
  error: (err: unknown) => void;
  /**
   * The server reported my mailbox drained. `missed`: group messages the server could not keep
   * for this device since it last drained because its mailbox was full (0 when none).
   */
  mailboxEmpty: (e: { missed: number }) => void;
  /**
   * The socket connected (`online: true`, also after an automatic reconnection) or dropped
   * (`online: false`; Socket.IO keeps retrying). Not emitted by {@link ChatClient.disconnect}.
   */
  connection: (c: { online: boolean }) => void;
  /**
   * An outgoing message of this device changed state in the outgoing queue: queued again
   * (`sending`), accepted by the server (`sent`) or given up (`failed`).
   */
  messageUpdated: (m: StoredMessage) => void;
  /**
   * A message's content changed (any message, mine or not): a reaction, an edit or a delete for
   * everyone, received or made on this device. The payload is the message as now stored
   * (`messageUpdated` stays for the delivery state of my outgoing messages).
   */
  messageChanged: (m: StoredMessage) => void;
  /** A message left this device's history (delete for me). */
  messageRemoved: (m: { id: string; conversationId: string }) => void;
  /** An attempt failed transiently: the message stays `sending` and is tried again later. */
  sendDeferred: (d: { messageId: string; conversationId: string; attempts: number; code: string; retryInMs: number }) => void;
  /** An outgoing message failed for good (permanent error, or the retry budget is spent). */
  sendFailed: (f: SendFailure) => void;
  /**
   * A control message of mine (reaction, edit, delete, timer) failed for good: its effect stays
   * on this device only. `id` is the control plaintext's id.
   */
  controlFailed: (f: { conversationId: string; kind: string; id: string; code: string; error: unknown }) => void;
  /**
   * A device on my account carries another identity key: it did not come from me and gets
   * nothing; sending is paused (messages fail with `foreign_device`) until it is removed.
   */
  foreignDevice: (d: { deviceId: number; createdAt: string }) => void;
  /** A new device of mine announced itself end to end (its name never reached the server). */
  deviceLinked: (d: { deviceId: number; name: string; linkedAt: number }) => void;
  /**
   * The server removed this device. `needsLogin: false`: it registered again by itself (history
   * and identity kept). `needsLogin: true`: the server wants a recent password login first; the
   * next `logIn` re-registers and keeps the local history.
   */
  deviceRemoved: (d: { needsLogin: boolean }) => void;
  /**
   * The server lists (or asked me to encrypt for) people in a conversation whom no member
   * added: nothing was sent to them, and the message failed closed. Show it in the chat.
   */
  membershipWarning: (w: { conversationId: string; userIds: string[] }) => void;
  /**
   * Messages whose disappearing timer ran out were deleted from the local store (remove them
   * from the screen, and forget any decrypted copy of their attachments).
   */
  messagesExpired: (e: { conversationId: string; messageIds: string[] }) => void;
  /** Someone's profile picture (mine too) changed or was removed: ask `avatars.image(userId)` again. */
  avatarChanged: (a: { userId: string }) => void;
  /** A received profile picture was refused (digest mismatch, not an image, too large); none is shown. */
  avatarRefused: (a: { userId: string; reason: string }) => void;
  /** A group control message was refused: its sender may not make that change in my view. */
  groupChangeRefused: (r: { conversationId: string; fromUserId: string; op: string; reason: string }) => void;
}

/** Emits one of the client's events (the facade's `emit`, handed to the parts that report). */
export type EmitFn = <E extends keyof ChatClientEvents>(event: E, ...args: Parameters<ChatClientEvents[E]>) => void;

/** Result of logging in. */
export interface LogInResult {
  user: Me;
  /** How the identity was obtained on this device. */
  identity: 'local' | 'restored' | 'created';
  /** A new recovery key, only when a new identity (and backup) was created: show it once. */
  recoveryKey?: string | undefined;
}

/** The key backup exists but this password cannot open it (password was reset). */
export class BackupLockedError extends Error {
  constructor() {
    super('the key backup was sealed under an older password; give the recovery key, or start a new identity');
    this.name = 'BackupLockedError';
  }
}
