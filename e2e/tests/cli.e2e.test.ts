import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import {
  BASE_URL,
  openConversation,
  requestPanel,
  runId,
  seeMessage,
  send,
  shot,
  signedUp,
  test as it,
} from './support/harness.js';

/**
 * Issue 16, item 8: the terminal client does what the browsers do. Tom uses `chat-cli` (the
 * built one, through nginx, `--json` for the test to read); Alice uses the web client. Every
 * command Tom runs (send, reply, react, edit, delete, timer) shows in Alice's browser.
 */

// The installed `chat-cli` bin of the workspace (it runs the built CLI in dist/).
const cli = path.resolve(
  path.dirname(createRequire(import.meta.url).resolve('@cipherchat/client')),
  '../bin/chat-cli.js',
);

interface Terminal {
  run(args: string[]): Promise<Record<string, unknown>>;
  /** Starts `listen --json`; lines are collected until `stop`. */
  listen(): { lines: Record<string, unknown>[]; stop(): Promise<void> };
}

function terminal(stateDir: string, email: string, password: string): Terminal {
  const spawnCli = (args: string[]): ChildProcessWithoutNullStreams =>
    spawn(
      process.execPath,
      [cli, ...args, '--json', '--server', BASE_URL, '--email', email, '--state-dir', stateDir],
      {
        env: { ...process.env, CHAT_PASSWORD: password },
      },
    );
  const collect = (child: ChildProcessWithoutNullStreams, lines: Record<string, unknown>[]) => {
    let buffer = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const line of parts)
        if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    return new Promise<string>((resolve, reject) =>
      child.on('close', (code) =>
        code === 0 ? resolve(err) : reject(new Error(`chat-cli ${code}: ${err}`)),
      ),
    );
  };
  return {
    async run(args) {
      const lines: Record<string, unknown>[] = [];
      await collect(spawnCli(args), lines);
      expect(lines, `output of chat-cli ${args[0]}`).toHaveLength(1);
      return lines[0]!;
    },
    listen() {
      const lines: Record<string, unknown>[] = [];
      const child = spawnCli(['listen']);
      const done = collect(child, lines);
      return {
        lines,
        stop: async () => {
          child.kill('SIGTERM');
          await done;
        },
      };
    },
  };
}

describe('chat-cli against a browser', () => {
  it('when Tom sends, replies, reacts, edits, deletes and sets a timer from the terminal, then Alice sees each in her browser', async ({
    browser,
  }) => {
    const alice = await signedUp(browser, 'Alice');
    const stateDir = await mkdtemp(path.join(tmpdir(), 'e2e-chat-cli-'));
    const tag = `${runId}_${randomBytes(2).toString('hex')}`;
    const tom = {
      email: `tom-${tag}@example.test`,
      username: `tom_${tag}`,
      displayName: `Tom ${tag.replace('_', '')}`,
    };
    const t = terminal(stateDir, tom.email, `pw-${randomBytes(12).toString('hex')}`);
    try {
      await t.run(['signup', '--username', tom.username, '--display-name', tom.displayName]);
      const first = (await t.run(['send', alice.username, 'Hello from the terminal'])).message as {
        id: string;
        conversationId: string;
      };
      const conv = first.conversationId;

      // A stranger's first message is a request: Alice accepts it, then answers.
      await openConversation(alice.page, tom.displayName, { request: 'keep' });
      await requestPanel(alice.page).getByRole('button', { name: 'Accept' }).click();
      await seeMessage(alice.page, 'Hello from the terminal');
      const listening = t.listen();
      await expect
        .poll(() => listening.lines.some((l) => l.type === 'listening'), { timeout: 30_000 })
        .toBe(true);
      await send(alice.page, 'Which commands do you have?');
      await expect
        .poll(
          () =>
            listening.lines.find(
              (l) =>
                l.type === 'message' &&
                (l.message as { text?: string }).text === 'Which commands do you have?',
            ),
          { timeout: 30_000 },
        )
        .toBeTruthy();
      const question = listening.lines.find(
        (l) =>
          l.type === 'message' &&
          (l.message as { text?: string }).text === 'Which commands do you have?',
      )!.message as { id: string };
      await listening.stop();

      // reply: the quote of Alice's question, in her browser
      const reply = (
        await t.run(['reply', conv, question.id, 'reply, react, edit, delete and timer'])
      ).message as { id: string };
      const replyBubble = alice.page.locator('li.message-in', {
        hasText: 'reply, react, edit, delete and timer',
      });
      await replyBubble
        .getByTestId('reply-quote')
        .filter({ hasText: 'Which commands do you have?' })
        .waitFor();
      // react: a chip under her question, with Tom's name
      await t.run(['react', conv, question.id, '👍']);
      const chip = alice.page
        .locator('li.message-out', { hasText: 'Which commands do you have?' })
        .locator('.reaction-chip');
      await chip.filter({ hasText: '👍' }).waitFor();
      expect(await chip.getAttribute('aria-label')).toBe(`👍 1: ${tom.displayName}`);
      // edit: the new text with the "edited" marker
      await t.run(['edit', conv, first.id, 'Hello from the terminal, edited']);
      const edited = alice.page.locator('li.message-in', {
        hasText: 'Hello from the terminal, edited',
      });
      await edited.getByRole('button', { name: 'edited' }).waitFor();
      // timer: announced in the chat and shown in the header
      await t.run(['timer', alice.username, '1h']);
      await alice.page.getByTestId('disappearing-badge').filter({ hasText: '1h' }).waitFor();
      await shot(alice.page, 'i16-cli-before-delete');
      // delete for everyone: the reply becomes a tombstone
      await t.run(['delete', conv, reply.id]);
      await alice.page.getByTestId('message-deleted').waitFor();
      expect(await replyBubble.count()).toBe(0);
      await shot(alice.page, 'i16-cli-after-delete');
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
