import { randomBytes } from 'node:crypto';
import { ChatClient } from '@cipherchat/client';
import { sendRawPlaintext } from '@cipherchat/client/testing';
import { describe, expect } from 'vitest';
import {
  BASE_URL,
  openConversation,
  runId,
  seeMessage,
  shot,
  signedUp,
  test as it,
  waitForResume,
} from './support/harness.js';

/**
 * Issue 16, item 1: an older client keeps and shows a newer message. A newer app (the SDK in
 * Node, against the same stack through nginx) sends a `poll`, a kind this web client does not
 * know; the browser shows it as "needs a newer version" with the sender's fallback text, and
 * still has it after a reload.
 */
describe('a message of a newer kind', () => {
  it('when a newer app sends a poll, then the browser shows it with its fallback text instead of dropping it, also after a reload', async ({
    browser,
  }) => {
    const bob = await signedUp(browser, 'Bob');
    const tag = `${runId}_${randomBytes(2).toString('hex')}`;
    const nia = {
      email: `nia-${tag}@example.test`,
      username: `nia_${tag}`,
      displayName: `Nia ${tag.replace('_', '')}`,
      password: `pw-${randomBytes(12).toString('hex')}`,
    };
    const newer = new ChatClient({ baseUrl: BASE_URL, deviceName: 'newer app' });
    try {
      await newer.signUp(nia);
      const bobUser = await newer.findUser(bob.username);
      expect(bobUser?.username).toBe(bob.username);
      const direct = await newer.createConversation({ kind: 'direct', memberIds: [bobUser!.id] });
      await newer.sendText(direct.id, 'Hi Bob, I use a newer app');
      const fallback = 'Poll: Lunch on Friday? Pizza / Sushi';
      await sendRawPlaintext(newer, direct.id, {
        kind: 'poll',
        fallback,
        poll: { question: 'Lunch on Friday?', options: ['Pizza', 'Sushi'] },
      });
      await newer.sendText(direct.id, 'Did my poll arrive?');

      await openConversation(bob.page, nia.displayName);
      await seeMessage(bob.page, 'Did my poll arrive?');
      const notice = bob.page.getByTestId('message-newer');
      await notice.waitFor();
      expect(await notice.textContent()).toBe(
        `This message needs a newer version of CipherChat. ${fallback}`,
      );
      // In order, between the two texts; nothing dropped.
      const texts = await bob.page
        .locator('li.message-in')
        .locator('.message-text, [data-testid="message-newer"]')
        .allTextContents();
      expect(texts).toEqual([
        'Hi Bob, I use a newer app',
        `This message needs a newer version of CipherChat. ${fallback}`,
        'Did my poll arrive?',
      ]);
      await shot(bob.page, 'i16-newer-kind-shown');

      await bob.page.reload();
      await waitForResume(bob);
      await openConversation(bob.page, nia.displayName);
      await seeMessage(bob.page, 'Did my poll arrive?');
      expect(await bob.page.getByTestId('message-newer').textContent()).toBe(
        `This message needs a newer version of CipherChat. ${fallback}`,
      );
      await shot(bob.page, 'i16-newer-kind-after-reload');
    } finally {
      await newer.logOut().catch(() => undefined);
    }
  });
});
