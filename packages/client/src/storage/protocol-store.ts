import type { HistoryCursor } from './history-index.js';
import type { OutgoingJob, StoredMessage } from '../messages/message.schema.js';
import type { SearchHit, SearchOptions, SearchProgress } from './search-index.js';

/** A Curve25519 key pair as raw bytes (public key in the 33-byte 0x05-prefixed form). */
export interface KeyPairBytes {
  /** 33-byte serialized public key (0x05 prefix). */
  readonly pubKey: Uint8Array;
  /** 32-byte private key. */
  readonly privKey: Uint8Array;
}

/** This account's identity and this device's registration id. */
export interface LocalIdentity {
  /** Account-wide identity key pair (shared by all my devices, restored from the backup). */
  readonly identityKeyPair: KeyPairBytes;
  /** This device's 14-bit Signal registration id. */
  readonly registrationId: number;
}

/** One one-time prekey. */
export interface PreKeyRecord {
  readonly keyId: number;
  readonly keyPair: KeyPairBytes;
}

/** One signed prekey with its signature by the identity key. */
export interface SignedPreKeyRecord {
  readonly keyId: number;
  readonly keyPair: KeyPairBytes;
  /** 64-byte XEdDSA signature over the 33-byte public key. */
  readonly signature: Uint8Array;
  /** Epoch milliseconds; drives rotation. */
  readonly createdAt: number;
}

/**
 * Trust state of a contact's identity key.
 * - `trusted`: first seen and accepted automatically (trust on first use) or accepted after a change
 * - `verified`: the user compared safety numbers and marked it verified
 * - `untrusted`: the key changed; sending and new incoming sessions are blocked until accepted
 */
export type IdentityStatus = 'trusted' | 'verified' | 'untrusted';

/** The identity key we hold for one contact (per user: all of a user's devices share it). */
export interface IdentityRecord {
  readonly userId: string;
  /** The contact's current identity key (33 bytes). */
  readonly publicKey: Uint8Array;
  readonly status: IdentityStatus;
  /** The key it replaced, while the change is unaccepted. */
  readonly previousKey?: Uint8Array | undefined;
  /** Epoch milliseconds of the last change. */
  readonly updatedAt: number;
}

/**
 * The private protocol state that the key backup carries (everything but message history and
 * cached metadata). Byte fields are base64 so the object serialises to JSON as is.
 */
export interface PrivateState {
  readonly identity?: { identityKeyPair: { pubKey: string; privKey: string }; registrationId: number } | undefined;
  readonly preKeys: ReadonlyArray<{ keyId: number; pubKey: string; privKey: string }>;
  readonly signedPreKeys: ReadonlyArray<{
    keyId: number;
    pubKey: string;
    privKey: string;
    signature: string;
    createdAt: number;
  }>;
  /** Serialized Signal session records by address (`userId.deviceId`). */
  readonly sessions: Readonly<Record<string, string>>;
  readonly identities: ReadonlyArray<{
    userId: string;
    publicKey: string;
    status: IdentityStatus;
    previousKey?: string | undefined;
    updatedAt: number;
  }>;
}

/**
 * Everything the client persists, behind one interface: Signal protocol state, trusted
 * identities, small metadata values and the local message history.
 * Implementations: memory (Node, tests), IndexedDB (browser, encrypted at rest), file (CLI).
 */
export interface ProtocolStore {
  /** @returns the local identity, if this device has one. */
  getLocalIdentity(): Promise<LocalIdentity | undefined>;
  /** Replaces the local identity. */
  setLocalIdentity(identity: LocalIdentity): Promise<void>;

  /** @returns one one-time prekey by id. */
  getPreKey(keyId: number): Promise<PreKeyRecord | undefined>;
  /** Stores one-time prekeys. */
  putPreKeys(records: readonly PreKeyRecord[]): Promise<void>;
  /** Deletes a used one-time prekey. */
  removePreKey(keyId: number): Promise<void>;
  /** @returns ids of the one-time prekeys still held. */
  listPreKeyIds(): Promise<number[]>;

  /** @returns one signed prekey by id. */
  getSignedPreKey(keyId: number): Promise<SignedPreKeyRecord | undefined>;
  /** Stores a signed prekey. */
  putSignedPreKey(record: SignedPreKeyRecord): Promise<void>;
  /** Deletes a signed prekey. */
  removeSignedPreKey(keyId: number): Promise<void>;
  /** @returns every signed prekey held. */
  listSignedPreKeys(): Promise<SignedPreKeyRecord[]>;

