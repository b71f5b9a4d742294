import { readFileSync } from 'node:fs';
import type { Browser, Locator } from 'playwright-core';
import { describe, expect } from 'vitest';
import {
  chattingPair,
  conversationEntry,
  goTo,
  inNewBrowser,
  logIn,
  newPerson,
  openConversation,
  openDirectChat,
  seeMessage,
  send,
  shot,
  signedUp,
  signUp,
  startDirectChat,
  switchSockets,
  test as it,
  waitForResume,
  waitForStatus,
} from './support/harness.js';
import type { Person, SocketSwitch } from './support/harness.js';

/** A small real PNG to send as an attachment (the app's own logo). */
const LOGO_PNG = readFileSync(new URL('../../web-client/public/logo.png', import.meta.url));

/**
 * Alice, her sockets routed through a {@link SocketSwitch}, signs up and starts chatting with Bob.
 * @param browser the browser
 * @returns the two people with the chat open, Alice's socket switch, and her offline banner
 */
async function pairWithSwitchableSockets(browser: Browser): Promise<{
  alice: Person;
  bob: Person;
  sockets: SocketSwitch;
  banner: Locator;
}> {
  const alice = await newPerson(browser, 'Alice');
  const sockets = await switchSockets(alice);
  await signUp(alice);
  const bob = await signedUp(browser, 'Bob');
  await openDirectChat(alice, bob, 'Hello Bob');
  const banner = alice.page.getByText('You are offline');
  return { alice, bob, sockets, banner };
}

/**
 * Must show: Alice and Bob sign up in two browsers, find each other, chat both ways in real
 * time, see typing and delivered/read; Bob reloads and the history is still there. Every test
 * signs up its own people in its own browser.
 */
