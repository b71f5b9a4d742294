import { randomBytes } from 'node:crypto';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { describe, expect } from 'vitest';
import {
  BASE_URL,
  conversationEntry,
  createGroup,
  goTo,
  newPerson,
  openConversation,
  reachApp,
  seeMessage,
  send,
  shot,
  signUp,
  signedUp,
  startDirectChat,
  test as it,
} from './support/harness.js';
import type { Person } from './support/harness.js';

/**
 * Watches the page's notifications without replacing what the app calls: `Notification` stays
 * the browser's own constructor (a subclass that calls it and then notes what was shown,
 * whether the browser fired `show`, and `close`). Notifications a service worker shows are
 * read back with `registration.getNotifications()` instead.
 */
const RECORD_NOTIFICATIONS = `(() => {
  window.__shown = [];
  window.__shownObjects = [];
  const Real = window.Notification;
  if (!Real) return;
  window.Notification = class extends Real {
    constructor(title, options) {
      super(title, options);
      const entry = {
        title,
        body: (options && options.body) || '',
        tag: (options && options.tag) || '',
        data: (options && options.data) || null,
        shown: false,
        closed: false,
      };
      window.__shown.push(entry);
      window.__shownObjects.push(this);
      this.addEventListener('show', () => { entry.shown = true; });
      this.addEventListener('close', () => { entry.closed = true; });
    }
  };
})();`;

/** A notification as the test reads it back. */
interface Shown {
  title: string;
  body: string;
  tag: string;
  data: { conversationId?: string } | null;
  /** The browser displayed it (page notifications: its `show` event; service worker: listed). */
  shown: boolean;
  closed: boolean;
}

/**
 * Every notification the app showed in this page, in order (page ones, then service worker ones).
 * @param page the page
 * @returns the notifications
 */
function notificationsOf(page: Page): Promise<Shown[]> {
  return page.evaluate(async () => {
    const own = (window as unknown as { __shown?: Shown[] }).__shown ?? [];
    const reg = await navigator.serviceWorker?.getRegistration();
    const fromWorker = reg
      ? (await reg.getNotifications()).map((n) => ({
          title: n.title,
          body: n.body,
          tag: n.tag,
          data: n.data as Shown['data'],
          shown: true,
          closed: false,
        }))
      : [];
    return [...own.map((n) => ({ ...n })), ...fromWorker];
  });
}

/**
 * Waits for a notification whose body is `body`.
 * @param page the page
 * @param body the expected body
 * @returns it, with all notifications shown so far
 */
async function waitForNotification(page: Page, body: string): Promise<{ it: Shown; all: Shown[] }> {
  await expect
    .poll(async () => (await notificationsOf(page)).some((n) => n.body === body && n.shown), {
      timeout: 30_000,
    })
    .toBe(true);
  const all = await notificationsOf(page);
  return { it: all.filter((n) => n.body === body).at(-1)!, all };
}

/**
 * "Clicks" the latest page notification: its own click event (what the browser fires when the
 * person clicks it). A service worker's notification is clicked in the worker, which posts
 * `openConversation` to the page: that message is sent instead.
 * @param page the page
 * @param conversationId the notification's conversation
 */
async function clickNotification(page: Page, conversationId: string): Promise<void> {
  await page.evaluate((id) => {
    const objects = (window as unknown as { __shownObjects?: Notification[] }).__shownObjects;
    const latest = objects?.at(-1);
    if (latest) latest.dispatchEvent(new Event('click'));
    else
      navigator.serviceWorker.dispatchEvent(
        new MessageEvent('message', { data: { type: 'openConversation', conversationId: id } }),
      );
  }, conversationId);
}

/**
 * Bob's tab in the background: another tab of his browser in front, and his page no longer
 * pretending to have the focus (Playwright emulates focus for every page by default), so
 * `document.hasFocus()` is false there as it is for a tab behind another window.
 */
class Background {
  private constructor(
    private readonly person: Person,
    private readonly cdp: CDPSession,
    readonly otherTab: Page,
  ) {}

