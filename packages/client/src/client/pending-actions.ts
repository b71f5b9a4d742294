import { z } from 'zod';
import { PlaintextMessage } from '../messages/message.schema.js';
import type { ProtocolStore } from '../storage/protocol-store.js';
import { targetsOf } from './message-action-rules.js';

/** Store meta key: reactions, edits and deletes whose target has not arrived yet. */
export const META_PENDING_ACTIONS = 'pendingMessageActions';

/** Limits of the pending list (docs/client.md "Reactions, edits and deletes"). */
export const PENDING_LIMITS = {
  /** Most entries in all. */
  total: 500,
  /** Most entries from one sender. */
  perSender: 50,
  /** Most entries about one conversation. */
  perConversation: 200,
  /** Most bytes (JSON) in all. */
  bytes: 1_000_000,
  /** Longest an entry waits for its target (ms after it was received). */
  maxAgeMs: 24 * 60 * 60 * 1000,
} as const;

/** A control message waiting for its target (what rests in the store is parsed again). */
export const PendingAction = z.object({
  fromUserId: z.string(),
  /** The envelope's server timestamp (the edit window is checked against it). */
  serverTimestamp: z.string().optional(),
  plain: PlaintextMessage,
  /** When this device received it (epoch ms; missing in entries stored before the limits). */
  receivedAt: z.number().optional(),
});
/** A control message waiting for its target. */
export type PendingAction = z.infer<typeof PendingAction>;

/** Deletes first, then edits, then reactions. */
function rank(p: PendingAction): number {
  return p.plain.kind === 'delete' ? 0 : p.plain.kind === 'edit' ? 1 : 2;
}

/**
 * Applies the {@link PENDING_LIMITS}: drops entries older than 24 h, then keeps, deletes ahead of
 * edits ahead of reactions and newest first within each, what fits the per-sender,
 * per-conversation, total and byte caps. So a flood of one contact's reactions to messages that
 * never come cannot push out someone else's pending delete.
 * @param list the entries, oldest first
 * @param now this device's clock
 * @returns the entries kept, in their order
 */
export function prunePending(list: readonly PendingAction[], now: number): PendingAction[] {
  const fresh = list
    .map((p) => ({ ...p, receivedAt: p.receivedAt ?? now }))
    .filter((p) => now - p.receivedAt <= PENDING_LIMITS.maxAgeMs);
  const order = fresh.map((p, i) => ({ p, i })).sort((a, b) => rank(a.p) - rank(b.p) || b.i - a.i);
  const bySender = new Map<string, number>();
  const byConversation = new Map<string, number>();
  const keep = new Set<number>();
  let bytes = 0;
  for (const { p, i } of order) {
    const sender = bySender.get(p.fromUserId) ?? 0;
    const conversation = byConversation.get(p.plain.conversationId) ?? 0;
    const size = JSON.stringify(p).length;
    if (
      keep.size >= PENDING_LIMITS.total ||
      sender >= PENDING_LIMITS.perSender ||
      conversation >= PENDING_LIMITS.perConversation ||
      bytes + size > PENDING_LIMITS.bytes
    )
      continue;
    keep.add(i);
    bytes += size;
    bySender.set(p.fromUserId, sender + 1);
    byConversation.set(p.plain.conversationId, conversation + 1);
  }
  return fresh.filter((_, i) => keep.has(i));
}

/**
 * Reads the pending list.
 * @param store the local store
 * @returns the entries, oldest first ([] when none or unreadable)
 */
export async function readPending(store: ProtocolStore): Promise<PendingAction[]> {
  const parsed = z
    .array(PendingAction)
    .safeParse((await store.getMeta(META_PENDING_ACTIONS)) ?? []);
  return parsed.success ? parsed.data : [];
}

/**
 * Drops pending entries about messages that will not come any more here (deleted for me,
 * expired). A delete naming several messages stays while another of them is still awaited.
 * @param store the local store
 * @param ids the messages gone
 */
export async function dropPendingFor(store: ProtocolStore, ids: readonly string[]): Promise<void> {
  const gone = new Set(ids);
  const pending = await readPending(store);
  const left = pending.filter((p) => !targetsOf(p.plain).every((t) => gone.has(t)));
  if (left.length !== pending.length) await store.setMeta(META_PENDING_ACTIONS, left);
}
