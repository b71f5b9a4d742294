import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredMessage } from '../src/messages/message.schema.js';
import { account, messageWith, startStack, type Stack } from './support/stack.js';

/** chat-cli's `timer` command against the real services, with Bob on the SDK. */

let stack: Stack;
let stateDir: string;
const cli = path.resolve(import.meta.dirname, '../src/cli/chat-cli.ts');
const tsx = createRequire(import.meta.url).resolve('tsx');

beforeAll(async () => {
  stack = await startStack();
  stateDir = await mkdtemp(path.join(tmpdir(), 'chat-cli-timer-'));
});
afterAll(async () => {
  await stack?.close();
  await rm(stateDir, { recursive: true, force: true });
});

async function runCli(args: string[], password: string): Promise<string> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=source',
      '--import',
      tsx,
      cli,
      ...args,
      '--user-api',
      `${stack.userUrl}/api/user`,
      '--chat-api',
      `${stack.chatUrl}/api/chat`,
      '--socket',
      stack.chatUrl,
      '--state-dir',
      stateDir,
    ],
    // The password comes from the environment so it never shows in `ps`.
    { env: { ...process.env, CHAT_PASSWORD: password } },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`chat-cli ${args[0]} exited ${code}: ${err}`);
  return out;
}

describe('chat-cli timer', () => {
  it(
    'when Alice sets 1 hour from the terminal, then Bob gets the timer and the announcement end to end; a bad value is refused',
    { timeout: 120_000 },
    async () => {
      const a = account('alice');
      const bobInput = account('bob');
      const bob = stack.client('bob');
      await bob.signUp(bobInput);
      await runCli(
        ['signup', '--email', a.email, '--username', a.username, '--display-name', a.displayName],
        a.password,
      );
      const hello = messageWith(bob, 'hello before the timer');
      await runCli(
        ['send', bobInput.username, 'hello before the timer', '--email', a.email],
        a.password,
      );
      const first = await hello;

      const announced = bob.next(
        'message',
        (m) => m.event?.type === 'timer',
      ) as Promise<StoredMessage>;
      expect(
        await runCli(['timer', bobInput.username, '1h', '--email', a.email], a.password),
      ).toMatch(/disappearing messages: 3600 s/);
      expect((await announced).event).toMatchObject({ type: 'timer', timerS: 3600 });
      expect(bob.disappearingTimer(first.conversationId)).toBe(3600);

      await expect(
        runCli(['timer', bobInput.username, '2 hours', '--email', a.email], a.password),
      ).rejects.toThrow(/not a timer/);
      const off = bob.next('message', (m) => m.event?.type === 'timer') as Promise<StoredMessage>;
      await runCli(['timer', bobInput.username, 'off', '--email', a.email], a.password);
      expect((await off).event?.timerS).toBeNull();
      expect(bob.disappearingTimer(first.conversationId)).toBeNull();
    },
  );
});