  static async of(person: Person): Promise<Background> {
    const cdp = await person.context.newCDPSession(person.page);
    const otherTab = await person.context.newPage();
    await otherTab.setContent('<title>Another tab</title><p>Something else</p>');
    return new Background(person, cdp, otherTab);
  }

  /** Sends the person's CipherChat tab to the background. */
  async enter(): Promise<void> {
    await this.otherTab.bringToFront();
    await this.cdp.send('Emulation.setFocusEmulationEnabled', { enabled: false });
    await expect.poll(() => this.person.page.evaluate(() => document.hasFocus())).toBe(false);
  }

  /** Brings it back in front. */
  async leave(): Promise<void> {
    await this.person.page.bringToFront();
    await this.cdp.send('Emulation.setFocusEmulationEnabled', { enabled: true });
    await expect.poll(() => this.person.page.evaluate(() => document.hasFocus())).toBe(true);
  }
}

/**
 * Someone who signs up in a browser that allows CipherChat's notifications (as after "Allow"
 * in the browser's prompt), with the notifications watched ({@link RECORD_NOTIFICATIONS}).
 * @param browser the browser
 * @param name first name
 * @returns the person, in the app
 */
async function signedUpWithNotifications(browser: Browser, name: string): Promise<Person> {
  const p = await newPerson(browser, name);
  await p.context.grantPermissions(['notifications'], { origin: BASE_URL });
  await p.context.addInitScript({ content: RECORD_NOTIFICATIONS });
  await p.page.reload();
  await signUp(p);
  return p;
}

/** The favicon's address. */
function favicon(page: Page): Promise<string | null> {
  return page.locator('link[rel="icon"]').getAttribute('href');
}

/**
 * Turns "Show name and message in notifications" on in Settings, then back to the chat list.
 * @param page the page
 */
async function turnPreviewsOn(page: Page, screenshot?: string): Promise<void> {
  await goTo(page, 'Settings');
  const previews = page.getByRole('switch', { name: 'Show name and message in notifications' });
  expect(await previews.isChecked()).toBe(false);
  await previews.check();
  expect(await page.getByRole('switch', { name: 'Show notifications' }).isChecked()).toBe(true);
  if (screenshot) {
    await page.getByTestId('notification-settings').scrollIntoViewIfNeeded();
    await shot(page, screenshot);
  }
  await goTo(page, 'Chats');
}

