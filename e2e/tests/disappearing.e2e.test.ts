import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { describe, expect } from 'vitest';
import { userIdOf } from './support/database.js';
import {
  newPerson,
  openDirectChat,
  seeMessage,
  send,
  shot,
  signUp,
  test as it,
  waitForStatus,
} from './support/harness.js';
import type { Person } from './support/harness.js';

/** A small real PNG to send as an attachment (the app's own logo). */
const LOGO_PNG = readFileSync(new URL('../../web-client/public/logo.png', import.meta.url));

/**
 * A person whose browser runs on Playwright's fake clock (installed before the app loads, so
 * every timer of the app and the SDK is on it; time still flows until we jump it forward).
 * @param browser the browser
 * @param name first name
 * @returns the signed-up person, in the app
 */
async function signedUpOnClock(browser: Browser, name: string): Promise<Person> {
  const p = await newPerson(browser, name);
  await p.context.clock.install();
  await p.page.goto('/');
  await signUp(p);
  return p;
}

/**
 * Which of these message ids the browser's IndexedDB still holds. Records are sealed with the
 * device key, but their keys are the message ids, so presence can be checked without opening them.
 * @param page the page
 * @param userId whose database (`cipherchat-<userId>`)
 * @param ids message ids
 * @returns the ids still stored
 */
async function storedIds(page: Page, userId: string, ids: string[]): Promise<string[]> {
  return page.evaluate(
    async ({ name, ids }) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open(name);
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error ?? new Error('open failed'));
      });
      const store = db.transaction('message', 'readonly').objectStore('message');
      const found = await Promise.all(
        ids.map(
          (id) =>
            new Promise<string | null>((resolve, reject) => {
              const req = store.getKey(id);
              req.onsuccess = () => resolve(req.result === undefined ? null : id);
              req.onerror = () => reject(req.error ?? new Error('get failed'));
            }),
        ),
      );
      db.close();
      return found.filter((x): x is string => x !== null);
    },
    { name: `cipherchat-${userId}`, ids },
  );
}

/** The client id of the newest message of mine in the open chat that matches `hasText` or holds `img`. */
async function outgoingId(page: Page, match: { hasText?: string; img?: string }): Promise<string> {
  const li = match.img
    ? page.locator('li.message-out', { has: page.locator(`img[alt="${match.img}"]`) })
    : page.locator('li.message-out', { hasText: match.hasText ?? '' });
  const id = await li.last().getAttribute('data-message-id');
  if (!id) throw new Error('no message id');
  return id;
}

describe('disappearing messages', () => {
  it('when Alice sets 5 minutes and Bob reads, then after 5 minutes text and image are gone from both screens, both IndexedDBs and the server', async ({
    browser,
  }) => {
    const alice = await signedUpOnClock(browser, 'Alice');
    const bob = await signedUpOnClock(browser, 'Bob');
    await openDirectChat(alice, bob, 'Hello Bob, before the timer');
    const [aliceId, bobId] = await Promise.all([userIdOf(alice.username), userIdOf(bob.username)]);

    // Alice turns it on; both chats announce it and show the timer in the header.
    await alice.page.getByLabel('Disappearing messages').selectOption('300');
    await alice.page
      .getByTestId('group-event')
      .filter({ hasText: 'You set disappearing messages to 5 minutes' })
      .waitFor();
    await bob.page
      .getByTestId('group-event')
      .filter({ hasText: `${alice.displayName} set disappearing messages to 5 minutes` })
      .waitFor();
    await bob.page.getByTestId('disappearing-badge').filter({ hasText: '5m' }).waitFor();
    expect(await bob.page.getByLabel('Disappearing messages').inputValue()).toBe('300');

    // A text and an image, each read by Bob (his chat is open).
    await send(alice.page, 'This message disappears');
    const upload = alice.page.waitForResponse(
      (r) => r.url().includes('/api/chat/attachments') && r.request().method() === 'POST',
    );
    await alice.page
      .getByLabel('Attach a file')
      .setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: LOGO_PNG });
    const blobId = ((await (await upload).json()) as { id: string }).id;
    await seeMessage(bob.page, 'This message disappears');
    await bob.page.locator('li.message-in img[alt="logo.png"]').waitFor();
    await waitForStatus(alice.page, 'This message disappears', 'read');
    await alice.page
      .locator('li.message-out[data-status="read"]', {
        has: alice.page.locator('img[alt="logo.png"]'),
      })
      .waitFor();
    const ids = [
      await outgoingId(alice.page, { hasText: 'This message disappears' }),
      await outgoingId(alice.page, { img: 'logo.png' }),
    ];
    await shot(bob.page, 'i16-tmr-disappearing-on');
    expect(await storedIds(alice.page, aliceId, ids)).toEqual(ids);
    expect(await storedIds(bob.page, bobId, ids)).toEqual(ids);
    expect((await bob.page.request.get(`/api/chat/attachments/${blobId}`)).status()).toBe(200);

    // Both browsers jump 5 minutes and 10 seconds ahead: the sweepers run.
    await Promise.all([alice.page.clock.fastForward('05:10'), bob.page.clock.fastForward('05:10')]);
    for (const p of [alice, bob]) {
      for (const id of ids)
        await p.page.locator(`li[data-message-id="${id}"]`).waitFor({ state: 'detached' });
      // What was sent before the timer stays, and so does the announcement.
      await p.page.locator('li', { hasText: 'Hello Bob, before the timer' }).first().waitFor();
    }
    await expect.poll(() => storedIds(alice.page, aliceId, ids)).toEqual([]);
    await expect.poll(() => storedIds(bob.page, bobId, ids)).toEqual([]);
    // Alice's sweeper deleted the ciphertext blob: the server answers 404 to anyone.
    await expect
      .poll(async () => (await bob.page.request.get(`/api/chat/attachments/${blobId}`)).status())
      .toBe(404);
    expect((await alice.page.request.get(`/api/chat/attachments/${blobId}`)).status()).toBe(404);
    await shot(bob.page, 'i16-tmr-disappearing-gone');
  });
});
