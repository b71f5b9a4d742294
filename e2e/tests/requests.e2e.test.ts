import type { Page } from 'playwright-core';
import { describe, expect } from 'vitest';
import {
  conversationEntry,
  goTo,
  openConversation,
  openDirectChat,
  requestPanel,
  seeMessage,
  send,
  shot,
  signedUp,
  startDirectChat,
  test as it,
  waitForStatus,
} from './support/harness.js';

/** How long "never" is watched for: several presence pushes and receipt round trips. */
const QUIET_MS = 4000;

/**
 * The presence dot of the open conversation's title (role img, named online / last seen /
 * offline / presence unknown).
 * @param page the page
 * @returns the dot
 */
function titleDot(page: Page) {
  return page.locator('#conversation-title').getByRole('img');
}

/**
 * The status of one of my messages in the open conversation.
 * @param page the page
 * @param text the message
 * @returns its `data-status`
 */
async function statusOf(page: Page, text: string): Promise<string | null> {
  return page.locator('li.message-out', { hasText: text }).first().getAttribute('data-status');
}

/**
 * Must show (issue 15): a stranger's first message is a request; until I accept, the stranger
 * sees nothing of my presence, last seen, typing or reading; blocking stops their messages
 * quietly; turning read receipts off means the other side never sees "Read".
 */
