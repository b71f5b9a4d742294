import type { ChatClient } from '../client/chat-client.js';
import type { ClientParts } from '../client/client-parts.js';
import { MIN_PADDED_BLOCKS } from '../messages/plaintext-codec.js';
import { PADDING_BLOCK, pad } from '../messages/padding.js';
import { randomId, utf8 } from '../protocol/bytes.js';

/**
 * Tests only: sends a plaintext object as it is (padded like any other, never schema-checked),
 * end to end to every device of the conversation, as a newer client would send a kind this
 * version does not know (`{ kind: 'poll', ... }`). Not queued, not stored on the sender.
 * @param client a logged-in, connected client
 * @param conversationId the conversation
 * @param fields the plaintext's fields; `v`, `id`, `conversationId` and `sentAt` default to a
 *   version-3 writer, a fresh id, `conversationId` and now
 * @returns the plaintext as sent
 */
export async function sendRawPlaintext(
  client: ChatClient,
  conversationId: string,
  fields: Record<string, unknown> & { kind: string },
): Promise<Record<string, unknown> & { id: string }> {
  const plaintext = { v: 3, id: randomId(), conversationId, sentAt: Date.now(), ...fields };
  const padded = pad(utf8(JSON.stringify(plaintext)), PADDING_BLOCK, MIN_PADDED_BLOCKS);
  // The parts are private to ChatClient on purpose: only this test hook reaches in.
  const parts = (client as unknown as { parts: ClientParts }).parts;
  await parts.sender.fanOut(conversationId, { id: plaintext.id, padded });
  return plaintext;
}
