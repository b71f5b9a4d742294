import type { ChatClient } from '../client/chat-client.js';
import type { StoredMessage } from '../messages/message.schema.js';
import { safeText } from './output.js';

/** How long a command waits for a message still in the mailbox to arrive. */
const ARRIVAL_WAIT_MS = 10_000;

/**
 * The message, from the local history; one still waiting in the mailbox is awaited briefly.
 * @param client a logged-in, connected client
 * @param conversationId the conversation it must be in
 * @param messageId the message's client id
 * @returns the message
 * @throws {Error} when this device has no such message in that conversation
 */
async function findMessage(
  client: ChatClient,
  conversationId: string,
  messageId: string,
): Promise<StoredMessage> {
  const arrived = client.next('message', (m) => m.id === messageId);
  await client.syncMailbox();
  let m = await client.store.getMessage(messageId);
  if (!m) {
    const timeout = new Promise<undefined>((resolve) => setTimeout(resolve, ARRIVAL_WAIT_MS));
    m = await Promise.race([arrived, timeout]);
  }
  if (!m || m.conversationId !== conversationId)
    throw new Error(`no message ${messageId} in conversation ${conversationId} on this device`);
  return m;
}

/**
 * One line describing a changed message (for `listen`), terminal-safe ({@link safeText}).
 * @param m the message as now stored
 * @returns e.g. `[edited] <conv> <id>: new text`, `[deleted] <conv> <id>`, `[reactions] <conv> <id>: 👍 2`
 */
export function describeChange(m: StoredMessage): string {
  if (m.deletedAt !== undefined)
    return `[deleted] ${m.conversationId} ${m.id}: This message was deleted`;
  const counts = new Map<string, number>();
  for (const r of Object.values(m.reactions ?? {}))
    counts.set(r.emoji, (counts.get(r.emoji) ?? 0) + 1);
  const reactions = [...counts].map(([emoji, n]) => `${emoji} ${n}`).join(' ');
  const edited = m.editedAt !== undefined ? ' (edited)' : '';
  return safeText(
    `[changed] ${m.conversationId} ${m.id}: ${m.text ?? ''}${edited}${reactions ? ` [${reactions}]` : ''}`,
  );
}

/**
 * Runs `react`, `edit` or `delete` from the command line.
 * @param client a logged-in, connected client
 * @param command which
 * @param args `<conversationId> <messageId> <emoji|-|text...>`
 * @param flags `forMe`: delete on this device only
 * @returns the line to print
 * @throws {Error} usage errors and refusals (`MessageActionError` with its code)
 */
export async function runMessageAction(
  client: ChatClient,
  command: 'react' | 'edit' | 'delete',
  args: string[],
  flags: { forMe: boolean },
): Promise<string> {
  const [conversationId, messageId, ...rest] = args;
  if (!conversationId || !messageId)
    throw new Error(
      `usage: chat-cli ${command} <conversationId> <messageId>${command === 'delete' ? ' [--for-me]' : ' ...'}`,
    );
  const m = await findMessage(client, conversationId, messageId);
  switch (command) {
    case 'react': {
      const emoji = rest.join(' ');
      if (!emoji) throw new Error('usage: chat-cli react <conversationId> <messageId> <emoji|->');
      await client.actions.react(m.id, emoji === '-' ? null : emoji);
      return emoji === '-' ? `reaction removed from ${m.id}` : `reacted ${emoji} to ${m.id}`;
    }
    case 'edit': {
      const text = rest.join(' ');
      if (!text) throw new Error('usage: chat-cli edit <conversationId> <messageId> <text>');
      await client.actions.edit(m.id, text);
      return `edited ${m.id}`;
    }
    case 'delete': {
      if (flags.forMe) {
        await client.actions.deleteForMe(m.id);
        return `deleted ${m.id} on this device`;
      }
      await client.actions.deleteForEveryone(m.id);
      return `deleted ${m.id} for everyone`;
    }
  }
}
