import { randomUUID } from 'node:crypto';
import {
  eventSchemas,
  type MessageAckPayload,
  type MessageNew,
  type MessageSendPayload,
  type MessageSendResult,
} from '@cipherchat/contracts';
import { AppError, ConflictError, ValidationError } from '@cipherchat/service-kit';
import type { ChatContext } from '../context.js';
import { diffDeviceSet, duplicateAddresses } from '../domain/device-set.js';
import { loadSendContext, type SendContext } from '../store/mailbox.repository.js';
import type { LiveSockets, Presence } from './presence.js';

/**
 * How old a presence lookup may be, at the commit, for delivery to trust it to skip the Redis
 * adapter. A socket that connects elsewhere after the lookup gets a late mailbox pass
 * ({@link LATE_PASS_MS} after it registered), which reads every message stored before its
 * registration + this window + {@link CLOCK_SKEW_MS}.
 */
export const LOCAL_DELIVERY_WINDOW_MS = 1_000;
/**
 * How long a presence lookup is reused by later sends of this process (another process's
 * connects and disconnects reach the `message_queued` decision this much later).
 */
export const PRESENCE_REUSE_MS = 500;
/** How far apart the wall clocks of two chat-service processes may be (NTP keeps them far closer). */
export const CLOCK_SKEW_MS = 1_000;
/**
 * When a connected socket's mailbox is read once more (see {@link LOCAL_DELIVERY_WINDOW_MS}):
 * well after the rows it reads were stored, so that those delivered live are acked by then and
 * not sent twice.
 */
export const LATE_PASS_MS = 5_000;

/** Who is sending: taken from the verified handshake, never from the payload. */
export interface SenderIdentity {
  userId: string;
  deviceId: number;
}

/** What {@link sendMessage} needs besides the context. */
export interface SendDeps {
  ctx: ChatContext;
  presence: Presence;
  /**
   * Emits a stored message's envelopes, each to its device's room. `live` is what presence
   * said of the recipients' sockets shortly before the write, or null when that is unknown or
   * too old to rely on (see the gateway).
   */
  deliver: (envelopes: { userId: string; deviceId: number; message: MessageNew }[], live: LiveSockets | null) => void;
}

/**
 * Keeps one socket's sends to one conversation in order while letting them overlap: the
 * checks of several sends run concurrently, but each hands its message to the writer only
 * after the previous one did (or gave up).
 */
export interface SendTurn {
  /** Resolves when the previous send of the same socket and conversation reached the writer. */
  wait: Promise<void>;
  /** Signals the next send that this one reached the writer or failed. */
  done: () => void;
}

/**
 * `message:send`: one batched statement checks membership and the device set, dedupes and
 * stores; then live delivery. The ack is only sent after the commit, so an acked message
 * survives a crash. Only a send the statement refused or found duplicate costs a second
 * query, to answer precisely.
 * @param deps context, presence, delivery
 * @param sender verified sender
 * @param p validated payload
 * @param turn ordering with the socket's other sends to the same conversation
 * @returns message id and server time
 * @throws {AppError} `not_member`, `stale_devices`, `validation_error`, `conflict`
 */
export async function sendMessage(deps: SendDeps, sender: SenderIdentity, p: MessageSendPayload, turn?: SendTurn): Promise<MessageSendResult> {
  try {
    return await sendInTurn(deps, sender, p, turn);
  } finally {
    turn?.done();
  }
}

