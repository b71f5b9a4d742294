import { randomBytes } from 'node:crypto';
import { describe, expect } from 'vitest';
import {
  conversationEntry,
  createGroup,
  goTo,
  openConversation,
  seeMessage,
  send,
  shot,
  signedUp,
  test as it,
} from './support/harness.js';

/**
 * Issue 16, items 2 and 5 in two browsers: a reply quotes its original (and jumps to it), `@`
 * offers the group's members, a mention is highlighted, and a muted group counts only the
 * messages that mention me.
 */
describe('replies and mentions', () => {
  it('when Bob mutes a group, Alice mentions him and he replies to her question, then only the mention counts and the quote leads back to the original', async ({
    browser,
  }) => {
    const title = `Lunch ${randomBytes(3).toString('hex')}`;
    const alice = await signedUp(browser, 'Alice');
    const bob = await signedUp(browser, 'Bob');
    await createGroup(alice, title, [bob]);
    await send(alice.page, 'Where shall we eat on Friday?');
    await openConversation(bob.page, title);
    await seeMessage(bob.page, 'Where shall we eat on Friday?');

    // Bob mutes the group (this browser only) and goes back to his list.
    await bob.page.getByRole('button', { name: 'Mute' }).click();
    await bob.page.getByRole('button', { name: 'Unmute' }).waitFor();
    await goTo(bob.page, 'Chats');
    const entry = conversationEntry(bob.page, title);
    await entry.getByText('Muted').waitFor();

    // A message without a mention changes the preview but not the (muted) count.
    await send(alice.page, 'Anyone around?');
    await entry.getByText('Anyone around?').waitFor();
    expect(await entry.getByTestId('unread-count').count()).toBe(0);

    // Alice types @ and the start of Bob's name: the members are offered; Enter picks.
    const box = alice.page.getByLabel('Message', { exact: true });
    await box.fill('');
    await box.pressSequentially(`@${bob.username.slice(0, 2)}`);
    const option = alice.page.getByRole('option', { name: new RegExp(bob.displayName) });
    await option.waitFor();
    await shot(alice.page, 'i16-mention-autocomplete');
    await box.press('Enter');
    expect(await box.inputValue()).toBe(`@${bob.username} `);
    await box.pressSequentially('are you in?');
    await box.press('Enter');
    await alice.page.locator('li.message-out', { hasText: 'are you in?' }).waitFor();
    await alice.page.locator('li.message-out .mention', { hasText: `@${bob.username}` }).waitFor();

    // The mention counts in Bob's muted group.
    await expect.poll(() => entry.getByTestId('unread-count').textContent()).toBe('1');
    await shot(bob.page, 'i16-muted-group-mention-counts');

    // Bob opens it: the mention of him is highlighted; he replies to Alice's question.
    await entry.click();
    const mention = await seeMessage(bob.page, 'are you in?');
    expect(await mention.getByTestId('mention-me').textContent()).toBe(`@${bob.username}`);
    const question = bob.page.locator('li.message-in', {
      hasText: 'Where shall we eat on Friday?',
    });
    await question.hover();
    await question.getByRole('button', { name: 'Reply' }).click();
    await bob.page.getByTestId('reply-box').getByText('Where shall we eat on Friday?').waitFor();
    await bob.page.getByLabel('Message', { exact: true }).fill('The usual place, 12:30');
    await shot(bob.page, 'i16-reply-compose');
    await bob.page.getByLabel('Message', { exact: true }).press('Enter');
    await bob.page.locator('li.message-out', { hasText: 'The usual place' }).waitFor();
    expect(await bob.page.getByTestId('reply-box').count()).toBe(0);

    // Alice sees the quote in the reply; activating it scrolls to and highlights the original.
    const answer = await seeMessage(alice.page, 'The usual place, 12:30');
    const quote = answer.getByTestId('reply-quote');
    expect(await quote.textContent()).toBe('YouWhere shall we eat on Friday?');
    await quote.focus();
    await alice.page.keyboard.press('Enter');
    await alice.page
      .locator('li.message-out.highlight', { hasText: 'Where shall we eat on Friday?' })
      .waitFor();
    await shot(alice.page, 'i16-reply-jump-to-original');
  });
});