  /** @returns the serialized session record for `userId.deviceId`. */
  getSession(address: string): Promise<string | undefined>;
  /** Stores a serialized session record. */
  putSession(address: string, record: string): Promise<void>;
  /** Deletes a session record. */
  removeSession(address: string): Promise<void>;
  /** @returns addresses that have a session, optionally only those of one user. */
  listSessionAddresses(userId?: string): Promise<string[]>;

  /** @returns the identity we hold for a contact. */
  getIdentity(userId: string): Promise<IdentityRecord | undefined>;
  /** Stores a contact's identity record. */
  putIdentity(record: IdentityRecord): Promise<void>;
  /** @returns every contact identity. */
  listIdentities(): Promise<IdentityRecord[]>;

  /** @returns a small JSON metadata value (device id, cached ids, counters). */
  getMeta(key: string): Promise<unknown>;
  /** Stores a small JSON metadata value (`undefined` deletes it). */
  setMeta(key: string, value: unknown): Promise<void>;

  /** Adds or replaces a message in the local history. */
  putMessage(message: StoredMessage): Promise<void>;
  /** @returns one message by id. */
  getMessage(id: string): Promise<StoredMessage | undefined>;
  /** Removes a message from the local history (delete for me, disappearing, a re-read placeholder), with its outgoing job if any, in one atomic step; nothing happens when it is not there. */
  deleteMessage(id: string): Promise<void>;
  /** @returns a conversation's messages, oldest first (only that conversation's records are opened). */
  listMessages(conversationId: string): Promise<StoredMessage[]>;
  /**
   * One page of a conversation's history through the history index: the `limit` latest
   * messages, or with `before` the `limit` messages just older than that one; oldest first.
   */
  pageMessages(conversationId: string, options: { before?: HistoryCursor; limit: number }): Promise<StoredMessage[]>;
  /**
   * @param conversationId the conversation
   * @param mentionOf a user id (me): also count the unread messages that mention them
   * @returns how many incoming messages are unread (status `received`) and how many of those mention `mentionOf`, at any history length
   */
  unreadSummary(conversationId: string, mentionOf?: string): Promise<{ count: number; mentions: number }>;
  /** @returns the ids of a conversation's unread incoming messages, oldest first (nothing is opened) */
  unreadMessageIds(conversationId: string): Promise<string[]>;

  /**
   * Writes an outgoing message together with its send job in one atomic step; without a job,
   * removes the message's job in that same step (sent, or failed for good).
   */
  saveOutgoing(message: StoredMessage, job: OutgoingJob | undefined): Promise<void>;
  /** @returns every job of the outgoing queue. */
  listOutgoingJobs(): Promise<OutgoingJob[]>;
  /** Stores one job of the outgoing queue on its own (a control message, which has no history entry). */
  putOutgoingJob(job: OutgoingJob): Promise<void>;
  /** Removes one job of the outgoing queue (its message is gone from history). */
  deleteOutgoingJob(id: string): Promise<void>;

  /** @returns the private state for the key backup. */
  exportPrivateState(): Promise<PrivateState>;
  /** Replaces the private protocol state (not history or metadata) with `state`. */
  importPrivateState(state: PrivateState): Promise<void>;
  /**
   * Local search over message text (docs/client.md "Local search"): builds the index first when
   * it is not complete.
   * @param query the text to find (substring; case, accents and width ignored)
   * @param options conversation filter, limit, clock for expiry
   * @returns the hits, newest first
   */
  searchMessages(query: string, options?: SearchOptions): Promise<SearchHit[]>;
  /**
   * Builds the search index again from scratch.
   * @param onProgress told as it goes
   * @param source messages to index (default: all of local history)
   * @returns how many messages were indexed
   */
  rebuildSearch(
    onProgress?: (p: SearchProgress) => void,
    source?: AsyncIterable<readonly StoredMessage[]>,
  ): Promise<number>;
  /** Builds the search index if it is not complete (a store from before search). @param onProgress told as it goes */
  prepareSearch(onProgress?: (p: SearchProgress) => void): Promise<void>;
  /** Deletes everything (log out and forget this device). */
  clear(): Promise<void>;

  /** @returns a cached decrypted attachment by its id (now the most recently used), if held. */
  getMedia(key: string): Promise<Uint8Array | undefined>;
  /** Caches a decrypted attachment; the least recently used go until the cache fits `capBytes`. */
  putMedia(key: string, bytes: Uint8Array, capBytes: number): Promise<void>;
  /** Drops cached attachments (also done by `deleteMessage` and by storing a tombstone). */
  deleteMedia(ids: readonly string[]): Promise<void>;
}
