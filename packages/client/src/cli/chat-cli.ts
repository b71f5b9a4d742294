#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ChatClient } from '../client/chat-client.js';
import { ApiError } from '../transport/api-error.js';
import { logOutCommand, openAccount, passwordLogin, type AccountContext } from './account-commands.js';
import { CliSession } from './cli-session.js';
import { runMessageAction, describeChange } from './message-action-commands.js';
import { describeTimer, parseTimerArg } from './timer-args.js';
import { GROUP_USAGE, runGroupCommand } from './group-commands.js';
import { hitLine, SEARCH_USAGE, searchArgs } from './search-command.js';
import { configureOutput, failWith, printError, printEvent, printResult, printWarning } from './output.js';
import { timeText } from './time-text.js';

const USAGE = `chat-cli: a terminal client for cipherchat (end-to-end encrypted)

Usage:
  chat-cli signup --email E --username U --display-name D [--password P]   (logs in too)
  chat-cli login  --email E [--password P]   once: later commands reuse the saved session
  chat-cli logout [--email E] [--keep-device]
                     removes this terminal's device from the account and wipes its local
                     state; --keep-device keeps both for the next login
  chat-cli send <username> <text>
  chat-cli reply <conversationId> <messageId> <text>
                     (the message must be in this terminal's history: see listen's "id")
  chat-cli listen
  chat-cli safety-number <username>
  chat-cli react <conversationId> <messageId> <emoji|->   (- takes my reaction back)
  chat-cli edit <conversationId> <messageId> <text>       (my own, within 24 h)
  chat-cli delete <conversationId> <messageId> [--for-me] (for everyone: my own, within 24 h)
  chat-cli timer <username | group-id> <off|5m|1h|1d|1w|4w>
${SEARCH_USAGE}
${GROUP_USAGE}

Commands other than signup and login use the saved session of --email (or the only one saved
for this server). Without one they log in with --password / CHAT_PASSWORD and save it.

Options (or environment):
  --version          print chat-cli's version
  --json             machine-readable output: one JSON object per line on stdout (one per
                     event for \`listen\`); errors as {"error":{"code","message"}} on stderr
                     with a non-zero exit code
  --server URL       CHAT_SERVER     (default http://localhost:8080)
  --email E          CHAT_EMAIL
  --password P       CHAT_PASSWORD   (never stored; avoid putting it on the command line)
  --state-dir DIR    CHAT_STATE_DIR  (default ~/.cipherchat; state files are sealed with a
                                      key derived from the OPAQUE export key; while logged in,
                                      a session file (0600) there holds that key)
  --recovery-key K   open the key backup after a password reset
  --user-api URL, --chat-api URL, --socket URL
                     reach services directly instead of through nginx (development)`;

function fail(message: string): never {
  return failWith('usage_error', message);
}

/** The command line, parsed; a bad option is a usage error (exit 2). */
function parseOptions(argv: string[]) {
  try {
    return parseArgs({
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
        'keep-device': { type: 'boolean' },
        conversation: { type: 'string' },
        limit: { type: 'string' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        json: { type: 'boolean' },
      },
    });
  } catch (err) {
    return failWith('usage_error', err instanceof Error ? err.message : String(err));
  }
}

