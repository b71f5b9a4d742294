import { describe, expect, it, vi } from 'vitest';
import { useCli } from './support/cli.js';
import { account, messageWith } from './support/stack.js';

/** `chat-cli react`, `edit` and `delete` against the real services, seen by an SDK client. */

const cli = useCli('chat-cli-rxn');
/** Runs chat-cli to the end. @returns exit code, stdout and stderr */
const runCli = (args: string[], password: string) => cli.run(args, password);

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
      const bob = cli.stack.client('bob');
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
