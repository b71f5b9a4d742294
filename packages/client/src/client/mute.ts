import type { ProtocolStore } from '../storage/protocol-store.js';

/** Store meta key: the conversations muted on this device (never sent anywhere). */
export const META_MUTED = 'mutedConversations';

/**
 * @param store the local store
 * @returns the ids of the conversations muted on this device
 */
export async function mutedConversations(store: ProtocolStore): Promise<string[]> {
  const ids = await store.getMeta(META_MUTED);
  return Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * Mutes or unmutes a conversation on this device: a muted one counts as unread only the messages
 * that mention me (the app decides what to show; nothing changes for the other members).
 * @param store the local store
 * @param conversationId the conversation
 * @param on mute (true) or unmute (false)
 * @returns the muted conversations afterwards
 */
export async function setMuted(
  store: ProtocolStore,
  conversationId: string,
  on: boolean,
): Promise<string[]> {
  const now = (await mutedConversations(store)).filter((id) => id !== conversationId);
  const next = on ? [...now, conversationId] : now;
  await store.setMeta(META_MUTED, next.length > 0 ? next : undefined);
  return next;
}
