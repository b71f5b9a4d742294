import { SessionBuilder, SessionCipher, SignalProtocolAddress } from '@privacyresearch/libsignal-protocol-typescript';
import type { IdentityRecord, ProtocolStore } from '../storage/protocol-store.js';
import { createMemoryStore } from '../storage/kv-protocol-store.js';
import { binaryStringToBytes, bytesEqual, toArrayBuffer, toBase64 } from './bytes.js';
import { DecryptError, ProtocolError, UntrustedIdentityError } from './errors.js';
import { computeSafetyNumber, type SafetyNumber } from './fingerprint.js';
import type { DeviceBundle } from './keys.js';
import { KeyedSerialQueue } from './serial-queue.js';
import { SignalStoreAdapter } from './signal-store.adapter.js';
import { useWebCryptoCurve } from './x25519.js';

useWebCryptoCurve();

/** Signal message types as they travel in envelopes. */
export const MessageType = { Whisper: 1, PreKeyWhisper: 3 } as const;
/** 1 = Whisper (normal), 3 = PreKeyWhisper (first message of a session). */
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** One encrypted message for one device. */
export interface Ciphertext {
  type: MessageType;
  body: Uint8Array;
}

/** Raised when a contact's identity key changed (reported once per new key). */
export interface IdentityChange {
  userId: string;
  previousKey: Uint8Array | undefined;
  newKey: Uint8Array;
}

/** Options of `SignalProtocol`. */
export interface SignalProtocolOptions {
  /**
   * My own user id. My other devices must carry my identity key: a bundle or a first message
   * of "my" device under another key is refused (`foreign_device`), and no identity record is
   * ever kept for myself.
   */
  localUserId?: string;
  /** Called when a contact's identity key is seen to change (sending is then blocked). */
  onIdentityChange?: (change: IdentityChange) => void;
}

/** `userId.deviceId`, the library's address string. */
export function addressOf(userId: string, deviceId: number): string {
  return `${userId}.${deviceId}`;
}

/**
 * The Signal protocol for one local device: builds sessions from bundles, encrypts and
 * decrypts, and guards identity changes. Every operation on a remote address runs in that
 * address's serial queue, so session state never races.
 */
export class SignalProtocol {
  private readonly queue = new KeyedSerialQueue();
  /** Safety numbers cost ~0.5 s (2 × 5200 SHA-512): memoised per exact pair of keys. */
  private readonly safetyNumbers = new Map<string, Promise<SafetyNumber>>();
  private readonly adapter: SignalStoreAdapter;

  /**
   * @param store persistent protocol state
   * @param options callbacks
   */
  constructor(
    readonly store: ProtocolStore,
    private readonly options: SignalProtocolOptions = {},
  ) {
    this.adapter = new SignalStoreAdapter(store, this.adapterOptions());
  }

  private adapterOptions(): { localUserId?: string } {
    return this.options.localUserId !== undefined ? { localUserId: this.options.localUserId } : {};
  }

  /**
   * @param userId an account
   * @returns whether it is mine (my devices share my identity key)
   */
  isMe(userId: string): boolean {
    return userId === this.options.localUserId;
  }

  /**
   * Starts a session with one remote device from its prekey bundle (X3DH).
   * @param userId the device's account
   * @param bundle its bundle (identity key, signed prekey, optional one-time prekey)
   * @throws {UntrustedIdentityError} when the bundle's identity differs from the trusted one
   * @throws {ProtocolError} `invalid_signature` when the signed prekey's signature is forged;
   *   `foreign_device` when the bundle is of one of my devices but carries another identity key;
   *   `own_identity_key` when another user's bundle carries my identity key
   */
  async processBundle(userId: string, bundle: DeviceBundle): Promise<void> {
    const address = addressOf(userId, bundle.deviceId);
    await this.queue.run(address, async () => {
      if (this.isMe(userId)) await this.guardOwnBundle(userId, bundle);
      else {
        await this.guardNotMyKey(userId, bundle.identityKey);
        await this.guardBundleIdentity(userId, bundle.identityKey);
      }
      const builder = new SessionBuilder(this.adapter, new SignalProtocolAddress(userId, bundle.deviceId));
      try {
        await builder.processPreKey(this.preKeyDevice(bundle));
      } catch (err) {
        if (err instanceof Error && /signature/i.test(err.message)) {
          throw new ProtocolError('invalid_signature', 'signed prekey signature does not verify', { cause: err });
        }
        if (err instanceof Error && /identity key changed/i.test(err.message)) {
          throw new UntrustedIdentityError(userId, { cause: err });
        }
        // WebCrypto refuses an agreement with a low-order key (x25519.ts).
        if (err instanceof Error && err.name === 'OperationError') {
          throw new ProtocolError('invalid_bundle', 'the bundle holds a key that cannot be used', { cause: err });
        }
        throw err;
      }
    });
  }

