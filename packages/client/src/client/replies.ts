import type { StoredMessage } from '../messages/message.schema.js';

/** A quote as it travels (see `ReplyRef` in message.schema.ts). */
export type Quote = NonNullable<StoredMessage['replyTo']>;
import type { ProtocolStore } from '../storage/protocol-store.js';

/** Longest excerpt a quote carries (characters). */
export const EXCERPT_MAX = 200;
/** Most people one message may mention. */
export const MENTIONS_MAX = 100;

/**
 * The excerpt of a quoted message: the start of its text, else its file name, at most
 * {@link EXCERPT_MAX} characters (whole code points, so no half emoji).
 * @param m the quoted message
 * @returns the excerpt ('' when it has neither text nor file name)
 */
export function excerptOf(m: Pick<StoredMessage, 'text' | 'attachment' | 'deletedAt'>): string {
  if (m.deletedAt !== undefined) return '';
  const source = m.text?.trim() || m.attachment?.fileName || '';
  const chars = Array.from(source.replace(/\s+/g, ' '));
  return chars.length <= EXCERPT_MAX
    ? chars.join('')
    : `${chars.slice(0, EXCERPT_MAX - 1).join('')}…`;
}

/**
 * Builds the quote of a reply from the original in my local history.
 * @param store the local store
 * @param conversationId the reply's conversation
 * @param messageId the original's client id
 * @returns the quote
 * @throws {Error} when the original is not a text or attachment of this conversation on this device
 */
export async function replyRefFor(
  store: ProtocolStore,
  conversationId: string,
  messageId: string,
): Promise<Quote> {
  const original = await store.getMessage(messageId);
  if (
    !original ||
    original.conversationId !== conversationId ||
    (original.kind !== 'text' && original.kind !== 'attachment')
  ) {
    throw new Error(
      `message ${messageId} is not a text or attachment of this conversation on this device`,
    );
  }
  return { id: original.id, authorUserId: original.senderUserId, excerpt: excerptOf(original) };
}

/**
 * Cleans a mention list: unique, at most {@link MENTIONS_MAX}, and (when the members are known)
 * only members of the conversation.
 * @param mentions user ids as the caller gave them
 * @param members the conversation's members, when known
 * @returns the list to send, or undefined when empty
 */
export function cleanMentions(
  mentions: readonly string[] | undefined,
  members?: readonly string[],
): string[] | undefined {
  if (!mentions) return undefined;
  const list = [...new Set(mentions)]
    .filter((u) => !members || members.includes(u))
    .slice(0, MENTIONS_MAX);
  return list.length > 0 ? list : undefined;
}

/**
 * Whether a message mentions a user.
 * @param m the message
 * @param userId who
 * @returns true when `userId` is in its mentions
 */
export function mentionsUser(m: Pick<StoredMessage, 'mentions'>, userId: string): boolean {
  return m.mentions?.includes(userId) ?? false;
}

/**
 * The quote of a received reply as this device shows it. When I have a message with the quoted
 * id, its real author; its excerpt only when it is a text or attachment of the same conversation
 * ('' otherwise, and '' when it was deleted): a sender cannot put words in someone else's mouth
 * for a reader who has the original. A quote of a message I do not have (not received yet,
 * deleted for me, expired) cannot be checked and is kept as sent.
 * @param store the local store
 * @param conversationId the reply's conversation
 * @param quote the quote as sent
 * @returns the quote to store
 */
export async function checkedQuote(
  store: ProtocolStore,
  conversationId: string,
  quote: Quote,
): Promise<Quote> {
  const original = await store.getMessage(quote.id);
  if (!original) return quote;
  const quotable =
    original.conversationId === conversationId &&
    (original.kind === 'text' || original.kind === 'attachment');
  return {
    id: original.id,
    authorUserId: original.senderUserId,
    excerpt: quotable ? excerptOf(original) : '',
  };
}

/**
 * Clears the excerpt of stored replies that quote messages gone for everyone (deleted by their
 * author, or expired): the quote keeps its id and author, the words go (`excerpt` ''), and a UI
 * shows "Original message deleted".
 * @param store the local store
 * @param conversationId the conversation of the gone messages
 * @param goneIds their client ids
 * @returns the replies changed (to announce with `messageChanged`)
 */
export async function clearQuotesOf(
  store: ProtocolStore,
  conversationId: string,
  goneIds: readonly string[],
): Promise<StoredMessage[]> {
  if (goneIds.length === 0) return [];
  const gone = new Set(goneIds);
  const changed: StoredMessage[] = [];
  for (const m of await store.listMessages(conversationId)) {
    if (!m.replyTo || !gone.has(m.replyTo.id) || m.replyTo.excerpt === '') continue;
    const cleared = { ...m, replyTo: { ...m.replyTo, excerpt: '' } };
    await store.putMessage(cleared);
    changed.push(cleared);
  }
  return changed;
}