describe('message requests, blocking and privacy', () => {
  it('when a stranger writes to me, then it is a request and they see nothing of me until I accept; after blocking, their messages never reach me', async ({
    browser,
  }) => {
    const me = await signedUp(browser, 'Bob');
    const stranger = await signedUp(browser, 'Mallory');
    await startDirectChat(stranger, me);
    await send(stranger.page, 'Hi, you won a prize');
    await waitForStatus(stranger.page, 'Hi, you won a prize', 'sent');

    // I see it apart from my chats, as a request.
    const requests = me.page.getByRole('region', { name: 'Message requests (1)' });
    await requests.getByRole('link', { name: new RegExp(`^${stranger.displayName}`) }).waitFor();
    await shot(me.page, 'requests-01-list');
    await openConversation(me.page, stranger.displayName, { request: 'keep' });
    await seeMessage(me.page, 'Hi, you won a prize');
    const panel = requestPanel(me.page);
    await panel.getByText(`@${stranger.username}`).waitFor();
    for (const name of ['Accept', 'Decline', 'Block', 'Report…']) {
      await panel.getByRole('button', { name }).waitFor();
    }
    // No composer until accepted, so no typing either.
    expect(await me.page.getByLabel('Message', { exact: true }).count()).toBe(0);
    await shot(me.page, 'requests-02-request-open');

    // The stranger: I am online with the request open, yet they see no presence, no last seen,
    // no typing, and their message never goes past "sent".
    await stranger.page.waitForTimeout(QUIET_MS);
    expect(await titleDot(stranger.page).getAttribute('aria-label')).toBe('presence unknown');
    expect(await stranger.page.getByTestId('typing-indicator').textContent()).toBe('');
    expect(await statusOf(stranger.page, 'Hi, you won a prize')).toBe('sent');
    await shot(stranger.page, 'requests-03-stranger-sees-nothing');

    // I accept: the composer appears, the stranger sees me online and their message read.
    await panel.getByRole('button', { name: 'Accept' }).click();
    await me.page.getByLabel('Message', { exact: true }).waitFor();
    expect(await me.page.getByRole('region', { name: /^Message requests/ }).count()).toBe(0);
    await stranger.page
      .locator('#conversation-title')
      .getByRole('img', { name: 'online' })
      .waitFor();
    await waitForStatus(stranger.page, 'Hi, you won a prize', 'read');
    await shot(stranger.page, 'requests-04-stranger-sees-online-after-accept');

    // I block them: their next message shows as sent on their side and never reaches me.
    await me.page.getByRole('button', { name: `Block ${stranger.displayName}` }).click();
    await me.page.getByRole('status').filter({ hasText: 'is blocked' }).waitFor();
    await send(stranger.page, 'Why did you block me?');
    await waitForStatus(stranger.page, 'Why did you block me?', 'sent');
    await me.page.waitForTimeout(QUIET_MS);
    expect(
      await me.page.locator('li.message-in', { hasText: 'Why did you block me?' }).count(),
    ).toBe(0);
    expect(await me.page.locator('li.message-in', { hasText: 'Hi, you won a prize' }).count()).toBe(
      1,
    );
    expect(await statusOf(stranger.page, 'Why did you block me?')).toBe('sent');
    // ...and they no longer see me online.
    await stranger.page
      .locator('#conversation-title')
      .getByRole('img', { name: /^(offline|presence unknown|last seen)/ })
      .waitFor();
    await shot(me.page, 'requests-05-blocked-message-never-arrives');

    // Settings lists them under Blocked people, with Unblock.
    await goTo(me.page, 'Settings');
    const blocked = me.page.getByRole('list', { name: 'Blocked people' });
    await blocked.getByRole('button', { name: `Unblock ${stranger.displayName}` }).waitFor();
    await shot(me.page, 'requests-06-blocked-people');
  });

  it('when I decline a request, then it leaves my list, and the stranger is not told', async ({
    browser,
  }) => {
    const me = await signedUp(browser, 'Bob');
    const stranger = await signedUp(browser, 'Mallory');
    await startDirectChat(stranger, me);
    await send(stranger.page, 'Please answer');
    await openConversation(me.page, stranger.displayName, { request: 'keep' });
    await requestPanel(me.page).getByRole('button', { name: 'Decline' }).click();
    await conversationEntry(me.page, stranger.displayName).waitFor({ state: 'detached' });
    await shot(me.page, 'requests-07-declined');

    // The stranger's next message is accepted by the server and never shows up for me.
    await send(stranger.page, 'Hello again');
    await waitForStatus(stranger.page, 'Hello again', 'sent');
    await me.page.waitForTimeout(QUIET_MS);
    expect(await conversationEntry(me.page, stranger.displayName).count()).toBe(0);
  });

  it('when I turn read receipts off in Settings, then the other side never sees "Read"', async ({
    browser,
  }) => {
    const alice = await signedUp(browser, 'Alice');
    const bob = await signedUp(browser, 'Bob');
    // Bob accepts Alice's chat; read receipts work at first.
    await openDirectChat(alice, bob, 'First message');
    await waitForStatus(alice.page, 'First message', 'read');

    await goTo(bob.page, 'Settings');
    const privacy = bob.page.getByRole('region', { name: 'Privacy' });
    const toggle = privacy.getByRole('switch', { name: 'Send read receipts' });
    expect(await toggle.isChecked()).toBe(true);
    await toggle.uncheck();
    await privacy.getByRole('status').filter({ hasText: 'Privacy settings saved.' }).waitFor();
    expect(await toggle.isChecked()).toBe(false);
    await shot(bob.page, 'requests-08-privacy-read-receipts-off');

    await openConversation(bob.page, alice.displayName);
    await send(alice.page, 'Did you read this?');
    await seeMessage(bob.page, 'Did you read this?');
    await waitForStatus(alice.page, 'Did you read this?', 'delivered');
    await alice.page.waitForTimeout(QUIET_MS);
    expect(await statusOf(alice.page, 'Did you read this?')).toBe('delivered');
    await shot(alice.page, 'requests-09-no-read-receipt');

    // The setting is kept on the server: after a reload it is still off.
    await bob.page.reload();
    await goTo(bob.page, 'Settings');
    await bob.page
      .getByRole('region', { name: 'Privacy' })
      .getByRole('switch', { name: 'Send read receipts' })
      .waitFor();
    expect(
      await bob.page
        .getByRole('region', { name: 'Privacy' })
        .getByRole('switch', { name: 'Send read receipts' })
        .isChecked(),
    ).toBe(false);
  });
});