  private preKeyDevice(bundle: DeviceBundle): Parameters<SessionBuilder['processPreKey']>[0] {
    return {
      registrationId: bundle.registrationId,
      identityKey: toArrayBuffer(bundle.identityKey),
      signedPreKey: {
        keyId: bundle.signedPreKey.keyId,
        publicKey: toArrayBuffer(bundle.signedPreKey.publicKey),
        signature: toArrayBuffer(bundle.signedPreKey.signature),
      },
      preKey: bundle.preKey ? { keyId: bundle.preKey.keyId, publicKey: toArrayBuffer(bundle.preKey.publicKey) } : undefined,
    };
  }

  /**
   * My identity key is my account's alone: another user's bundle under it is my own device
   * relabelled by the server (trusting it would pin "Carol" to my key). Nothing is stored.
   */
  private async guardNotMyKey(userId: string, key: Uint8Array): Promise<void> {
    const local = await this.store.getLocalIdentity();
    if (local && bytesEqual(local.identityKeyPair.pubKey, key)) {
      throw new ProtocolError('own_identity_key', `a bundle for ${userId} carries my own identity key`);
    }
  }

  /**
   * A bundle of one of my own devices must carry my identity key. One under another key is a
   * device I never linked: refused as `foreign_device` when its signature is valid under that
   * key (someone holds it), else as `invalid_signature` (a server mixing keys). Nothing is stored.
   */
  private async guardOwnBundle(userId: string, bundle: DeviceBundle): Promise<void> {
    const local = await this.store.getLocalIdentity();
    if (!local) throw new ProtocolError('no_local_identity', 'no local identity');
    if (bytesEqual(local.identityKeyPair.pubKey, bundle.identityKey)) return;
    // Check the signature on a throw-away store, so no session or identity is written.
    const scratch = createMemoryStore();
    await scratch.setLocalIdentity(local);
    const builder = new SessionBuilder(
      new SignalStoreAdapter(scratch, { trustAll: true }),
      new SignalProtocolAddress(userId, bundle.deviceId),
    );
    try {
      await builder.processPreKey(this.preKeyDevice(bundle));
    } catch (err) {
      throw new ProtocolError('invalid_signature', 'signed prekey signature does not verify', { cause: err });
    }
    throw new ProtocolError('foreign_device', `device ${bundle.deviceId} of my account carries another identity key`);
  }

  /**
   * @param userId account
   * @param deviceId device
   * @returns whether an open session with that device exists
   */
  async hasSession(userId: string, deviceId: number): Promise<boolean> {
    const address = addressOf(userId, deviceId);
    return this.queue.run(address, () =>
      new SessionCipher(this.adapter, new SignalProtocolAddress(userId, deviceId)).hasOpenSession(),
    );
  }

  /**
   * Device ids I hold sessions with, for one user.
   * @param userId account
   * @returns device ids
   */
  async sessionDevices(userId: string): Promise<number[]> {
    const addresses = await this.store.listSessionAddresses(userId);
    return addresses.map((a) => Number(a.slice(a.lastIndexOf('.') + 1))).sort((a, b) => a - b);
  }

  /**
   * Forgets the session with one device (it was removed, or the server says it is stale).
   * @param userId account
   * @param deviceId device
   */
  async deleteSession(userId: string, deviceId: number): Promise<void> {
    const address = addressOf(userId, deviceId);
    await this.queue.run(address, () => this.store.removeSession(address));
  }