async function main(argv: string[]): Promise<void> {
  // Known before parsing, so that a bad option is reported in the chosen format too.
  configureOutput(argv.includes('--json'));
  const { values, positionals } = parseOptions(argv);
  configureOutput(values.json ?? false);
  const [command, ...args] = positionals;
  if (values.version) {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    printResult({ version }, `chat-cli ${version}`);
    return;
  }
  if (values.help || !command) {
    printResult({ usage: USAGE }, USAGE);
    return;
  }
  const server = values.server ?? process.env.CHAT_SERVER ?? 'http://localhost:8080';
  const email = values.email ?? process.env.CHAT_EMAIL;
  const password = values.password ?? process.env.CHAT_PASSWORD;
  const stateDir = values['state-dir'] ?? process.env.CHAT_STATE_DIR ?? join(homedir(), '.cipherchat');
  const session = new CliSession(stateDir, values['user-api'] ?? server);

  const client = new ChatClient({
    baseUrl: server,
    // The state file is written whole on every change: no cached files in it.
    mediaCacheBytes: 0,
    ...(values['user-api'] ? { userApiUrl: values['user-api'] } : {}),
    ...(values['chat-api'] ? { chatApiUrl: values['chat-api'] } : {}),
    ...(values.socket ? { socketUrl: values.socket } : {}),
    deviceName: 'chat-cli',
    openStore: async (userId, { exportKey }) => {
      try {
        return await session.open(userId, exportKey);
      } catch (err) {
        if (!exportKey) throw err;
        // Sealed under another export key (the password changed since): set it aside; the
        // identity comes back from the key backup and this terminal registers as a new device.
        const file = session.statePath(userId);
        const aside = `${file}.unreadable-${Date.now()}`;
        await rename(file, aside);
        printWarning('state_set_aside', `note: local state was sealed under an older password; moved to ${aside}`);
        return session.open(userId, exportKey);
      }
    },
  });
  // Rotated tokens go into the sealed state at once, so the next command can use them.
  client.api.onTokens = (tokens) => session.keepTokens(tokens);
  const ctx: AccountContext = { client, session, email, password, recoveryKey: values['recovery-key'] };
  client.on('error', (err) => printWarning('background_error', `warning: ${String(err)}`));
  client.on('identityChanged', ({ userId }) =>
    printWarning('identity_changed', `! the safety number with ${userId} changed; verify it, then accept it in a client`),
  );

  const login = (connect: boolean) => openAccount(ctx, connect);

  switch (command) {
    case 'signup': {
      if (!email || !password) fail('--email and --password (or CHAT_PASSWORD) are required');
      const { user, recoveryKey } = await client.signUp({
        email,
        password,
        username: values.username ?? fail('--username is required'),
        displayName: values['display-name'] ?? values.username ?? fail('--display-name is required'),
      });
      printResult(
        { user: { id: user.id, username: user.username }, recoveryKey },
        `signed up as ${user.username} (${user.id})\nRECOVERY KEY (shown once, keep it offline):\n  ${recoveryKey}`,
      );
      await session.save(email, user.id, client.api.getTokens());
      break;
    }
    case 'logout': {
      const r = await logOutCommand(ctx, values['keep-device'] === true);
      printResult(
        r,
        !r.loggedOut
          ? 'not logged in'
          : `logged out${r.email ? ` ${r.email}` : ''}; ${r.deviceRemoved ? "this terminal's device was removed from the account and its local state wiped" : "this terminal's device was kept"}`,
      );
      return;
    }
    case 'login': {
      const r = await passwordLogin(ctx, false);
      const deviceId = await client.deviceId();
      printResult(
        { user: { id: r.user.id, username: r.user.username }, identity: r.identity, deviceId, ...(r.recoveryKey ? { recoveryKey: r.recoveryKey } : {}) },
        `logged in as ${r.user.username}; identity ${r.identity}; device ${deviceId}` +
          (r.recoveryKey ? `\nNEW RECOVERY KEY (shown once):\n  ${r.recoveryKey}` : ''),
      );
      break;
    }
    case 'send': {
      const [username, ...words] = args;
      if (!username || words.length === 0) fail('usage: chat-cli send <username> <text>');
      await login(true);
      const other = await client.findUser(username);
      if (!other || other.username !== username.toLowerCase()) failWith('not_found', `no user named ${username}`);
      const existing = (await client.listConversations()).find(
        (c) => c.kind === 'direct' && c.memberIds.includes(other.id),
      );
      const conversation = existing ?? (await client.createConversation({ kind: 'direct', memberIds: [other.id] }));
      const m = await client.sendText(conversation.id, words.join(' '));
      printResult(
        { message: { id: m.id, conversationId: m.conversationId, status: m.status, serverTimestamp: m.serverTimestamp ?? null } },
        `sent ${m.id} at ${m.serverTimestamp ?? ''}`,
      );
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
      printResult(
        { message: { id: m.id, conversationId: m.conversationId, status: m.status, serverTimestamp: m.serverTimestamp ?? null, replyTo: messageId } },
        `sent ${m.id} at ${m.serverTimestamp ?? ''} (reply to ${messageId})`,
      );
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
              : m.kind === 'unsupported'
                ? `[needs a newer version: ${m.unsupported?.kind}] ${m.unsupported?.fallback ?? ''}`
                : `[attachment ${m.attachment?.fileName ?? m.attachment?.id}]`;
        const quote = m.replyTo ? ` (reply to ${m.replyTo.authorUserId}: "${m.replyTo.excerpt}")` : '';
        printEvent({ type: 'message', message: m }, `[${timeText(m.sentAt)}] ${m.conversationId} ${who}:${quote} ${body} (id ${m.id})`);
      });
      client.on('messageChanged', (m) => printEvent({ type: 'messageChanged', message: m }, describeChange(m)));
      client.on('receipt', (r) =>
        printEvent({ type: 'receipt', receipt: r }, `(${r.type} by ${r.fromUserId}: ${r.messageIds.length})`),
      );
      // My message's state changed (sent, a member's receipt: readBy, deliveredTo); JSON only.
      client.on('messageUpdated', (m) => printEvent({ type: 'messageUpdated', message: m }));
      await login(true);
      printEvent({ type: 'listening' }, 'listening; Ctrl-C to stop');
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
      if (!other) failWith('not_found', `no user named ${username}`);
      // Keys are only for people who share a conversation (the server answers 404 otherwise).
      const sn = await client.safetyNumber(other.id).catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 404)
          failWith('not_found', `no keys of ${username} for you: you share no conversation yet (send them a message first), or they have no device`);
        throw err;
      });
      printResult({ userId: other.id, safetyNumber: sn.digits }, `${sn.digits.match(/.{5}/g)?.join(' ')}`);
      break;
    }
    case 'react':
    case 'edit':
    case 'delete': {
      await login(true);
      // A refusal (not mine, too late, no such message, not an emoji) exits 2 with its reason.
      const human = await runMessageAction(client, command, args, { forMe: values['for-me'] === true }).catch((err: unknown) =>
        failWith((err as { code?: string }).code ?? 'usage_error', err instanceof Error ? err.message : String(err)),
      );
      printResult({ command, conversationId: args[0], messageId: args[1] }, human);
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
      printResult({ conversationId, timerS: seconds }, `${describeTimer(seconds)} in ${conversationId}`);
      break;
    }
    case 'search': {
      const q = searchArgs(args, values);
      if ('error' in q) fail(q.error);
      await login(false);
      const hits = await client.search.query(q.text, q);
      printResult({ hits }, hits.length > 0 ? hits.map(hitLine).join('\n') : 'no messages found');
      break;
    }
    default:
      if (!(await runGroupCommand(command, args, { client, login: () => login(true) })))
        failWith('usage_error', `unknown command ${command}\n\n${USAGE}`);
  }
  // The session stays (see cli-session.ts): push pending key-backup changes, then just close.
  await client.flushBackup().catch((err: unknown) => printWarning('background_error', `warning: ${String(err)}`));
  client.disconnect();
  await session.flush();
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => process.exit(printError(err)),
);
