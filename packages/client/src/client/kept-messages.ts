import type { StoredMessage } from '../messages/message.schema.js';
import { readPlaintextJson, type DecodedPlaintext } from '../messages/plaintext-codec.js';
import type { ProtocolStore } from '../storage/protocol-store.js';
import type { IncomingEnvelope } from '../transport/socket-client.js';

/**
 * Store meta key: ids of messages kept with their `raw` plaintext (kind `unsupported`, or texts
 * with `unknownFields`), so a newer version re-reads just these at login instead of all history.
 */
export const META_KEPT = 'keptRawIds';

/**
 * @param store the local store
 * @returns the ids of kept messages
 */
export async function keptIds(store: ProtocolStore): Promise<string[]> {
  const ids = await store.getMeta(META_KEPT);
  return Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * Adds a message to the kept index (once).
 * @param store the local store
 * @param id the message's client id
 */
export async function addKept(store: ProtocolStore, id: string): Promise<void> {
  const ids = await keptIds(store);
  if (!ids.includes(id)) await store.setMeta(META_KEPT, [...ids, id]);
}

/**
 * What re-reading one kept message did: `same` (still not understood any better: it stays kept),
 * `partial` (handled again; some fields still unknown, so it stays kept), `done` (handled again
 * in full: it leaves the index).
 */
export type RereadOutcome = 'same' | 'partial' | 'done';

/**
 * A stand-in for the envelope a kept message arrived in (its sender and the server's id and
 * timestamp were stored with it), so it can be handled again as if just received.
 * @param m the kept message
 * @returns the envelope (no ciphertext: it is handled from the kept plaintext)
 */
export function envelopeOf(m: StoredMessage): IncomingEnvelope {
  return {
    messageId: m.serverMessageId ?? m.id,
    conversationId: m.conversationId,
    senderUserId: m.senderUserId,
    senderDeviceId: m.senderDeviceId,
    type: 1,
    body: '',
    serverTimestamp: m.serverTimestamp ?? new Date(m.sentAt).toISOString(),
  };
}

/**
 * What a kept message gathered on this device that its raw plaintext does not hold: its delivery
 * or read state, reactions, edits (the latest text with them) and disappearing deadline. A
 * re-read keeps these over what the plaintext says.
 * @param m the kept message
 * @returns the fields to keep
 */
export function localStateOf(m: StoredMessage): Partial<StoredMessage> {
  return {
    status: m.status,
    ...(m.reactions ? { reactions: m.reactions } : {}),
    ...(m.editedAt !== undefined
      ? { editedAt: m.editedAt, ...(m.text !== undefined ? { text: m.text } : {}) }
      : {}),
    ...(m.edits ? { edits: m.edits } : {}),
    ...(m.expiresAt !== undefined ? { expiresAt: m.expiresAt } : {}),
    ...(m.readBy ? { readBy: m.readBy } : {}),
    ...(m.deliveredTo ? { deliveredTo: m.deliveredTo } : {}),
  };
}

/**
 * Whether this version reads a kept message better than the one that kept it: a kind it now
 * knows, or fewer unknown fields.
 * @param m the kept message
 * @param decoded its raw plaintext as this version reads it
 * @returns true when it should be handled again
 */
export function readsBetter(
  m: StoredMessage,
  decoded: DecodedPlaintext,
): decoded is Extract<DecodedPlaintext, { type: 'known' }> {
  if (decoded.type === 'unknown') return false;
  if (m.kind === 'unsupported') return true;
  return decoded.unknownFields.length < (m.unknownFields?.length ?? 0);
}

/**
 * The upgrade path: reads every kept message again (by the index, not by scanning history) and
 * hands those this version now understands better to `handle`, which replaces the kept one. The
 * index keeps only what is still not fully understood (and drops ids gone from history).
 * @param store the local store
 * @param handle handles one message again as if just received
 * @returns how many kept messages were handled again
 */
export async function rereadKept(
  store: ProtocolStore,
  handle: (
    kept: StoredMessage,
    decoded: Extract<DecodedPlaintext, { type: 'known' }>,
  ) => Promise<void>,
): Promise<number> {
  const ids = await keptIds(store);
  if (ids.length === 0) return 0;
  const still: string[] = [];
  let handled = 0;
  for (const id of ids) {
    const m = await store.getMessage(id);
    // Gone, or deleted for everyone meanwhile (a tombstone is not brought back): out of the index.
    if (!m?.raw || m.deletedAt !== undefined) continue;
    let decoded: DecodedPlaintext;
    try {
      decoded = readPlaintextJson(m.raw);
    } catch {
      // This version finds a field it knows broken: keep it as it is.
      still.push(id);
      continue;
    }
    if (!readsBetter(m, decoded)) {
      still.push(id);
      continue;
    }
    await handle(m, decoded);
    handled += 1;
    if (decoded.unknownFields.length > 0) still.push(id);
  }
  await store.setMeta(META_KEPT, still.length > 0 ? still : undefined);
  return handled;
}
