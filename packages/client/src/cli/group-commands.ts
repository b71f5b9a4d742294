import type { ChatClient } from '../client/chat-client.js';
import { failWith, printResult } from './output.js';

/** The group commands of chat-cli (usage lines, for the help text). */
export const GROUP_USAGE = `  chat-cli groups
  chat-cli group-create <title> <username>...
  chat-cli group-add <group-id> <username>...
  chat-cli group-remove <group-id> <username>
  chat-cli group-role <group-id> <username> admin|member
  chat-cli group-rename <group-id> <title>
  chat-cli group-leave <group-id>
  chat-cli group-send <group-id> <text>`;

/** What a group command needs from chat-cli. */
export interface GroupCommandContext {
  client: ChatClient;
  /** Logs in with the socket connected (group changes are end-to-end control messages). */
  login: () => Promise<unknown>;
}

/**
 * Runs a group command, if `command` is one: every change is the SDK's end-to-end operation
 * (`client.groups`), refused here exactly when the group's own rules refuse it.
 * @param command the command name
 * @param args its positional arguments
 * @param ctx the client and its login
 * @returns false when `command` is not a group command
 */
export async function runGroupCommand(
  command: string,
  args: string[],
  ctx: GroupCommandContext,
): Promise<boolean> {
  const { client } = ctx;
  const userIdOf = async (username: string): Promise<string> => {
    const u = await client.findUser(username);
    if (!u || u.username !== username.toLowerCase())
      failWith('not_found', `no user named ${username}`, 1);
    return u.id;
  };
  const group = (id: string | undefined) => {
    const info = client.groups.info(id ?? '');
    return {
      id: info.id,
      title: info.title,
      members: info.members,
      pending: info.origin === 'pending',
    };
  };
  const members = (g: ReturnType<typeof group>) =>
    g.members.map((m) => `${m.userId} (${m.role})`).join(', ');
  switch (command) {
    case 'groups': {
      await ctx.login();
      const groups = (await client.listConversations())
        .filter((c) => c.kind === 'group')
        .map((c) => group(c.id));
      const human = groups.map(
        (g) =>
          `${g.id} ${g.title ?? '(no title)'}${g.pending ? ' [waiting for its state]' : ''}: ${members(g)}`,
      );
      printResult({ groups }, human.length ? human.join('\n') : 'no groups');
      return true;
    }
    case 'group-create': {
      const [title, ...usernames] = args;
      if (!title || usernames.length === 0) failWith('usage_error', 'usage: chat-cli group-create <title> <username>...');
      await ctx.login();
      const ids = [];
      for (const u of usernames) ids.push(await userIdOf(u));
      const c = await client.createConversation({ kind: 'group', title, memberIds: ids });
      const g = group(c.id);
      printResult({ group: g }, `created group ${g.id} ${g.title ?? ''}`.trim());
      return true;
    }
    case 'group-add': {
      const [id, ...usernames] = args;
      if (!id || usernames.length === 0) failWith('usage_error', 'usage: chat-cli group-add <group-id> <username>...');
      await ctx.login();
      const ids = [];
      for (const u of usernames) ids.push(await userIdOf(u));
      await client.groups.add(id, ids);
      printResult({ group: group(id) }, `added ${usernames.join(', ')}`);
      return true;
    }
    case 'group-remove': {
      const [id, username] = args;
      if (!id || !username) failWith('usage_error', 'usage: chat-cli group-remove <group-id> <username>');
      await ctx.login();
      await client.groups.remove(id, await userIdOf(username));
      printResult({ group: group(id) }, `removed ${username}`);
      return true;
    }
    case 'group-role': {
      const [id, username, role] = args;
      if (!id || !username || (role !== 'admin' && role !== 'member'))
        failWith('usage_error', 'usage: chat-cli group-role <group-id> <username> admin|member');
      await ctx.login();
      await client.groups.setRole(id, await userIdOf(username), role);
      printResult(
        { group: group(id) },
        `${username} is now ${role === 'admin' ? 'an admin' : 'a member'}`,
      );
      return true;
    }
    case 'group-rename': {
      const [id, ...words] = args;
      if (!id || words.length === 0) failWith('usage_error', 'usage: chat-cli group-rename <group-id> <title>');
      await ctx.login();
      await client.groups.rename(id, words.join(' '));
      printResult({ group: group(id) }, `renamed to ${words.join(' ')}`);
      return true;
    }
    case 'group-leave': {
      const [id] = args;
      if (!id) failWith('usage_error', 'usage: chat-cli group-leave <group-id>');
      await ctx.login();
      await client.groups.leave(id);
      printResult({ left: { groupId: id } }, `left ${id}`);
      return true;
    }
    case 'group-send': {
      const [id, ...words] = args;
      if (!id || words.length === 0) failWith('usage_error', 'usage: chat-cli group-send <group-id> <text>');
      await ctx.login();
      const m = await client.sendText(id, words.join(' '));
      printResult(
        {
          message: {
            id: m.id,
            conversationId: m.conversationId,
            status: m.status,
            serverTimestamp: m.serverTimestamp ?? null,
          },
        },
        `sent ${m.id} at ${m.serverTimestamp ?? ''}`,
      );
      return true;
    }
    default:
      return false;
  }
}
