import type { MembershipState, PrivacySettings, ReportBody } from '@cipherchat/contracts';
import type { Db } from './ports.js';

// The port of message requests, blocks, privacy and reports (issue 15), apart from ports.ts.

/**
 * A member's standing as stored: the contract's {@link MembershipState}, or `declined` (the
 * conversation is hidden from them and nothing sent in it is stored for them; never answered).
 */
export type StoredMembershipState = MembershipState | 'declined';

/** Requests, blocks, privacy and reports (store/safety.repository.ts). */
export interface SafetyStore {
  /** Marks as `request` those just added by `actor` who do not know them; returns them. */
  markRequests(tx: Db, id: string, actor: string, userIds: string[]): Promise<string[]>;
  /** Sets a member's state; returns the state before (null: not a member). */
  setState(
    db: Db,
    id: string,
    userId: string,
    state: StoredMembershipState,
  ): Promise<StoredMembershipState | null>;
  /** A member's state (null: not a member). */
  stateOf(db: Db, id: string, userId: string): Promise<StoredMembershipState | null>;
  /** Who shares presence with the user (both accepted in a conversation, no block), optionally among some. */
  presenceContacts(db: Db, userId: string, among?: string[]): Promise<string[]>;
  /** Those of the users who turned last seen off. */
  hidingLastSeen(db: Db, userIds: string[]): Promise<string[]>;
  /** @returns true when new */
  addBlock(db: Db, blocker: string, blocked: string): Promise<boolean>;
  /** @returns true when there was one */
  removeBlock(db: Db, blocker: string, blocked: string): Promise<boolean>;
  listBlocks(db: Db, blocker: string): Promise<string[]>;
  getPrivacy(db: Db, userId: string): Promise<PrivacySettings | null>;
  putPrivacy(db: Db, userId: string, s: PrivacySettings): Promise<void>;
  /** Whether two users share a conversation (any state), or that one. */
  shareConversation(db: Db, a: string, b: string, conversationId?: string): Promise<boolean>;
  insertReport(db: Db, id: string, reporter: string, r: ReportBody): Promise<void>;
  /** Deletes envelopes still waiting for the user from a conversation or a sender; returns how many. */
  dropWaiting(
    db: Db,
    recipient: string,
    from: { conversationId: string } | { senderUserId: string },
  ): Promise<number>;
}