  /**
   * Encrypts for one device with its session.
   * @param userId recipient account
   * @param deviceId recipient device
   * @param plaintext bytes
   * @returns the Signal message type and ciphertext bytes
   * @throws {UntrustedIdentityError} when the contact's identity changed and was not accepted
   * @throws {ProtocolError} `no_session` when there is no session yet
   */
  async encrypt(userId: string, deviceId: number, plaintext: Uint8Array): Promise<Ciphertext> {
    const address = addressOf(userId, deviceId);
    return this.queue.run(address, async () => {
      const identity = this.isMe(userId) ? undefined : await this.store.getIdentity(userId);
      if (identity?.status === 'untrusted') throw new UntrustedIdentityError(userId);
      const cipher = new SessionCipher(this.adapter, new SignalProtocolAddress(userId, deviceId));
      if (!(await cipher.hasOpenSession())) throw new ProtocolError('no_session', `no session with ${address}`);
      try {
        const out = await cipher.encrypt(toArrayBuffer(plaintext));
        if (out.body === undefined) throw new Error('library returned no body');
        const type = out.type === 3 ? MessageType.PreKeyWhisper : MessageType.Whisper;
        return { type, body: binaryStringToBytes(out.body) };
      } catch (err) {
        if (err instanceof Error && /identity key changed/i.test(err.message)) {
          throw new UntrustedIdentityError(userId, { cause: err });
        }
        // WebCrypto refuses an agreement with a low-order key (x25519.ts).
        if (err instanceof Error && err.name === 'OperationError') {
          throw new ProtocolError('invalid_bundle', 'the bundle holds a key that cannot be used', { cause: err });
        }
        throw err;
      }
    });
  }

  /**
   * Decrypts one message from one device. A failure never changes stored session state
   * (the library only writes the record after the MAC checked and the plaintext decrypted).
   * @param userId sender account (from the envelope; authenticated by the session)
   * @param deviceId sender device
   * @param type Signal message type
   * @param body ciphertext bytes
   * @returns plaintext bytes
   * @throws {UntrustedIdentityError} a first message under a changed, unaccepted identity key
   * @throws {DecryptError} bad MAC, replay, wrong recipient, malformed, no session
   */
  async decrypt(userId: string, deviceId: number, type: number, body: Uint8Array): Promise<Uint8Array> {
    const address = addressOf(userId, deviceId);
    return this.queue.run(address, async () => {
      const remote = new SignalProtocolAddress(userId, deviceId);
      // A fresh adapter per decryption: it holds this message's offered identity and defers
      // identity writes until the message authenticated (trust on first use, after the MAC).
      const adapter = new SignalStoreAdapter(this.store, { deferIdentityWrites: true, ...this.adapterOptions() });
      const cipher = new SessionCipher(adapter, remote);
      try {
        let plain: ArrayBuffer;
        if (type === MessageType.PreKeyWhisper) {
          plain = await cipher.decryptPreKeyWhisperMessage(toArrayBuffer(body), 'binary');
        } else if (type === MessageType.Whisper) {
          plain = await cipher.decryptWhisperMessage(toArrayBuffer(body), 'binary');
        } else {
          throw new DecryptError('invalid_message', `unknown message type ${type}`);
        }
        await adapter.commitIdentities();
        return new Uint8Array(plain);
      } catch (err) {
        if (err instanceof ProtocolError) throw err;
        const message = err instanceof Error ? err.message : String(err);
        if (this.isMe(userId) && type === MessageType.PreKeyWhisper && /unknown identity key/i.test(message)) {
          // "My" device under another identity key: never shown, never an identity change.
          throw new DecryptError('foreign_device', `device ${deviceId} of my account uses another identity key`, { cause: err });
        }
        const offered = adapter.offeredIdentities.get(userId);
        const local = await this.store.getLocalIdentity();
        if (type === MessageType.PreKeyWhisper && offered && local && bytesEqual(local.identityKeyPair.pubKey, offered)) {
          // One of my own devices relabelled as another user: never shown, never an identity change.
          throw new DecryptError('own_identity_key', `a first message from ${userId} carries my own identity key`, { cause: err });
        }
        if (type === MessageType.PreKeyWhisper && /unknown identity key/i.test(message)) {
          throw await this.handleUntrustedIncoming(userId, adapter.offeredIdentities.get(userId), remote, body, err);
        }
        if (/identity key changed/i.test(message)) throw new UntrustedIdentityError(userId, { cause: err });
        if (err instanceof Error && err.name === 'MessageCounterError') {
          throw new DecryptError('duplicate_message', 'message key already used (replay or duplicate)', { cause: err });
        }
        if (/no record|no session/i.test(message)) {
          throw new DecryptError('no_session', `no session with ${address}`, { cause: err });
        }
        throw new DecryptError('invalid_message', 'message failed to decrypt', { cause: err });
      }
    });
  }

