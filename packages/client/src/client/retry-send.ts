import { FORMAT_VERSION, PlaintextMessage, type RetryControl } from '../messages/message.schema.js';
import { encodePlaintext } from '../messages/plaintext-codec.js';
import { randomId } from '../protocol/bytes.js';
import { ProtocolError, UntrustedIdentityError } from '../protocol/errors.js';
import type { ProtocolStore } from '../storage/protocol-store.js';
import { ApiError } from '../transport/api-error.js';
import type { ContactSessions } from './contact-sessions.js';
import type { MessageSender } from './message-sender.js';
import { isContentKind, type SentEntry, type SentLog } from './retry-log.js';
import type { SessionSlot } from './session.js';

/** A session with one peer device is rebuilt at most this often (a fresh one is not thrown away). */
export const RESET_MIN_MS = 30_000;

/** Why a fetched bundle is refused: the session it would replace is kept. */
const BUNDLE_REFUSED: readonly string[] = [
  'invalid_signature',
  'invalid_bundle',
  'foreign_device',
  'own_identity_key',
];

/** The send did not address the one device it is for (it left the conversation, or was removed). */
class NotAddressed extends Error {}

/**
 * @param conversationId conversation
 * @param retry the retry control
 * @param now clock
 * @returns a `retry` plaintext with a fresh id
 */
export function retryPlaintext(
  conversationId: string,
  retry: RetryControl,
  now: number,
): PlaintextMessage {
  return { v: FORMAT_VERSION, kind: 'retry', id: randomId(), conversationId, sentAt: now, retry };
}

/**
 * What to send again for a logged message: a text or attachment as the history has it now (an
 * edit since is included; deleted for everyone or expired: nothing), a kept control as it was
 * sent, else why nothing (`control`: a receipt or typing message).
 * @param store the local store (history)
 * @param entry the sent log's entry
 * @param now clock
 * @returns the plaintext, or the reason for an answer
 */
export async function resendContent(
  store: ProtocolStore,
  entry: SentEntry,
  now: number,
): Promise<{ plaintext?: PlaintextMessage; reason?: 'control' | 'deleted' | 'expired' }> {
  if (isContentKind(entry.k)) {
    const m = await store.getMessage(entry.c);
    if (!m || (m.kind !== 'text' && m.kind !== 'attachment')) return { reason: 'expired' };
    if (m.deletedAt !== undefined) return { reason: 'deleted' };
    if (m.expiresAt !== undefined && m.expiresAt <= now) return { reason: 'expired' };
    const plaintext: PlaintextMessage = {
      v: FORMAT_VERSION,
      kind: m.kind,
      id: m.id,
      conversationId: m.conversationId,
      sentAt: m.sentAt,
      ...(m.text !== undefined ? { text: m.text } : {}),
      ...(m.attachment ? { attachment: m.attachment } : {}),
      ...(m.expiresInS ? { expiresInS: m.expiresInS } : {}),
      ...(m.replyTo ? { replyTo: m.replyTo } : {}),
      ...(m.mentions ? { mentions: m.mentions } : {}),
    };
    return { plaintext };
  }
  const kept = entry.p !== undefined ? PlaintextMessage.safeParse(JSON.parse(entry.p)) : undefined;
  return kept?.success ? { plaintext: kept.data } : { reason: 'control' };
}

/**
 * What every device but the target gets instead of a retry message: a typing-off message, a
 * kind every client version knows and never shows (no bubble, no notification), which also
 * tells the others nothing about who failed to read what.
 * @param real the retry plaintext
 * @returns the filler (same id, conversation and time)
 */
export function retryFiller(real: PlaintextMessage): PlaintextMessage {
  const { v, id, conversationId, sentAt } = real;
  return { v, kind: 'typing', id, conversationId, sentAt, typing: { on: false } };
}

/**
 * Fans a retry message out to the conversation (the server wants every device): `to` gets
 * `real`, every other device a {@link retryFiller}. Nothing goes out when `to` is not among the
 * addressed devices. Logged (with `logAs`) with `to` as its one reader.
 * @param deps the sender, the sent log, the clock
 * @param conversationId conversation
 * @param to the one device it is for
 * @param real what that device gets
 * @param logAs how the send is logged (client id, kind, kept plaintext, depth, original); not logged without
 * @returns false when `to` was not addressed (removed, or no longer in the conversation)
 */
export async function sendRetryTo(
  deps: { sender: MessageSender; log: SentLog; now: number },
  conversationId: string,
  to: RetryControl['to'],
  real: PlaintextMessage,
  logAs?: Pick<SentEntry, 'c' | 'k' | 'p' | 'd' | 'o'>,
): Promise<boolean> {
  const realBytes = encodePlaintext(real);
  const fillerBytes = encodePlaintext(retryFiller(real));
  const forDevice = (u: string, d: number) =>
    u === to.userId && d === to.deviceId ? realBytes : undefined;
  try {
    const ack = await deps.sender.fanOut(
      conversationId,
      { id: real.id, padded: fillerBytes, forDevice },
      (envelopes) => {
        if (!envelopes.some((e) => e.userId === to.userId && e.deviceId === to.deviceId))
          throw new NotAddressed();
        return envelopes;
      },
    );
    if (logAs)
      deps.log.record({
        ...logAs,
        s: ack.messageId,
        conv: conversationId,
        r: [`${to.userId}.${to.deviceId}`],
        t: deps.now,
      });
    return true;
  } catch (err) {
    if (err instanceof NotAddressed) return false;
    throw err;
  }
}

/**
 * Starts a fresh session with a peer device from a new bundle (at most every
 * {@link RESET_MIN_MS} per device). An existing session is archived, not deleted (libsignal keeps
 * the old state beside the new one), so messages already on their way on it still decrypt; one
 * whose record cannot be read any more is deleted; a fresh bundle that is refused (a
 * `ProtocolError`: a forged signature, a foreign key) leaves the existing session as it is.
 * Without `reset`, only builds a missing session.
 * @param deps the session, contact sessions, when each device was last reset, the clock
 * @param userId peer
 * @param deviceId peer device
 * @param reset start a new session even if one exists
 * @throws {UntrustedIdentityError} the peer's identity changed
 * @throws {ApiError} the bundle could not be fetched (404: no such account)
 */
export async function freshSession(
  deps: {
    session: SessionSlot;
    contacts: ContactSessions;
    resets: Map<string, number>;
    now: number;
  },
  userId: string,
  deviceId: number,
  reset: boolean,
): Promise<void> {
  const s = deps.session.require();
  const key = `${userId}.${deviceId}`;
  if (reset && deps.now - (deps.resets.get(key) ?? -Infinity) >= RESET_MIN_MS) {
    deps.resets.set(key, deps.now);
    const had = await s.protocol.hasSession(userId, deviceId).catch(() => undefined);
    if (had === true) {
      try {
        await deps.contacts.fetchBundles(userId, [deviceId]);
        return;
      } catch (err) {
        if (err instanceof UntrustedIdentityError || err instanceof ApiError) throw err;
        // A bundle refused (a forged signature, someone else's key): the old session stays.
        if (!(err instanceof ProtocolError && BUNDLE_REFUSED.includes(err.code)))
          await s.protocol.deleteSession(userId, deviceId);
      }
    } else if (had === undefined) await s.protocol.deleteSession(userId, deviceId);
  }
  await deps.contacts.ensure(userId, [deviceId]);
}
