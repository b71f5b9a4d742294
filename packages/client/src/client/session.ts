import type { Me } from '@cipherchat/contracts';
import type { WrappedKeys } from '../backup/key-backup.js';
import { ProtocolError } from '../protocol/errors.js';
import type { SignalProtocol } from '../protocol/signal-protocol.js';
import type { ProtocolStore } from '../storage/protocol-store.js';
import type { BackupSync } from './backup-sync.js';

/** What a logged-in account holds on this device. */
export interface Session {
  user: Me;
  /** OPAQUE export key of the last password entry on this device ('' if unknown). */
  exportKey: string;
  store: ProtocolStore;
  protocol: SignalProtocol;
  backup: BackupSync;
  /** Key that seals the key backup. */
  dataKey: CryptoKey;
  /** The backup data key wrapped under the password and the recovery key. */
  wrappedKeys: WrappedKeys;
  /**
   * Opened from the local store while the server could not be reached (docs/client.md
   * "Offline"): nothing leaves the device until `resume` completes it with the server.
   */
  offline?: true;
}

/**
 * The one slot for the current session, shared by the client's parts: account code fills and
 * empties it, the others read it. Only the session's lifetime lives here, no behaviour.
 */
export class SessionSlot {
  /** The session, or undefined when logged out. */
  current: Session | undefined;

  /**
   * @returns the session
   * @throws {ProtocolError} `no_local_identity` when logged out
   */
  require(): Session {
    if (!this.current) throw new ProtocolError('no_local_identity', 'not logged in');
    return this.current;
  }
}
