import { describe, expect, it } from 'vitest';
import type { StoredMessage } from '../src/messages/message.schema.js';
import { useCli } from './support/cli.js';
import { account, messageWith } from './support/stack.js';

/** chat-cli's `timer` command against the real services, with Bob on the SDK. */

const cli = useCli('chat-cli-timer');
const runCli = (args: string[], password: string) => cli.runOk(args, password);

describe('chat-cli timer', () => {
  it(
    'when Alice sets 1 hour from the terminal, then Bob gets the timer and the announcement end to end; a bad value is refused',
    { timeout: 120_000 },
    async () => {
      const a = account('alice');
      const bobInput = account('bob');
      const bob = cli.stack.client('bob');
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
