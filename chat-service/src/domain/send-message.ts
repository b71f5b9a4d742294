import { randomUUID } from 'node:crypto';
import { eventSchemas, type MessageAckPayload, type MessageSendPayload, type MessageSendResult } from '@cipherchat/contracts';
import { AppError, ConflictError, ValidationError } from '@cipherchat/service-kit/errors';
import type { ChatDeps } from './deps.js';
import type { StoreMessageInput } from './ports.js';
import { checkSend, duplicateAddresses } from './device-set.js';

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
 * The send use case (`message:send`): one batched statement checks membership and the device
 * set, dedupes and stores; then live delivery through the notifier. The caller acks only after
 * this resolves, i.e. after the commit, so an acked message survives a crash. Only a send the
 * statement refused or found duplicate costs a second query, to answer precisely.
 * @param deps writer, mailbox store, presence, notifier, outbox
 * @param sender verified sender
 * @param p validated payload
 * @param turn ordering with the socket's other sends to the same conversation
 * @returns message id and server time
 * @throws {AppError} `not_member`, `stale_devices`, `mailbox_full` (a recipient device's mailbox is at its cap, or a request budget is spent; one answer for both), `validation_error`, `conflict`
 */
export async function sendMessage(deps: ChatDeps, sender: SenderIdentity, p: MessageSendPayload, turn?: SendTurn): Promise<MessageSendResult> {
  try {
    return await sendInTurn(deps, sender, p, turn);
  } finally {
    turn?.done();
  }
}

async function sendInTurn(deps: ChatDeps, sender: SenderIdentity, p: MessageSendPayload, turn?: SendTurn): Promise<MessageSendResult> {
  const given = p.envelopes.map((e) => ({ userId: e.userId, deviceId: e.deviceId }));
  const dups = duplicateAddresses(given);
  if (dups.length > 0) throw new ValidationError('two envelopes for the same device', dups);
  const addressedUsers = [...new Set(p.envelopes.map((e) => e.userId))];
  const recipientUsers = addressedUsers.filter((u) => u !== sender.userId);
  // Presence decides who gets a "queued" notification, and lets delivery skip the Redis
  // adapter for devices connected here only. If Redis is down, store and deliver anyway and
  // treat everyone as offline (a later ack cancels the digest).
  const looked = await deps.presence.recentLiveSockets(addressedUsers, PRESENCE_REUSE_MS).catch((err: unknown) => {
    deps.log.warn({ err: (err as Error).message }, 'presence lookup failed; treating recipients as offline');
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
  const input: StoreMessageInput = {
    messageId,
    conversationId: p.conversationId,
    senderUserId: sender.userId,
    senderDeviceId: sender.deviceId,
    clientMessageId: p.clientMessageId,
    serverTs,
    envelopes: p.envelopes.map((e) => ({
      userId: e.userId,
      deviceId: e.deviceId,
      type: e.type,
      body: Buffer.from(e.body, 'base64'),
      live: online?.get(e.userId)?.has(e.deviceId) ?? false,
    })),
    queuedEvents,
    queuedUsers: offline,
  };
  const writing = deps.writer.write(input);
  turn?.done(); // the writer keeps the order from here (same conversation, same FIFO lane)
  const outcome = await writing;
  if (outcome !== 'stored') {
    // Not stored: a duplicate (answer with the original), or refused (answer as the checks do
    // now: not_member, or stale_devices with the difference), or over a mailbox cap.
    const again = await deps.mailbox.loadSendContext(deps.db, sender.userId, p.clientMessageId, p.conversationId);
    const answer = checkSend(again, sender, p.conversationId, given);
    if (answer) return answer;
    if (outcome === 'duplicate') throw new Error('dedupe row vanished');
    // Names no one: which recipient's mailbox is full is theirs to know.
    if (outcome === 'mailbox_full') throw new AppError(409, 'mailbox_full', "a recipient's mailbox is full: this message was not sent");
    // changed back in between (say removed and re-added): still not stored, so the client resends
    throw new ConflictError('the conversation changed while sending: fetch the device list and send again', 'stale_devices', { missing: [], extra: [] });
  }
  if (queuedEvents.length > 0) deps.outbox.kick();
  // Deliver to every addressed device's room, online or not: a device that is connecting
  // right now gets it live or from its connect-time drain (see MailboxDrain in realtime/).
  const fresh = looked !== null && performance.now() - looked.lookedUpAt <= LOCAL_DELIVERY_WINDOW_MS;
  // nothing for those who blocked the sender or declined: the sender cannot tell
  const withheld = new Set(input.withheld ?? []);
  // acked only once the emits for other processes reached Redis: a crash after the ack cannot take them along
  await deps.notifier.deliver(
    p.envelopes.filter((e) => !withheld.has(e.userId)).map((e) => ({
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
 * The ack use case (`message:ack`): deletes this device's copies only (user and device come
 * from the handshake), in the batched ack statement.
 * @param deps acks, outbox
 * @param device the acking device
 * @param p validated payload
 * @returns how many envelopes were deleted
 */
export async function ackEnvelopes(deps: ChatDeps, device: SenderIdentity, p: MessageAckPayload): Promise<{ deleted: number }> {
  const payload = JSON.stringify(eventSchemas['chat.mailbox_drained.v1'].parse({ userId: device.userId, at: new Date().toISOString() }));
  const out = await deps.acks.call({ userId: device.userId, deviceId: device.deviceId, messageIds: [...new Set(p.messageIds)], drained: { id: randomUUID(), payload } });
  if (out.drainedRecorded) deps.outbox.kick();
  return { deleted: out.deleted };
}
