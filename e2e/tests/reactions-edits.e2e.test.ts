import { readFileSync } from 'node:fs';
import type { Locator, Page } from 'playwright-core';
import { describe, expect } from 'vitest';
import { serverQuery, userIdOf } from './support/database.js';
import {
  chattingPair,
  inNewBrowser,
  logIn,
  openConversation,
  seeMessage,
  send,
  shot,
  test as it,
  waitForResume,
} from './support/harness.js';

/** A small real PNG to send and then delete for everyone. */
const LOGO_PNG = readFileSync(new URL('../../web-client/public/logo.png', import.meta.url));

/** The bubble of the message with this text. */
function bubble(page: Page, text: string): Locator {
  return page.locator('li.message', { hasText: text });
}

/** The bubble of the image attachment with this file name. */
function imageBubble(page: Page, fileName: string): Locator {
  return page.locator('li.message', { has: page.locator(`img[alt="${fileName}"]`) });
}

/** Opens a message's "…" menu (with a screenshot when named) and picks an item. */
async function fromMenu(
  page: Page,
  message: string | Locator,
  item: string | RegExp,
  screenshot?: string,
): Promise<void> {
  const b = typeof message === 'string' ? bubble(page, message) : message;
  await b.hover();
  await b.getByRole('button', { name: 'Message actions' }).click();
  if (screenshot) await shot(page, screenshot);
  await b.getByRole('menu').getByRole('menuitem', { name: item }).click();
}

/**
 * Must show: Bob reacts and Alice sees who; Alice edits (Bob sees the text, the "edited" marker
 * and the history) and deletes for everyone (Bob sees the tombstone; the blob is gone from the
 * server); delete for me stays in one browser; and Bob's second browser, closed meanwhile,
 * shows all of it when it is opened again.
 */
describe('reactions, edits and deletes', () => {
  it('when Bob reacts and Alice edits and deletes while Bob’s other browser is closed, then both browsers show the changes, the deleted image is gone from the server, and the other browser catches up when reopened', async ({
    browser,
  }) => {
    const { alice, bob } = await chattingPair(browser, 'Hello Bob');
    // Bob's second browser: linked now, so it gets everything that follows; then closed.
    const bobTablet = await inNewBrowser(bob, browser);
    await logIn(bobTablet);
    await send(alice.page, 'Lunch at 12?');
    await seeMessage(bob.page, 'Lunch at 12?');
    await openConversation(bobTablet.page, alice.displayName);
    await seeMessage(bobTablet.page, 'Lunch at 12?');
    await alice.page
      .getByLabel('Attach a file')
      .setInputFiles({ name: 'menu.png', mimeType: 'image/png', buffer: LOGO_PNG });
    await bob.page.locator('li.message-in img[alt="menu.png"]').waitFor();
    await bobTablet.page.locator('li.message-in img[alt="menu.png"]').waitFor();
    await bobTablet.page.close();

    // Bob reacts with the default set; Alice sees the chip with its count and who reacted.
    await fromMenu(bob.page, 'Lunch at 12?', 'React 👍', 'reactions-00-actions-menu');
    const chip = bubble(alice.page, 'Lunch at 12?').locator('.reaction-chip');
    await chip.filter({ hasText: '👍' }).filter({ hasText: '1' }).waitFor();
    expect(await chip.getAttribute('aria-label')).toBe(`👍 1: ${bob.displayName}`);
    await chip.hover();
    await chip.getByRole('tooltip').filter({ hasText: bob.displayName }).waitFor();
    await shot(alice.page, 'reactions-01-chip-with-who');
    // Alice adds her own (any emoji), then takes it back by clicking her chip.
    await fromMenu(alice.page, 'Lunch at 12?', 'React 😂');
    const mine = bubble(alice.page, 'Lunch at 12?').locator('.reaction-mine');
    await mine.filter({ hasText: '😂' }).waitFor();
    await bubble(bob.page, 'Lunch at 12?').locator('.reaction-chip', { hasText: '😂' }).waitFor();
    await mine.click();
    await bubble(bob.page, 'Lunch at 12?')
      .locator('.reaction-chip', { hasText: '😂' })
      .waitFor({ state: 'detached' });

    // Alice edits inline (Enter saves); Bob sees the new text, the marker and the history.
    await fromMenu(alice.page, 'Lunch at 12?', 'Edit');
    const editor = alice.page.getByLabel('Edit message');
    await editor.fill('Lunch at 1?');
    await editor.press('Enter');
    const edited = bubble(bob.page, 'Lunch at 1?');
    await edited.getByRole('button', { name: 'edited' }).click();
    await edited.getByRole('list', { name: 'Edit history' }).getByText('Lunch at 12?').waitFor();
    expect(await edited.locator('.message-text').textContent()).toBe('Lunch at 1?');
    await shot(bob.page, 'reactions-02-edited-with-history');

    // Alice deletes the image for everyone, after confirming; Bob sees the tombstone.
    const [uploaded] = await serverQuery<{ id: string }>(
      'SELECT id FROM chat.attachments WHERE owner_user = $1',
      [await userIdOf(alice.username)],
    );
    expect(uploaded).toBeDefined();
    const before = await bob.page.evaluate(
      async (id) => (await fetch(`/api/chat/attachments/${id}`)).status,
      uploaded?.id,
    );
    expect(before).toBe(200);
    await fromMenu(alice.page, imageBubble(alice.page, 'menu.png'), 'Delete for everyone');
    await alice.page
      .getByRole('dialog', { name: 'Delete for everyone?' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await bob.page
      .getByTestId('message-deleted')
      .filter({ hasText: 'This message was deleted' })
      .waitFor();
    await bob.page.locator('img[alt="menu.png"]').waitFor({ state: 'detached' });
    await shot(bob.page, 'reactions-03-tombstone');
    const after = await bob.page.evaluate(
      async (id) => (await fetch(`/api/chat/attachments/${id}`)).status,
      uploaded?.id,
    );
    expect(after).toBe(404);

    // Delete for me: gone from Alice's browser only.
    await send(alice.page, 'Just between my browsers');
    await seeMessage(bob.page, 'Just between my browsers');
    await fromMenu(alice.page, 'Just between my browsers', 'Delete for me');
    await alice.page
      .getByRole('dialog', { name: 'Delete for me?' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await bubble(alice.page, 'Just between my browsers').waitFor({ state: 'detached' });
    await seeMessage(bob.page, 'Just between my browsers');

    // Bob's other browser opens again: the reaction, the edit and the delete are there.
    bobTablet.page = await bobTablet.context.newPage();
    await bobTablet.page.goto('/');
    await waitForResume(bobTablet);
    await openConversation(bobTablet.page, alice.displayName);
    const caughtUp = bubble(bobTablet.page, 'Lunch at 1?');
    await caughtUp.getByRole('button', { name: 'edited' }).waitFor();
    await caughtUp.locator('.reaction-chip', { hasText: '👍' }).waitFor();
    expect(await caughtUp.locator('.reaction-chip').getAttribute('aria-pressed')).toBe('true');
    await bobTablet.page.getByTestId('message-deleted').waitFor();
    expect(await bobTablet.page.locator('img[alt="menu.png"]').count()).toBe(0);
    expect(await bobTablet.page.locator('li.message', { hasText: 'Lunch at 12?' }).count()).toBe(0);
    await shot(bobTablet.page, 'reactions-04-offline-browser-caught-up');
  });
});