  /**
   * A first message offered an identity key that differs from the trusted one. Prove the key is
   * really held by the sender by decrypting on a throw-away copy of the state (the MAC covers
   * both identity keys and X3DH needs the sender's identity private key); only then record the
   * change as untrusted. A forged message therefore cannot plant a key or raise a false alarm.
   */
  private async handleUntrustedIncoming(
    userId: string,
    offered: Uint8Array | undefined,
    remote: SignalProtocolAddress,
    body: Uint8Array,
    cause: unknown,
  ): Promise<Error> {
    if (!offered) return new DecryptError('invalid_message', 'message failed to decrypt', { cause });
    const scratch = createMemoryStore();
    await scratch.importPrivateState(await this.store.exportPrivateState());
    try {
      await new SessionCipher(new SignalStoreAdapter(scratch, { trustAll: true }), remote).decryptPreKeyWhisperMessage(
        toArrayBuffer(body),
        'binary',
      );
    } catch (err) {
      return new DecryptError('invalid_message', 'message failed to decrypt', { cause: err });
    }
    await this.recordIdentityChange(userId, offered);
    return new UntrustedIdentityError(userId, { cause });
  }

  private async guardBundleIdentity(userId: string, key: Uint8Array): Promise<void> {
    const known = await this.store.getIdentity(userId);
    if (!known) return;
    if (!bytesEqual(known.publicKey, key)) {
      await this.recordIdentityChange(userId, key);
      throw new UntrustedIdentityError(userId);
    }
    if (known.status === 'untrusted') throw new UntrustedIdentityError(userId);
  }

  private async recordIdentityChange(userId: string, newKey: Uint8Array): Promise<void> {
    const known = await this.store.getIdentity(userId);
    if (known && bytesEqual(known.publicKey, newKey)) return;
    const record: IdentityRecord = {
      userId,
      publicKey: newKey,
      previousKey: known?.status === 'untrusted' ? known.previousKey : known?.publicKey,
      status: 'untrusted',
      updatedAt: Date.now(),
    };
    await this.store.putIdentity(record);
    this.options.onIdentityChange?.({ userId, previousKey: record.previousKey, newKey });
  }

  /**
   * The user accepted a contact's changed identity key: trust it and drop the sessions made
   * under the old key (new ones are built from fresh bundles or the contact's next message).
   * @param userId the contact
   * @returns false when there was nothing to accept
   */
  async acceptIdentity(userId: string): Promise<boolean> {
    if (this.isMe(userId)) return false;
    const addresses = await this.store.listSessionAddresses(userId);
    return this.queue.runAll(addresses, async () => {
      const known = await this.store.getIdentity(userId);
      if (!known || known.status !== 'untrusted') return false;
      await this.store.putIdentity({ userId, publicKey: known.publicKey, status: 'trusted', updatedAt: Date.now() });
      for (const a of await this.store.listSessionAddresses(userId)) await this.store.removeSession(a);
      return true;
    });
  }

  /**
   * Marks a contact's current key as verified (the user compared safety numbers).
   * @param userId the contact
   */
  async markVerified(userId: string): Promise<void> {
    const known = await this.store.getIdentity(userId);
    if (!known) throw new ProtocolError('no_session', `no identity known for ${userId}`);
    if (known.status === 'untrusted') throw new UntrustedIdentityError(userId);
    await this.store.putIdentity({ ...known, status: 'verified', updatedAt: Date.now() });
  }

  /**
   * The safety number between me and a contact, from the keys I hold.
   * @param localUserId my user id
   * @param remoteUserId the contact
   * @returns digits and QR payload
   */
  async safetyNumber(localUserId: string, remoteUserId: string): Promise<SafetyNumber> {
    const local = await this.store.getLocalIdentity();
    if (!local) throw new ProtocolError('no_local_identity', 'no local identity');
    const remote = await this.store.getIdentity(remoteUserId);
    if (!remote) throw new ProtocolError('no_session', `no identity known for ${remoteUserId}`);
    const key = [localUserId, toBase64(local.identityKeyPair.pubKey), remoteUserId, toBase64(remote.publicKey)].join('|');
    let result = this.safetyNumbers.get(key);
    if (!result) {
      result = computeSafetyNumber(localUserId, local.identityKeyPair.pubKey, remoteUserId, remote.publicKey);
      this.safetyNumbers.set(key, result);
      result.catch(() => this.safetyNumbers.delete(key));
    }
    return result;
  }
}
