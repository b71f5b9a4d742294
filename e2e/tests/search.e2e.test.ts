import { describe, expect } from 'vitest';
import type { Page } from 'playwright-core';
import { chattingPair, goTo, seeMessage, send, shot, test as it } from './support/harness.js';

/** Bob searches from the chats list and the result is the only hit. */
async function searchFor(page: Page, text: string) {
  await goTo(page, 'Chats');
  const field = page.getByRole('searchbox', { name: 'Search messages' });
  await field.fill(text);
  return page.getByRole('list', { name: 'Search results' }).getByTestId('search-hit');
}

/** The chat opened from a search result has that message focused (scrolled to and highlighted). */
async function focusedMessage(page: Page): Promise<string> {
  return page.evaluate(
    () => document.activeElement?.closest('[data-message-id]')?.textContent ?? '',
  );
}

/**
 * Issue 18, item 3: a local encrypted search finds a message by a substring, without its accents,
 * and by a Japanese phrase; a result opens the chat at the message.
 */
describe('searching messages on this device', () => {
  it('when Bob searches for a word without its accent or for part of a Japanese sentence, then he finds Alice’s message and a result opens the chat at it', async ({
    browser,
  }) => {
    const { alice, bob } = await chattingPair(browser, 'Hi Bob');
    await send(alice.page, 'The little café near the station opens at eight');
    await send(alice.page, '明日は東京タワーに行きます');
    for (let i = 1; i <= 12; i++) await send(alice.page, `filler message number ${i}`);
    await seeMessage(bob.page, 'filler message number 12');

    const accentless = await searchFor(bob.page, 'CAFE NEAR');
    await expect.poll(() => accentless.count()).toBe(1);
    await expect.poll(() => accentless.first().locator('mark').textContent()).toBe('café near');
    await shot(bob.page, 'i18-search-results');
    await accentless.first().click();
    await bob.page.locator('#conversation-title', { hasText: alice.displayName }).waitFor();
    await expect.poll(() => focusedMessage(bob.page)).toContain('The little café near the station');
    expect(new URL(bob.page.url()).pathname).toMatch(/^\/chats\/[^/]+$/);

    // The list shows the last query's results until the new one answers: wait for this one's.
    const japanese = await searchFor(bob.page, '東京タワー');
    await expect.poll(() => japanese.first().locator('mark').textContent()).toBe('東京タワー');
    expect(await japanese.count()).toBe(1);
    await japanese.first().click();
    await expect.poll(() => focusedMessage(bob.page)).toContain('明日は東京タワーに行きます');

    await searchFor(bob.page, 'tower of pisa');
    await bob.page.getByText('No messages found.').waitFor();
  });
});
