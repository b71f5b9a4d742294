import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { account, messageWith, startStack, type Stack } from './support/stack.js';

/** `chat-cli react`, `edit` and `delete` against the real services, seen by an SDK client. */

let stack: Stack;
let stateDir: string;
const cli = path.resolve(import.meta.dirname, '../src/cli/chat-cli.ts');
const tsx = createRequire(import.meta.url).resolve('tsx');

beforeAll(async () => {
  stack = await startStack();
  stateDir = await mkdtemp(path.join(tmpdir(), 'chat-cli-rxn-'));
});
afterAll(async () => {
  await stack?.close();
  await rm(stateDir, { recursive: true, force: true });
});

/** Runs chat-cli to the end. @returns exit code, stdout and stderr */
async function runCli(
  args: string[],
  password: string,
): Promise<{ code: number | null; out: string; err: string }> {
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
    { env: { ...process.env, CHAT_PASSWORD: password } },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, out, err };
}

describe('chat-cli reactions, edits and deletes', () => {
  it(
    'when Alice reacts, edits and deletes from the terminal, then Bob sees the reaction, the edited text and the tombstone; Bob cannot edit her message; delete --for-me stays local',
    { timeout: 180_000 },
    async () => {
      const a = account('alice');
      expect(
        (
          await runCli(
            [
              'signup',
              '--email',
              a.email,
              '--username',
              a.username,
              '--display-name',
              a.displayName,
            ],
            a.password,
          )
        ).code,
      ).toBe(0);
      const b = account('bob');
      const bob = stack.client('bob');
      await bob.signUp(b);

      const heard = messageWith(bob, 'see you at 5');
      const sent = await runCli(
        ['send', b.username, 'see', 'you', 'at', '5', '--email', a.email],
        a.password,
      );
      const id = /^sent (\S+)/.exec(sent.out)?.[1] ?? '';
      const got = await heard;
      expect(got.id).toBe(id);
      const conv = got.conversationId;

      const reacted = await runCli(['react', conv, id, '🎉', '--email', a.email], a.password);
      expect(reacted.out).toContain(`reacted 🎉 to ${id}`);
      await vi.waitFor(
        async () =>
          expect((await bob.store.getMessage(id))?.reactions?.[got.senderUserId]?.emoji).toBe('🎉'),
        { timeout: 15_000 },
      );

      const edited = await runCli(
        ['edit', conv, id, 'see', 'you', 'at', '6', '--email', a.email],
        a.password,
      );
      expect(edited.out).toContain(`edited ${id}`);
      await vi.waitFor(
        async () =>
          expect(await bob.store.getMessage(id)).toMatchObject({
            text: 'see you at 6',
            edits: [{ text: 'see you at 5' }],
          }),
        { timeout: 15_000 },
      );

      // Refusals print the reason and exit non-zero; nothing changes.
      const bogus = await runCli(['react', conv, id, 'ok', '--email', a.email], a.password);
      expect(bogus.code).toBe(2);
      expect(bogus.err).toContain('a reaction is one emoji');
      const elsewhere = await runCli(
        ['edit', 'not-this-conversation', id, 'x', '--email', a.email],
        a.password,
      );
      expect(elsewhere.code).toBe(2);
      expect(elsewhere.err).toContain('no message');
      await expect(bob.actions.edit(id, 'Bob was here')).rejects.toMatchObject({
        code: 'not_author',
      });

      const deleted = await runCli(['delete', conv, id, '--email', a.email], a.password);
      expect(deleted.out).toContain(`deleted ${id} for everyone`);
      await vi.waitFor(
        async () => {
          const m = await bob.store.getMessage(id);
          expect(m?.deletedAt).toBeDefined();
          expect(m?.text).toBeUndefined();
        },
        { timeout: 15_000 },
      );

      const second = messageWith(bob, 'only for me');
      const id2 =
        /^sent (\S+)/.exec(
          (await runCli(['send', b.username, 'only for me', '--email', a.email], a.password)).out,
        )?.[1] ?? '';
      await second;
      expect(
        (await runCli(['delete', conv, id2, '--for-me', '--email', a.email], a.password)).out,
      ).toContain(`deleted ${id2} on this device`);
      // Gone from Alice's terminal: acting on it again finds nothing; Bob still has it.
      expect(
        (await runCli(['react', conv, id2, '👍', '--email', a.email], a.password)).err,
      ).toContain('no message');
      expect((await bob.store.getMessage(id2))?.text).toBe('only for me');
    },
  );
});