describe('two people chatting', () => {
  it('when Alice and Bob sign up, then each is shown a recovery key once and lands in the app', async ({
    browser,
  }) => {
    const alice = await signedUp(browser, 'Alice', { screenshots: '01' });
    const bob = await signedUp(browser, 'Bob');
    expect(alice.recoveryKey.replace(/\s/g, '').length).toBeGreaterThanOrEqual(20);
    expect(bob.recoveryKey).not.toBe(alice.recoveryKey);
    // The key is gone once confirmed, and no secret or plaintext sits in localStorage.
    expect(await alice.page.getByTestId('recovery-key').count()).toBe(0);
    const stored = await alice.page.evaluate(() => JSON.stringify({ ...window.localStorage }));
    expect(stored).not.toContain(alice.recoveryKey.replace(/\s/g, '').slice(0, 12));
    expect(stored).not.toContain(alice.password);
  });

  it('when Alice finds Bob in the directory and writes, then Bob gets it in real time with an unread count and a preview', async ({
    browser,
  }) => {
    const alice = await signedUp(browser, 'Alice');
    const bob = await signedUp(browser, 'Bob');
    await startDirectChat(alice, bob, '02-people-search');
    await send(alice.page, 'Hello Bob, this is end-to-end encrypted');
    await waitForStatus(alice.page, 'Hello Bob, this is end-to-end encrypted', 'sent');

    // Bob is on his conversation list: the message arrives live, unread, previewed locally.
    const entry = conversationEntry(bob.page, alice.displayName);
    await entry.waitFor();
    await bob.page
      .getByTestId('last-message')
      .filter({ hasText: 'Hello Bob, this is end-to-end encrypted' })
      .waitFor();
    await entry.getByTestId('unread-count').filter({ hasText: '1' }).waitFor();
    await shot(bob.page, '03-conversation-list-unread');

    // Bob's device has it, but Alice is a stranger to him (a message request): she gets no
    // "delivered" until he accepts (requests.e2e.test.ts), only "sent".
    await waitForStatus(alice.page, 'Hello Bob, this is end-to-end encrypted', 'sent');
  });

  it('when Bob opens the chat, then Alice sees her message as read', async ({ browser }) => {
    const alice = await signedUp(browser, 'Alice');
    const bob = await signedUp(browser, 'Bob');
    await startDirectChat(alice, bob);
    await send(alice.page, 'Hello Bob, please read this');
    await waitForStatus(alice.page, 'Hello Bob, please read this', 'sent');

    // Opening it accepts Bob's message request (support/app.ts), then it is read.
    await openConversation(bob.page, alice.displayName);
    await seeMessage(bob.page, 'Hello Bob, please read this');
    await waitForStatus(alice.page, 'Hello Bob, please read this', 'read');
    await alice.page
      .locator('li.message-out[data-status="read"]')
      .getByText('Read')
      .first()
      .waitFor();
  });

  it('when Bob searches the directory for Alice, then he finds her, and both see each other online', async ({
    browser,
  }) => {
    // They share a conversation, so presence:get answers for each other.
    const { alice, bob } = await chattingPair(browser, 'Hello Bob');
    await goTo(bob.page, 'People');
    await bob.page.getByLabel('Search the directory').fill(alice.username);
    const aliceRow = bob.page
      .getByRole('list', { name: 'Search results' })
      .getByRole('listitem')
      .filter({ hasText: `@${alice.username}` });
    await aliceRow.getByRole('button', { name: `Message ${alice.displayName}` }).waitFor();
    await aliceRow.getByRole('img', { name: 'online' }).waitFor();
    await goTo(alice.page, 'People');
    await alice.page.getByLabel('Search the directory').fill(bob.username);
    await alice.page
      .getByRole('list', { name: 'Search results' })
      .getByRole('listitem')
      .filter({ hasText: `@${bob.username}` })
      .getByRole('img', { name: 'online' })
      .waitFor();
    await shot(alice.page, '02b-people-search-online');
  });

  it('when Bob types, then Alice sees the typing indicator, and his reply arrives in real time', async ({
    browser,
  }) => {
    const { alice, bob } = await chattingPair(browser, 'Hello Bob, this is end-to-end encrypted');
    const box = bob.page.getByLabel('Message', { exact: true });
    await box.pressSequentially('Hi Alice', { delay: 30 });
    await alice.page
      .getByTestId('typing-indicator')
      .filter({ hasText: `${bob.displayName} is typing` })
      .waitFor();
    await shot(alice.page, '04-typing-indicator');
    await box.press('Enter');
    await seeMessage(alice.page, 'Hi Alice');
    // The reply ends the typing indicator.
    await alice.page.getByTestId('typing-indicator').filter({ hasText: /^$/ }).waitFor();
    await waitForStatus(bob.page, 'Hi Alice', 'read');
    await send(alice.page, 'Great to hear from you');
    await seeMessage(bob.page, 'Great to hear from you');
    await shot(alice.page, '05-chat-alice');
    await shot(bob.page, '06-chat-bob');
  });

  it('when Alice and Bob have chatted, then nothing sits in localStorage and no secret in sessionStorage', async ({
    browser,
  }) => {
    const { alice, bob } = await chattingPair(browser, 'Hello Bob', 'Hi Alice');
    for (const p of [alice, bob]) {
      const storage = await p.page.evaluate(() => ({
        local: window.localStorage.length,
        session: JSON.stringify({ ...window.sessionStorage }),
      }));
      expect(storage.local).toBe(0);
      expect(storage.session).not.toContain(p.recoveryKey.replace(/\s/g, '').slice(0, 12));
      expect(storage.session).not.toContain(p.password);
    }
  });

  it('when Bob reloads the page, then his session resumes and the decrypted history is still there', async ({
    browser,
  }) => {
    const { alice, bob } = await chattingPair(
      browser,
      'Hello Bob, this is end-to-end encrypted',
      'Hi Alice',
    );
    await send(alice.page, 'Great to hear from you');
    await seeMessage(bob.page, 'Great to hear from you');

    await bob.page.reload();
    await waitForResume(bob);
    await openConversation(bob.page, alice.displayName);
    await seeMessage(bob.page, 'Hello Bob, this is end-to-end encrypted');
    await seeMessage(bob.page, 'Hi Alice', 'out');
    await seeMessage(bob.page, 'Great to hear from you');
    // And the live connection is back: a new message still arrives.
    await send(alice.page, 'Still there after your reload?');
    await seeMessage(bob.page, 'Still there after your reload?');
  });

  it('when Alice sends an image, then it is encrypted, uploaded, and Bob sees a decrypted preview', async ({
    browser,
  }) => {
    const { alice, bob } = await chattingPair(browser, 'An image is coming');
    await alice.page
      .getByLabel('Attach a file')
      .setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: LOGO_PNG });
    await alice.page.locator('li.message-out img[alt="logo.png"]').waitFor();
    await bob.page.locator('li.message-in img[alt="logo.png"]').waitFor();
    // The preview is a local blob: URL of the decrypted bytes, never the server's blob.
    expect(await bob.page.locator('li.message-in img[alt="logo.png"]').getAttribute('src')).toMatch(
      /^blob:/,
    );
    await shot(bob.page, '06b-image-attachment');
  });

  it("when the server drops Alice's socket with her network up, then she sees the banner until it reconnects, and Bob's next message reaches her", async ({
    browser,
  }) => {
    const { alice, bob, sockets, banner } = await pairWithSwitchableSockets(browser);
    // Only the socket goes: the browser stays online, so the banner can come from the SDK alone.
    sockets.down = true;
    await sockets.cut();
    await banner.waitFor();
    expect(await alice.page.evaluate(() => navigator.onLine)).toBe(true);
    // Still unreachable after a while: the banner stays while reconnection attempts fail.
    await alice.page.waitForTimeout(1500);
    expect(await banner.count()).toBe(1);
    sockets.down = false;
    // Socket.IO's own retry reconnects (after the black-holed attempt times out); only then
    // does the banner go.
    await banner.waitFor({ state: 'detached', timeout: 60_000 });
    expect(sockets.open.size).toBeGreaterThan(0);
    await send(bob.page, 'Sent after the server came back');
    await seeMessage(alice.page, 'Sent after the server came back');
  });

  it('when Alice goes offline, then she sees the banner, and back online she reconnects, receives and sends', async ({
    browser,
  }) => {
    const { alice, bob, sockets, banner } = await pairWithSwitchableSockets(browser);
    await alice.context.setOffline(true);
    // Chromium's offline mode need not close an open WebSocket: drop it as a dead network would.
    sockets.down = true;
    await sockets.cut();
    await banner.waitFor();
    await shot(alice.page, '06c-offline-banner');
    // Bob writes while Alice is away: the server keeps it in her mailbox.
    await send(bob.page, 'Sent while you were offline');
    await waitForStatus(bob.page, 'Sent while you were offline', 'sent');
    sockets.down = false;
    await alice.context.setOffline(false);
    await banner.waitFor({ state: 'detached' });
    expect(sockets.open.size).toBeGreaterThan(0);
    await seeMessage(alice.page, 'Sent while you were offline');
    await send(bob.page, 'Sent after you came back');
    await seeMessage(alice.page, 'Sent after you came back');
    await send(alice.page, 'Back online');
    await seeMessage(bob.page, 'Back online');
  });

  it('when looking at the settings and devices screens, then they load from the real services', async ({
    browser,
  }) => {
    const alice = await signedUp(browser, 'Alice');
    await goTo(alice.page, 'Settings');
    const digest = alice.page.getByLabel('Email me about unread messages while I am offline');
    await digest.waitFor();
    await shot(alice.page, '07-settings');
    // Preferences round-trip through notification-service.
    const before = await digest.isChecked();
    await digest.setChecked(!before);
    await alice.page.getByRole('button', { name: 'Save preferences' }).click();
    await alice.page.getByText('Notification preferences saved.').waitFor();
    await alice.page.reload();
    await waitForResume(alice);
    await goTo(alice.page, 'Settings');
    await digest.waitFor();
    expect(await digest.isChecked()).toBe(!before);
    await goTo(alice.page, 'Devices');
    await alice.page.getByRole('list', { name: 'Devices' }).getByText('This browser').waitFor();
    await shot(alice.page, '08-devices');
  });

  it('when Alice changes her password, then a new browser logs in with the new one and restores her keys', async ({
    browser,
  }) => {
    const { alice, bob } = await chattingPair(browser, 'Hello Bob');
    const newPassword = `${alice.password}-changed`;
    await goTo(alice.page, 'Settings');
    await alice.page.getByLabel('New password', { exact: true }).fill(newPassword);
    await alice.page.getByLabel('Confirm new password').fill(newPassword);
    await alice.page.getByRole('button', { name: 'Change password' }).click();
    await alice.page.getByText('Password changed.').waitFor({ timeout: 60_000 });
    const aliceElsewhere = await inNewBrowser({ ...alice, password: newPassword }, browser);
    await logIn(aliceElsewhere);
    await openConversation(aliceElsewhere.page, bob.displayName);
    await send(aliceElsewhere.page, 'From my new browser, after the password change');
    await seeMessage(bob.page, 'From my new browser, after the password change');
  });
});
