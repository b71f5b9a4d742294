import { Direction, type KeyPairType, type StorageType } from '@privacyresearch/libsignal-protocol-typescript';
import type { ProtocolStore } from '../storage/protocol-store.js';
import { bytesEqual, toArrayBuffer, toBytes } from './bytes.js';

/**
 * The library addresses identities sometimes as `userId` and sometimes as `userId.deviceId`;
 * identity keys are per account here (all devices share one), so strip the device part.
 * @param identifier library identifier
 * @returns the user id
 */
export function userIdOf(identifier: string): string {
  const dot = identifier.lastIndexOf('.');
  return dot > 0 && /^\d+$/.test(identifier.slice(dot + 1)) ? identifier.slice(0, dot) : identifier;
}

/**
 * Thin adapter from the library's `StorageType` to our `ProtocolStore`.
 *
 * Trust policy (Signal's): a contact's first identity key is trusted on first use, but only
 * persisted after a message under it authenticated (so a forged first message cannot pin a
 * key). A different key is never trusted until the user accepts it.
 */
export class SignalStoreAdapter implements StorageType {
  /** Identity keys offered by incoming first messages (seen by the trust check). */
  readonly offeredIdentities = new Map<string, Uint8Array>();
  /** Identity writes held back until the message that caused them authenticated. */
  private readonly pendingIdentities = new Map<string, Uint8Array>();

  /**
   * @param store persistent state
   * @param options `trustAll` only for the dry-run copy that proves a changed key is authentic;
   *   `deferIdentityWrites` for decryption: the library saves the sender's identity key in
   *   `processV3` before the MAC is checked, which would let a forged first message pin a key;
   *   `localUserId`: my own devices are trusted only under my own identity key, and no identity
   *   record is ever written for myself
   */
  constructor(
    private readonly store: ProtocolStore,
    private readonly options: { trustAll?: boolean; deferIdentityWrites?: boolean; localUserId?: string } = {},
  ) {}

  /** Writes the identity keys held back during a decryption that succeeded. */
  async commitIdentities(): Promise<void> {
    for (const [userId, key] of this.pendingIdentities) await this.writeIdentity(userId, key);
    this.pendingIdentities.clear();
  }

  /** @inheritdoc */
  async getIdentityKeyPair(): Promise<KeyPairType | undefined> {
    const local = await this.store.getLocalIdentity();
    if (!local) return undefined;
    return {
      pubKey: toArrayBuffer(local.identityKeyPair.pubKey),
      privKey: toArrayBuffer(local.identityKeyPair.privKey),
    };
  }

  /** @inheritdoc */
  async getLocalRegistrationId(): Promise<number | undefined> {
    return (await this.store.getLocalIdentity())?.registrationId;
  }

  /** @inheritdoc */
  async isTrustedIdentity(identifier: string, identityKey: ArrayBuffer, direction: Direction): Promise<boolean> {
    const userId = userIdOf(identifier);
    if (direction === Direction.RECEIVING) this.offeredIdentities.set(userId, toBytes(identityKey));
    if (this.options.trustAll) return true;
    if (userId === this.options.localUserId) {
      // My own devices share my identity key; any other key is a device I never linked.
      const local = await this.store.getLocalIdentity();
      return local !== undefined && bytesEqual(local.identityKeyPair.pubKey, identityKey);
    }
    if (this.options.localUserId !== undefined) {
      // My key is my account's alone: another user offering it is my device relabelled.
      const local = await this.store.getLocalIdentity();
      if (local && bytesEqual(local.identityKeyPair.pubKey, identityKey)) return false;
    }
    const known = await this.store.getIdentity(userId);
    if (!known) return true;
    return bytesEqual(known.publicKey, identityKey) && known.status !== 'untrusted';
  }

  /** @inheritdoc */
  async saveIdentity(encodedAddress: string, publicKey: ArrayBuffer): Promise<boolean> {
    const userId = userIdOf(encodedAddress);
    if (userId === this.options.localUserId) return false;
    if (this.options.deferIdentityWrites) {
      this.pendingIdentities.set(userId, toBytes(publicKey));
      return false;
    }
    return this.writeIdentity(userId, toBytes(publicKey));
  }

  private async writeIdentity(userId: string, publicKey: Uint8Array): Promise<boolean> {
    const known = await this.store.getIdentity(userId);
    if (known && bytesEqual(known.publicKey, publicKey)) return false;
    if (known) {
      // Only reachable after a trust check passed, so a different key here means a change
      // the user has not accepted yet: record it as untrusted rather than silently replacing.
      await this.store.putIdentity({
        userId,
        publicKey,
        previousKey: known.publicKey,
        status: 'untrusted',
        updatedAt: Date.now(),
      });
      return true;
    }
    await this.store.putIdentity({ userId, publicKey, status: 'trusted', updatedAt: Date.now() });
    return false;
  }

  /** @inheritdoc */
  async loadPreKey(keyId: string | number): Promise<KeyPairType | undefined> {
    const r = await this.store.getPreKey(Number(keyId));
    return r ? { pubKey: toArrayBuffer(r.keyPair.pubKey), privKey: toArrayBuffer(r.keyPair.privKey) } : undefined;
  }

  /** @inheritdoc */
  async storePreKey(keyId: string | number, keyPair: KeyPairType): Promise<void> {
    await this.store.putPreKeys([
      { keyId: Number(keyId), keyPair: { pubKey: toBytes(keyPair.pubKey), privKey: toBytes(keyPair.privKey) } },
    ]);
  }

  /** @inheritdoc */
  async removePreKey(keyId: string | number): Promise<void> {
    await this.store.removePreKey(Number(keyId));
  }

  /** @inheritdoc */
  async storeSession(encodedAddress: string, record: string): Promise<void> {
    await this.store.putSession(encodedAddress, record);
  }

  /** @inheritdoc */
  async loadSession(encodedAddress: string): Promise<string | undefined> {
    return this.store.getSession(encodedAddress);
  }

  /** @inheritdoc */
  async loadSignedPreKey(keyId: string | number): Promise<KeyPairType | undefined> {
    const r = await this.store.getSignedPreKey(Number(keyId));
    return r ? { pubKey: toArrayBuffer(r.keyPair.pubKey), privKey: toArrayBuffer(r.keyPair.privKey) } : undefined;
  }

  /** @inheritdoc */
  async storeSignedPreKey(): Promise<void> {
    // Signed prekeys are written through ProtocolStore.putSignedPreKey with their signature.
    throw new Error('storeSignedPreKey is not used; use ProtocolStore.putSignedPreKey');
  }

  /** @inheritdoc */
  async removeSignedPreKey(keyId: string | number): Promise<void> {
    await this.store.removeSignedPreKey(Number(keyId));
  }
}
