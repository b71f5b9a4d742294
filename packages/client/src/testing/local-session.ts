import type { StoredMessage } from '../messages/message.schema.js';
import { randomId } from '../protocol/bytes.js';
import { createMemoryStore } from '../storage/kv-protocol-store.js';
import type { ProtocolStore } from '../storage/protocol-store.js';
import { SessionSlot, type Session } from '../client/session.js';

/**
 * A logged-in session over a memory store, for unit tests of the client's parts: the user id,
 * the store, and a backup whose uploads are scheduled nowhere.
 * @param userId the logged-in user
 * @returns the store and the session slot holding it
 */
export function localSession(userId: string): { store: ProtocolStore; session: SessionSlot } {
  const store = createMemoryStore();
  const session = new SessionSlot();
  session.current = {
    user: { id: userId },
    store,
    backup: { schedule: () => undefined },
  } as unknown as Session;
  return { store, session };
}

/**
 * A received text message of a minute ago, for unit tests.
 * @param over fields to set (conversation, sender, text...)
 * @returns the message
 */
export function storedText(
  over: Partial<StoredMessage> & Pick<StoredMessage, 'conversationId' | 'senderUserId'>,
): StoredMessage {
  return {
    id: randomId(),
    senderDeviceId: 1,
    direction: 'in',
    kind: 'text',
    text: 'hello',
    sentAt: Date.now() - 60_000,
    status: 'received',
    ...over,
  };
}