describe('notifications', () => {
  it('when the browser has not decided, then the chats screen asks (not the page load) and "Not now" is remembered', async ({
    browser,
  }) => {
    // Alice's browser has not decided: the chats screen asks, never the page load by itself.
    const alice = await signedUp(browser, 'Alice');
    const prompt = alice.page.getByTestId('notify-prompt');
    await prompt.getByText('Get notified of new messages?').waitFor();
    await shot(alice.page, 'i17-notify-prompt');
    await prompt.getByRole('button', { name: 'Not now' }).click();
    await prompt.waitFor({ state: 'detached' });
    await alice.page.reload();
    await reachApp(alice.page);
    await alice.page.getByRole('navigation', { name: 'Conversations' }).waitFor();
    expect(await prompt.count()).toBe(0);
  });

  it("when Bob's tab is in the background, Alice's message notifies him without its content and counts in the title and favicon; with previews on it names her and the text; the click opens the chat", async ({
    browser,
  }) => {
    const alice = await signedUp(browser, 'Alice');
    const bob = await signedUpWithNotifications(browser, 'Bob');
    expect(await bob.page.getByTestId('notify-prompt').count()).toBe(0);
    await startDirectChat(alice, bob);
    await send(alice.page, 'Hello Bob');
    await openConversation(bob.page, alice.displayName);
    await seeMessage(bob.page, 'Hello Bob');
    await goTo(bob.page, 'Chats');
    expect(await bob.page.title()).toBe('CipherChat');
    expect(await notificationsOf(bob.page)).toEqual([]);

    const away = await Background.of(bob);
    await away.enter();
    await send(alice.page, 'Secret plans for Friday');
    const first = await waitForNotification(bob.page, 'New message');
    expect(first.it.title).toBe('CipherChat');
    expect(first.it.tag).toMatch(/^conversation:/);
    expect(JSON.stringify(first.all)).not.toContain('Secret');
    expect(JSON.stringify(first.all)).not.toContain(alice.displayName);
    await expect.poll(() => bob.page.title()).toBe('(1) CipherChat');
    await expect.poll(() => favicon(bob.page)).toMatch(/^data:image\/png;base64,/);
    const icon = (await favicon(bob.page))!;
    await away.otherTab.setContent(
      `<title>Another tab</title><p>Bob's CipherChat tab: ${await bob.page.title()}</p><img alt="favicon" width="128" height="128" src="${icon}">`,
    );
    await shot(away.otherTab, 'i17-notify-favicon-badge');
    await shot(bob.page, 'i17-notify-unread-in-background');

    // Previews on: the next one names Alice and shows the text, replacing the first.
    await away.leave();
    await turnPreviewsOn(bob.page, 'i17-notify-settings');
    await away.enter();
    await send(alice.page, 'Lunch at 12:30?');
    const second = await waitForNotification(bob.page, 'Lunch at 12:30?');
    expect(second.it.title).toBe(alice.displayName);
    expect(second.it.tag).toBe(first.it.tag);
    await expect.poll(() => bob.page.title()).toBe('(2) CipherChat');

    // The click brings the tab forward with the chat open; reading it clears the count and
    // closes the notification.
    await clickNotification(bob.page, second.it.data?.conversationId ?? '');
    await away.leave();
    await bob.page.locator('#conversation-title', { hasText: alice.displayName }).waitFor();
    await seeMessage(bob.page, 'Lunch at 12:30?');
    await expect.poll(() => bob.page.title()).toBe('CipherChat');
    await expect.poll(() => favicon(bob.page)).toBe('/logo.png');
    await expect
      .poll(async () => (await notificationsOf(bob.page)).filter((n) => !n.closed).length)
      .toBe(0);
    await shot(bob.page, 'i17-notify-opened-from-notification');
  });

  it('when Bob has muted a group, then a plain message there does not notify him and a mention of him does', async ({
    browser,
  }) => {
    const title = `Lunch ${randomBytes(3).toString('hex')}`;
    const alice = await signedUp(browser, 'Alice');
    const bob = await signedUpWithNotifications(browser, 'Bob');
    await createGroup(alice, title, [bob]);
    await send(alice.page, 'Welcome to the group');
    await openConversation(bob.page, title);
    await seeMessage(bob.page, 'Welcome to the group');
    await bob.page.getByRole('button', { name: 'Mute' }).click();
    await bob.page.getByRole('button', { name: 'Unmute' }).waitFor();
    await turnPreviewsOn(bob.page);
    await conversationEntry(bob.page, title).getByText('Muted').waitFor();

    const away = await Background.of(bob);
    await away.enter();
    await send(alice.page, 'A quiet one');
    await conversationEntry(bob.page, title).getByText('A quiet one').waitFor();
    // Then a mention: Alice picks Bob from the autocomplete.
    const box = alice.page.getByLabel('Message', { exact: true });
    await box.pressSequentially(`@${bob.username.slice(0, 3)}`);
    await alice.page.getByRole('option', { name: new RegExp(bob.displayName) }).waitFor();
    await box.press('Enter');
    await box.pressSequentially('are you in?');
    await box.press('Enter');
    await alice.page.locator('li.message-out', { hasText: 'are you in?' }).waitFor();

    // Notifications are shown in the order the messages came: had the quiet one notified, it
    // would be listed before the mention.
    const body = `@${bob.username} are you in?`;
    const mention = await waitForNotification(bob.page, body);
    expect(mention.it.title).toBe(`${alice.displayName} in ${title}`);
    expect(mention.all.map((n) => n.body)).toEqual([body]);
    await expect.poll(() => bob.page.title()).toBe('(1) CipherChat');
    await shot(bob.page, 'i17-notify-muted-mention');
  });
});
