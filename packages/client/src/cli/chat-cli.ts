#!/usr/bin/env node
import { rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ChatClient } from '../client/chat-client.js';
import { createFileStore } from '../node/file-backend.js';
import { ApiError } from '../transport/api-error.js';

const USAGE = `chat-cli: a terminal client for cipherchat (end-to-end encrypted)

Usage:
  chat-cli signup --email E --username U --display-name D [--password P]
  chat-cli login  --email E [--password P]
  chat-cli send <username> <text> --email E [--password P]
  chat-cli reply <conversationId> <messageId> <text> --email E [--password P]
                     (the message must be in this terminal's history: see listen's "id")
  chat-cli listen --email E [--password P]
  chat-cli safety-number <username> --email E [--password P]

Options (or environment):
  --server URL       CHAT_SERVER     (default http://localhost:8080)
  --email E          CHAT_EMAIL
  --password P       CHAT_PASSWORD   (never stored; avoid putting it on the command line)
  --state-dir DIR    CHAT_STATE_DIR  (default ~/.cipherchat; state files are sealed with a
                                      key derived from the OPAQUE export key)
  --recovery-key K   open the key backup after a password reset
  --user-api URL, --chat-api URL, --socket URL
                     reach services directly instead of through nginx (development)`;

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      server: { type: 'string' },
      email: { type: 'string' },
      password: { type: 'string' },
      username: { type: 'string' },
      'display-name': { type: 'string' },
      'state-dir': { type: 'string' },
      'recovery-key': { type: 'string' },
      'user-api': { type: 'string' },
      'chat-api': { type: 'string' },
      socket: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...args] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const server = values.server ?? process.env.CHAT_SERVER ?? 'http://localhost:8080';
  const email = values.email ?? process.env.CHAT_EMAIL ?? fail('--email is required');
  const password = values.password ?? process.env.CHAT_PASSWORD ?? fail('--password or CHAT_PASSWORD is required');
  const stateDir = values['state-dir'] ?? process.env.CHAT_STATE_DIR ?? join(homedir(), '.cipherchat');

  const client = new ChatClient({
    baseUrl: server,
    ...(values['user-api'] ? { userApiUrl: values['user-api'] } : {}),
    ...(values['chat-api'] ? { chatApiUrl: values['chat-api'] } : {}),
    ...(values.socket ? { socketUrl: values.socket } : {}),
    deviceName: 'chat-cli',
    openStore: async (userId, { exportKey }) => {
      const file = join(stateDir, `${userId}.state`);
      try {
        return await createFileStore(file, exportKey);
      } catch {
        // Sealed under another export key (the password changed since): set it aside; the
        // identity comes back from the key backup and this terminal registers as a new device.
        const aside = `${file}.unreadable-${Date.now()}`;
        await rename(file, aside);
        process.stderr.write(`note: local state was sealed under an older password; moved to ${aside}\n`);
        return createFileStore(file, exportKey);
      }
    },
  });
  client.on('error', (err) => process.stderr.write(`warning: ${String(err)}\n`));
  client.on('identityChanged', ({ userId }) =>
    process.stderr.write(`! the safety number with ${userId} changed; verify it, then accept it in a client\n`),
  );

  const login = async (connect: boolean) =>
    client.logIn({
      email,
      password,
      connect,
      ...(values['recovery-key'] ? { recoveryKey: values['recovery-key'] } : {}),
    });

  switch (command) {
    case 'signup': {
      const { user, recoveryKey } = await client.signUp({
        email,
        password,
        username: values.username ?? fail('--username is required'),
        displayName: values['display-name'] ?? values.username ?? fail('--display-name is required'),
      });
      process.stdout.write(`signed up as ${user.username} (${user.id})\n`);
      process.stdout.write(`RECOVERY KEY (shown once, keep it offline):\n  ${recoveryKey}\n`);
      break;
    }
    case 'login': {
      const r = await login(false);
      process.stdout.write(`logged in as ${r.user.username}; identity ${r.identity}; device ${await client.deviceId()}\n`);
      if (r.recoveryKey) process.stdout.write(`NEW RECOVERY KEY (shown once):\n  ${r.recoveryKey}\n`);
      break;
    }
    case 'send': {
      const [username, ...words] = args;
      if (!username || words.length === 0) fail('usage: chat-cli send <username> <text>');
      await login(true);
      const other = await client.findUser(username);
      if (!other || other.username !== username.toLowerCase()) fail(`no user named ${username}`);
      const existing = (await client.listConversations()).find(
        (c) => c.kind === 'direct' && c.memberIds.includes(other.id),
      );
      const conversation = existing ?? (await client.createConversation({ kind: 'direct', memberIds: [other.id] }));
      const m = await client.sendText(conversation.id, words.join(' '));
      process.stdout.write(`sent ${m.id} at ${m.serverTimestamp ?? ''}\n`);
      break;
    }
    case 'reply': {
      const [conversationId, messageId, ...words] = args;
      if (!conversationId || !messageId || words.length === 0) fail('usage: chat-cli reply <conversationId> <messageId> <text>');
      await login(true);
      const m = await client.sendText(conversationId, words.join(' '), { replyTo: messageId }).catch((err: unknown) => {
        if (err instanceof Error && err.message.includes('on this device')) fail(`message ${messageId} is not in this terminal's history of ${conversationId}`);
        throw err;
      });
      process.stdout.write(`sent ${m.id} at ${m.serverTimestamp ?? ''} (reply to ${messageId})\n`);
      break;
    }
    case 'listen': {
      client.on('message', (m) => {
        const who = m.direction === 'out' ? 'me (other device)' : m.senderUserId;
        const body =
          m.kind === 'text'
            ? m.text
            : m.kind === 'event'
              ? `[group ${m.event?.type} by ${m.event?.actorUserId}${m.event?.userIds ? `: ${m.event.userIds.join(', ')}` : ''}]`
              : m.kind === 'unsupported'
                ? `[needs a newer version: ${m.unsupported?.kind}] ${m.unsupported?.fallback ?? ''}`
                : `[attachment ${m.attachment?.fileName ?? m.attachment?.id}]`;
        const quote = m.replyTo ? ` (reply to ${m.replyTo.authorUserId}: "${m.replyTo.excerpt}")` : '';
        process.stdout.write(`[${new Date(m.sentAt).toISOString()}] ${m.conversationId} ${who}:${quote} ${body} (id ${m.id})\n`);
      });
      client.on('receipt', (r) => process.stdout.write(`(${r.type} by ${r.fromUserId}: ${r.messageIds.length})\n`));
      await login(true);
      process.stdout.write('listening; Ctrl-C to stop\n');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      break;
    }
    case 'safety-number': {
      const [username] = args;
      if (!username) fail('usage: chat-cli safety-number <username>');
      await login(false);
      const other = await client.findUser(username);
      if (!other) fail(`no user named ${username}`);
      // Keys are only for people who share a conversation (the server answers 404 otherwise).
      const sn = await client.safetyNumber(other.id).catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 404)
          fail(`no keys of ${username} for you: you share no conversation yet (send them a message first), or they have no device`);
        throw err;
      });
      process.stdout.write(`${sn.digits.match(/.{5}/g)?.join(' ')}\n`);
      break;
    }
    default:
      fail(`unknown command ${command}\n\n${USAGE}`);
  }
  await client.logOut();
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}\n`);
    process.exit(1);
  },
);
