import type { SafetyNumber } from '../protocol/fingerprint.js';
import type { IdentityChange } from '../protocol/signal-protocol.js';
import type { EmitFn } from './client-types.js';
import type { ContactSessions } from './contact-sessions.js';
import type { MessageReceiver } from './message-receiver.js';
import type { SessionSlot } from './session.js';

/** What {@link Identities} needs. */
export interface IdentitiesDeps {
  session: SessionSlot;
  contacts: ContactSessions;
  receiver: MessageReceiver;
  emit: EmitFn;
}

/** Contacts' identity keys: trust on first use, changes, verification and safety numbers. */
export class Identities {
  /** @param deps collaborators */
  constructor(private readonly deps: IdentitiesDeps) {}

  /**
   * The protocol layer saw a contact's identity key change (wired as its `onIdentityChange`).
   * @param change who changed
   */
  onIdentityChange(change: IdentityChange): void {
    this.deps.session.current?.backup.schedule();
    this.deps.emit('identityChanged', { userId: change.userId });
  }

  /**
   * The safety number with a contact, from the keys I hold. Fetches the contact's identity key
   * first if I have never talked to them.
   * @param userId contact
   * @returns safety number
   */
  async safetyNumber(userId: string): Promise<SafetyNumber> {
    const s = this.deps.session.require();
    if (!(await s.store.getIdentity(userId))) await this.deps.contacts.fetchBundles(userId);
    return s.protocol.safetyNumber(s.user.id, userId);
  }

  /**
   * @param userId contact
   * @returns trust state of the contact's identity key
   */
  async status(userId: string): Promise<'trusted' | 'verified' | 'untrusted' | 'unknown'> {
    return (await this.deps.session.require().store.getIdentity(userId))?.status ?? 'unknown';
  }

  /**
   * Accepts a contact's changed identity key: unblocks sending and processes messages that were
   * held back because of the change.
   * @param userId contact
   */
  async accept(userId: string): Promise<void> {
    const s = this.deps.session.require();
    await s.protocol.acceptIdentity(userId);
    s.backup.schedule();
    await this.deps.receiver.releaseHeld(userId);
  }

  /**
   * Marks a contact's key verified after comparing safety numbers.
   * @param userId contact
   */
  async markVerified(userId: string): Promise<void> {
    const s = this.deps.session.require();
    await s.protocol.markVerified(userId);
    s.backup.schedule();
  }
}
