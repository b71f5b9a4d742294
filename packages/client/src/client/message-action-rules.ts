import type { PlaintextMessage, StoredMessage } from '../messages/message.schema.js';
import { MAX_CLOCK_SKEW_MS, serverTimeOf } from './message-time.js';

/** The reactions a UI offers first (any other emoji is allowed too, see {@link isValidReaction}). */
export const DEFAULT_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'] as const;

/** How long after its `sentAt` its author may edit or delete a message for everyone: 24 hours. */
export const EDIT_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Longest reaction, in UTF-16 code units (the wire schema's limit). */
export const MAX_REACTION_LENGTH = 32;

/** Why an action on a message was refused (`MessageActionError.code`). */
export type MessageActionCode =
  | 'not_found'
  | 'not_author'
  | 'too_late'
  | 'deleted'
  | 'not_sent'
  | 'not_editable'
  | 'invalid_reaction'
  | 'invalid_text';

/** A reaction, edit or delete this device refuses to make (nothing changed, nothing was sent). */
export class MessageActionError extends Error {
  /**
   * @param code why (stable)
   * @param message detail for people
   */
  constructor(
    readonly code: MessageActionCode,
    message: string,
  ) {
    super(message);
    this.name = 'MessageActionError';
  }
}

/**
 * Whether a string may be used as a reaction: non-empty, at most 32 UTF-16 units, no line breaks
 * or control characters, and not plain text (it must contain something other than ASCII
 * letters, digits, spaces and punctuation). Kept simple on purpose: any emoji, flag or emoji
 * sequence passes; "ok" or "+1" do not. Receivers show whatever the schema lets through.
 * @param emoji the candidate
 * @returns true when it is acceptable
 */
export function isValidReaction(emoji: string): boolean {
  if (emoji.length === 0 || emoji.length > MAX_REACTION_LENGTH) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(emoji)) return false;
  return /[^\u0020-\u007e]/.test(emoji);
}

/**
 * Whether `at` (epoch ms) is within the edit window of a message sent at `sentAt`.
 * @param sentAt the original's `sentAt` (its author's clock)
 * @param at the moment of the edit or delete (same author's clock)
 * @returns true when allowed
 */
export function withinEditWindow(sentAt: number, at: number): boolean {
  return at >= sentAt && at - sentAt <= EDIT_WINDOW_MS;
}

/**
 * Whether an edit or delete reached the server within the edit window of its target, by the
 * server's timestamps (not the author's clock): at most 24 h + 5 min after the target's. True
 * when either timestamp is unknown (my own actions, messages sent from this device).
 * @param targetServerTimestamp the target's `serverTimestamp`
 * @param actionServerTimestamp the action envelope's `serverTimestamp`
 * @returns false when the server got the action too late
 */
export function withinServerEditWindow(
  targetServerTimestamp: string | undefined,
  actionServerTimestamp: string | undefined,
): boolean {
  const target = serverTimeOf(targetServerTimestamp);
  const action = serverTimeOf(actionServerTimestamp);
  if (target === undefined || action === undefined) return true;
  return action - target <= EDIT_WINDOW_MS + MAX_CLOCK_SKEW_MS;
}

/**
 * The tombstone of a message deleted for everyone: text, attachment, quote, mentions, reactions,
 * edit history and any kept raw plaintext are gone; the id, author, time and delivery state stay.
 * @param m the message
 * @param at when it was deleted (the delete's `sentAt`)
 * @returns the tombstone
 */
export function tombstone(m: StoredMessage, at: number): StoredMessage {
  const {
    text: _text,
    attachment: _attachment,
    replyTo: _replyTo,
    mentions: _mentions,
    reactions: _reactions,
    edits: _edits,
    editedAt: _editedAt,
    raw: _raw,
    unknownFields: _unknownFields,
    ...rest
  } = m;
  return { ...rest, deletedAt: at };
}

/** Who sent a control message (from its envelope, which the Signal session authenticates). */
export interface ControlSender {
  userId: string;
  /** The control envelope's server timestamp (ISO 8601), when received (not for my own local actions). */
  serverTimestamp?: string | undefined;
}

/**
 * Applies a received (or my own) reaction, edit or delete to its target, by the receive rules:
 * the target must be in the same conversation and not deleted; a reaction is one per person
 * (the newest by its `sentAt` wins; null removes); only the target's author may edit or delete
 * it, with a `sentAt` within 24 h after the target's and (when both are known) a server
 * timestamp at most 24 h + 5 min after the target's ({@link withinServerEditWindow}); reactions and edits only on text or
 * attachment messages (a kept message of an unknown kind may still be deleted); an edit no newer than the last one applied changes nothing (idempotent).
 * @param target the stored message it points at
 * @param from who sent the control message
 * @param plain the control plaintext (kind `reaction`, `edit` or `delete`)
 * @returns the changed message, or undefined when it is refused or changes nothing
 */
export function applyAction(
  target: StoredMessage,
  from: ControlSender,
  plain: PlaintextMessage,
): StoredMessage | undefined {
  if (target.conversationId !== plain.conversationId || target.deletedAt !== undefined)
    return undefined;
  if (target.kind === 'event' || (target.kind === 'unsupported' && plain.kind !== 'delete'))
    return undefined;
  switch (plain.kind) {
    case 'reaction': {
      if (!plain.reaction) return undefined;
      const reactions = { ...(target.reactions ?? {}) };
      const current = reactions[from.userId];
      if (current && current.at > plain.sentAt) return undefined;
      if (plain.reaction.emoji === null) {
        if (!current) return undefined;
        delete reactions[from.userId];
      } else {
        if (current && current.at === plain.sentAt && current.emoji === plain.reaction.emoji)
          return undefined;
        reactions[from.userId] = { emoji: plain.reaction.emoji, at: plain.sentAt };
      }
      const { reactions: _old, ...rest } = target;
      return Object.keys(reactions).length > 0 ? { ...rest, reactions } : rest;
    }
    case 'edit': {
      if (
        !plain.edit ||
        from.userId !== target.senderUserId ||
        !withinEditWindow(target.sentAt, plain.sentAt) ||
        !withinServerEditWindow(target.serverTimestamp, from.serverTimestamp)
      )
        return undefined;
      if (target.editedAt !== undefined && plain.sentAt <= target.editedAt) return undefined;
      const previous = { text: target.text ?? '', at: target.editedAt ?? target.sentAt };
      return {
        ...target,
        text: plain.edit.text,
        editedAt: plain.sentAt,
        edits: [...(target.edits ?? []), previous],
      };
    }
    case 'delete': {
      if (
        from.userId !== target.senderUserId ||
        !withinEditWindow(target.sentAt, plain.sentAt) ||
        !withinServerEditWindow(target.serverTimestamp, from.serverTimestamp)
      )
        return undefined;
      return tombstone(target, plain.sentAt);
    }
    default:
      return undefined;
  }
}

/**
 * The message ids a control plaintext points at.
 * @param plain a `reaction`, `edit` or `delete` plaintext
 * @returns its targets
 */
export function targetsOf(plain: PlaintextMessage): string[] {
  if (plain.kind === 'reaction' && plain.reaction) return [plain.reaction.messageId];
  if (plain.kind === 'edit' && plain.edit) return [plain.edit.messageId];
  if (plain.kind === 'delete' && plain.delete) return plain.delete.messageIds;
  return [];
}
