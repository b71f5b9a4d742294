import { z } from 'zod';

/**
 * Message requests, blocking, privacy settings and reports (chat-service, issue 15).
 *
 * A direct conversation, or a group, that someone I have never talked to puts me in reaches me
 * as a *request* (`Conversation.myState = 'request'`). Until I accept it, that person gets no
 * presence or last seen of mine, and my clients send them no typing or read receipts and fetch
 * none of their attachments by themselves. Accepting makes it a normal conversation; declining
 * removes it from my list (the sender is not told); blocking also stops the person's messages at
 * the server, quietly, and hides each of us from the other's presence.
 */

/** My standing in a conversation. */
export const MembershipState = z.enum(['accepted', 'request']);
export type MembershipState = z.infer<typeof MembershipState>;

/** GET /api/chat/blocks answer: the people I blocked, most recent first. */
export const BlockList = z.object({ userIds: z.array(z.uuid()) });
export type BlockList = z.infer<typeof BlockList>;

/** Why someone is reported. */
export const ReportReason = z.enum(['spam', 'abuse', 'other']);
/** POST /api/chat/reports (202): tells the operators; the reported person is not told. */
export const ReportBody = z.strictObject({
  userId: z.uuid(),
  conversationId: z.uuid().optional(),
  reason: ReportReason,
  /** Free text for the operators, at most 500 characters. */
  note: z.string().trim().max(500).optional(),
  /** Also block the person (the same as PUT /blocks/:userId). */
  block: z.boolean().optional(),
});
export type ReportBody = z.infer<typeof ReportBody>;

/**
 * GET / PUT /api/chat/privacy: what I share. `lastSeen` is enforced by the server (presence
 * carries `lastSeenAt: null` for me when off); `readReceipts` and `typing` are enforced by my
 * own clients, which read the setting here so every device of mine agrees.
 */
export const PrivacySettings = z.strictObject({
  readReceipts: z.boolean(),
  typing: z.boolean(),
  lastSeen: z.boolean(),
});
export type PrivacySettings = z.infer<typeof PrivacySettings>;
/** The settings of an account that never changed them. */
export const DEFAULT_PRIVACY: PrivacySettings = {
  readReceipts: true,
  typing: true,
  lastSeen: true,
};