async function sendInTurn(deps: SendDeps, sender: SenderIdentity, p: MessageSendPayload, turn?: SendTurn): Promise<MessageSendResult> {
  const { ctx } = deps;
  const given = p.envelopes.map((e) => ({ userId: e.userId, deviceId: e.deviceId }));
  const dups = duplicateAddresses(given);
  if (dups.length > 0) throw new ValidationError('two envelopes for the same device', dups);
  const addressedUsers = [...new Set(p.envelopes.map((e) => e.userId))];
  const recipientUsers = addressedUsers.filter((u) => u !== sender.userId);
  // Presence decides who gets a "queued" notification, and lets delivery skip the Redis
  // adapter for devices connected here only. If Redis is down, store and deliver anyway and
  // treat everyone as offline (a later ack cancels the digest).
  const looked = await deps.presence.recentLiveSockets(addressedUsers, PRESENCE_REUSE_MS).catch((err: unknown) => {
    ctx.logger.warn({ err: (err as Error).message }, 'presence lookup failed; treating recipients as offline');
    return null;
  });
  const online = looked?.live ?? null;

  await turn?.wait;
  // Time taken after the turn: a socket's messages to a conversation get non-decreasing
  // server timestamps in the same order as their seq.
  const messageId = randomUUID();
  const serverTs = new Date();
  const queuedAt = serverTs.toISOString();
  const offline = recipientUsers.filter((u) => !online?.has(u));
  const queuedEvents = offline.map((recipientUserId) => ({
    id: randomUUID(),
    // validated like addToOutbox does: the bus never carries a malformed event (and never ciphertext)
    payload: JSON.stringify(
      eventSchemas['chat.message_queued.v1'].parse({
        messageId,
        recipientUserId,
        conversationId: p.conversationId,
        senderUserId: sender.userId,
        queuedAt,
      }),
    ),
  }));
  const writing = ctx.writer.write({
    messageId,
    conversationId: p.conversationId,
    senderUserId: sender.userId,
    senderDeviceId: sender.deviceId,
    clientMessageId: p.clientMessageId,
    serverTs,
    envelopes: p.envelopes.map((e) => ({ userId: e.userId, deviceId: e.deviceId, type: e.type, body: Buffer.from(e.body, 'base64') })),
    queuedEvents,
    queuedUsers: offline,
  });
  turn?.done(); // the writer keeps the order from here (same conversation, same FIFO lane)
  const outcome = await writing;
  if (outcome !== 'stored') {
    // Not stored: a duplicate (answer with the original), or refused (answer as the checks do
    // now: not_member, or stale_devices with the difference).
    const again = await loadSendContext(ctx.ds.manager, sender.userId, p.clientMessageId, p.conversationId);
    const answer = checkSend(again, sender, p.conversationId, given);
    if (answer) return answer;
    if (outcome === 'duplicate') throw new Error('dedupe row vanished');
    // changed back in between (say removed and re-added): still not stored, so the client resends
    throw new ConflictError('the conversation changed while sending: fetch the device list and send again', 'stale_devices', { missing: [], extra: [] });
  }
  if (queuedEvents.length > 0) ctx.kickOutbox();
  // Deliver to every addressed device's room, online or not: a device that is connecting
  // right now gets it live or from its connect-time drain (see the gateway's drain).
  const fresh = looked !== null && performance.now() - looked.lookedUpAt <= LOCAL_DELIVERY_WINDOW_MS;
  deps.deliver(
    p.envelopes.map((e) => ({
      userId: e.userId,
      deviceId: e.deviceId,
      message: {
        messageId,
        conversationId: p.conversationId,
        senderUserId: sender.userId,
        senderDeviceId: sender.deviceId,
        type: e.type,
        body: e.body,
        serverTimestamp: queuedAt,
      },
    })),
    fresh ? online : null,
  );
  return { messageId, serverTimestamp: queuedAt };
}

/**
 * The send's checks against a freshly read context: dedupe (returns the original result),
 * membership, and the device set (every keyed device of every other member and the sender's
 * other keyed devices). The write statement applies the same rules; this says which failed.
 * @returns the duplicate's result, or undefined when the send may be stored
 * @throws {AppError} `not_member`, `stale_devices`, `conflict`
 */
function checkSend(
  sc: SendContext,
  sender: SenderIdentity,
  conversationId: string,
  given: { userId: string; deviceId: number }[],
): MessageSendResult | undefined {
  if (sc.existing) return duplicateResult(sc.existing, conversationId);
  // Same answer for "no such conversation" and "not yours": existence is not revealed.
  if (!sc.isMember) throw new AppError(403, 'not_member', 'you are not a member of this conversation');
  const expected = sc.devices.filter((d) => !(d.userId === sender.userId && d.deviceId === sender.deviceId));
  const diff = diffDeviceSet(expected, given);
  if (diff.missing.length > 0 || diff.extra.length > 0) {
    throw new ConflictError('the device list is out of date: fetch bundles for missing devices, drop extra ones', 'stale_devices', diff);
  }
  return undefined;
}

function duplicateResult(existing: { messageId: string; conversationId: string; serverTs: Date }, conversationId: string): MessageSendResult {
  if (existing.conversationId !== conversationId) {
    throw new ConflictError('clientMessageId was already used for another conversation', 'conflict');
  }
  return { messageId: existing.messageId, serverTimestamp: existing.serverTs.toISOString(), duplicate: true };
}

/**
 * `message:ack`: deletes this device's copies only (user and device come from the handshake).
 * @param ctx context
 * @param device the acking device
 * @param p validated payload
 * @returns how many envelopes were deleted
 */
export async function ackEnvelopes(ctx: ChatContext, device: SenderIdentity, p: MessageAckPayload): Promise<{ deleted: number }> {
  const payload = JSON.stringify(eventSchemas['chat.mailbox_drained.v1'].parse({ userId: device.userId, at: new Date().toISOString() }));
  const out = await ctx.acks.call({ userId: device.userId, deviceId: device.deviceId, messageIds: [...new Set(p.messageIds)], drained: { id: randomUUID(), payload } });
  if (out.drainedRecorded) ctx.kickOutbox();
  return { deleted: out.deleted };
}
