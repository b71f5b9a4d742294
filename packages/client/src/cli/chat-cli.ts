#!/usr/bin/env node
import { rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ChatClient } from '../client/chat-client.js';
import { createFileStore } from '../node/file-backend.js';
import { ApiError } from '../transport/api-error.js';
import { runMessageAction, describeChange } from './message-action-commands.js';
import { describeTimer, parseTimerArg } from './timer-args.js';

const USAGE = `chat-cli: a terminal client for cipherchat (end-to-end encrypted)

Usage:
  chat-cli signup --email E --username U --display-name D [--password P]
  chat-cli login  --email E [--password P]
  chat-cli send <username> <text> --email E [--password P]
  chat-cli listen --email E [--password P]
  chat-cli safety-number <username> --email E [--password P]
  chat-cli react <conversationId> <messageId> <emoji|->   (- takes my reaction back)
  chat-cli edit <conversationId> <messageId> <text>       (my own, within 24 h)
  chat-cli delete <conversationId> <messageId> [--for-me] (for everyone: my own, within 24 h)
  chat-cli timer <username | group-id> <off|5m|1h|1d|1w|4w> --email E [--password P]

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
      'for-me': { type: 'boolean' },
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
    case 'listen': {
      client.on('message', (m) => {
        const who = m.direction === 'out' ? 'me (other device)' : m.senderUserId;
        const body =
          m.kind === 'text'
            ? m.text
            : m.event?.type === 'timer'
              ? `[${describeTimer(m.event.timerS)}, set by ${m.event.actorUserId}]`
              : m.kind === 'event'
              ? `[group ${m.event?.type} by ${m.event?.actorUserId}${m.event?.userIds ? `: ${m.event.userIds.join(', ')}` : ''}]`
              : `[attachment ${m.attachment?.fileName ?? m.attachment?.id}]`;
        process.stdout.write(`[${new Date(m.sentAt).toISOString()}] ${m.conversationId} ${who}: ${body}\n`);
      });
      client.on('messageChanged', (m) => process.stdout.write(`${describeChange(m)}\n`));
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
    case 'react':
    case 'edit':
    case 'delete': {
      await login(true);
      process.stdout.write(`${await runMessageAction(client, command, args, { forMe: values['for-me'] === true }).catch((err: unknown) => fail(String(err instanceof Error ? err.message : err)))}\n`);
      break;
    }
    case 'timer': {
      const [target, value] = args;
      if (!target || !value) fail('usage: chat-cli timer <username | group-id> <off|5m|1h|1d|1w|4w>');
      const seconds = parseTimerArg(value);
      await login(true);
      const list = await client.listConversations();
      let conversationId = list.find((c) => c.id === target)?.id;
      if (!conversationId) {
        const other = await client.findUser(target);
        if (!other || other.username !== target.toLowerCase()) fail(`no user or group ${target}`);
        conversationId = list.find((c) => c.kind === 'direct' && c.memberIds.includes(other.id))?.id;
        if (!conversationId) fail(`no chat with ${target} yet: send them a message first`);
      }
      // End to end only: the server never learns the timer.
      await client.setDisappearingTimer(conversationId, seconds);
      process.stdout.write(`${describeTimer(seconds)} in ${conversationId}\n`);
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
