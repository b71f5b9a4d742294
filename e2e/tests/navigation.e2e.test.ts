import { describe, expect } from 'vitest';
import {
  chattingPair,
  goTo,
  inNewBrowser,
  logIn,
  openConversation,
  reachApp,
  seeMessage,
  send,
  shot,
  signedUp,
  test as it,
  waitForResume,
} from './support/harness.js';
import type { Page } from 'playwright-core';

/** The path of the page's address. */
const pathOf = (page: Page) => new URL(page.url()).pathname;

/**
 * Every screen has its own address: the browser's Back and Forward move between them, and a
 * deep link (typed, bookmarked, or reloaded) opens the screen it names, also after logging in.
 */
describe('navigation by address', () => {
  it('when Alice opens a chat, then Back returns to the list at /chats and Forward reopens the chat', async ({
    browser,
  }) => {
    const { alice, bob } = await chattingPair(browser, 'Back and forth, Bob', 'Got it');
    const { page } = alice;
    await goTo(page, 'Chats');
    await page.waitForURL((u) => u.pathname === '/chats');
    await openConversation(page, bob.displayName);
    expect(pathOf(page)).toMatch(/^\/chats\/[0-9a-f-]{36}$/);
    const chatPath = pathOf(page);
    await seeMessage(page, 'Got it');

    await page.goBack();
    await page.waitForURL((u) => u.pathname === '/chats');
    await page.getByText('Pick a conversation, or start one from People.').waitFor();
    expect(await page.locator('#conversation-title').count()).toBe(0);
    await shot(page, 'i17-route-back-to-list');

    await page.goForward();
    await page.waitForURL((u) => u.pathname === chatPath);
    await page.locator('#conversation-title', { hasText: bob.displayName }).waitFor();
    await seeMessage(page, 'Got it');

    // The other sections have their own addresses too, and Back walks through them.
    await goTo(page, 'Settings');
    await page.waitForURL((u) => u.pathname === '/settings');
    await goTo(page, 'Devices');
    await page.waitForURL((u) => u.pathname === '/devices');
    await page.goBack();
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    expect(pathOf(page)).toBe('/settings');
  });

  it('when Alice reloads an open chat, then the same chat is open again with its messages', async ({
    browser,
  }) => {
    const { alice, bob } = await chattingPair(browser, 'Still here after a reload?', 'Yes');
    const { page } = alice;
    await seeMessage(page, 'Yes');
    const chatPath = pathOf(page);
    expect(chatPath).toMatch(/^\/chats\/[0-9a-f-]{36}$/);
    await page.reload();
    await waitForResume(alice);
    expect(pathOf(page)).toBe(chatPath);
    await page.locator('#conversation-title', { hasText: bob.displayName }).waitFor();
    await seeMessage(page, 'Yes');
    await seeMessage(page, 'Still here after a reload?', 'out');
    await shot(page, 'i17-route-reloaded-chat');
  });

  it('when Bob opens a link to a chat while signed out, then after logging in he lands on that chat', async ({
    browser,
  }) => {
    const { alice, bob } = await chattingPair(browser, 'Open me from a link', 'Opened');
    const chatPath = pathOf(bob.page);
    expect(chatPath).toMatch(/^\/chats\/[0-9a-f-]{36}$/);

    // A new browser, signed out, opens the link: the log-in page shows at that address.
    const bobElsewhere = await inNewBrowser(bob, browser);
    await bobElsewhere.page.goto(chatPath);
    await bobElsewhere.page.getByRole('tab', { name: 'Log in' }).waitFor();
    expect(pathOf(bobElsewhere.page)).toBe(chatPath);
    await shot(bobElsewhere.page, 'i17-route-deep-link-signed-out');
    await logIn(bobElsewhere);
    expect(pathOf(bobElsewhere.page)).toBe(chatPath);
    await bobElsewhere.page
      .locator('#conversation-title', { hasText: alice.displayName })
      .waitFor();

    // It is the live chat: what Alice writes next shows there.
    await send(alice.page, 'Welcome on your new browser');
    await seeMessage(bobElsewhere.page, 'Welcome on your new browser');
    await shot(bobElsewhere.page, 'i17-route-deep-link-after-login');
  });

  it('when an address is no screen, then "Page not found" links back to the chats; a missing asset stays a 404', async ({
    browser,
  }) => {
    const alice = await signedUp(browser, 'Alice');
    const { page } = alice;
    await page.goto('/no/such/screen');
    await reachApp(page);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await shot(page, 'i17-route-not-found');
    await page.getByRole('link', { name: 'Go to your chats' }).click();
    await page.waitForURL((u) => u.pathname === '/chats');
    await page.goto('/');
    await page.waitForURL((u) => u.pathname === '/chats');

    const asset = await page.request.get('/assets/no-such-file.js');
    expect(asset.status()).toBe(404);
    const deep = await page.request.get('/chats/00000000-0000-4000-8000-000000000000');
    expect(deep.status()).toBe(200);
    expect(await deep.text()).toContain('<div id="root">');
  });
});
