import type { AttachmentPointer, StoredMessage } from '../messages/message.schema.js';
import { randomId } from '../protocol/bytes.js';
import type { ClientParts } from './client-parts.js';
import type { SendOptions } from './client-types.js';
import type { EnvelopeMutator } from './message-sender.js';
import { cleanMentions, replyRefFor } from './replies.js';

/**
 * Builds my outgoing message (a fresh id, this device as the sender, status `sending`) and puts
 * it into the persisted outgoing queue (the `ChatClient` sends go through here).
 * @param parts the client's parts (session, device keys, queue)
 * @param conversationId conversation
 * @param content a text, or an uploaded attachment with an optional caption
 * @param options `wait: false` to return as soon as it is queued; `replyTo` (a message of this
 *   conversation in my history, quoted with its author and excerpt) and `mentions` (user ids)
 * @param mutate rewrites the envelopes just before they leave (adversarial tests)
 * @returns the stored message
 * @throws {Error} `replyTo` names no text or attachment of this conversation on this device
 */
export async function sendContent(
  parts: Pick<ClientParts, 'session' | 'deviceKeys' | 'queue' | 'disappearing'>,
  conversationId: string,
  content: { kind: 'text' | 'attachment'; text?: string; attachment?: AttachmentPointer },
  options: SendOptions,
  mutate?: EnvelopeMutator,
): Promise<StoredMessage> {
  const s = parts.session.require();
  const replyTo = options.replyTo !== undefined ? await replyRefFor(s.store, conversationId, options.replyTo) : undefined;
  const mentions = cleanMentions(options.mentions);
  // The conversation's timer now goes with the message; it disappears that long after sending.
  const expiresInS = parts.disappearing.timer(conversationId);
  const message = parts.disappearing.onSent({
      id: randomId(),
      conversationId,
      senderUserId: s.user.id,
      senderDeviceId: parts.deviceKeys.cachedId ?? 0,
      direction: 'out',
      kind: content.kind,
      ...(content.text !== undefined ? { text: content.text } : {}),
      ...(content.attachment ? { attachment: content.attachment } : {}),
      ...(expiresInS ? { expiresInS } : {}),
      ...(replyTo ? { replyTo } : {}),
      ...(mentions ? { mentions } : {}),
      sentAt: Date.now(),
      status: 'sending',
    });
  await parts.disappearing.track(message);
  return parts.queue.send(message, options, mutate);
}
