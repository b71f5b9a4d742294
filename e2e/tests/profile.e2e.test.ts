import type { Page } from 'playwright-core';
import { describe, expect } from 'vitest';
import { serverQuery, userIdOf } from './support/database.js';
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
  type Person,
} from './support/harness.js';

/** A 480×320 PNG drawn in the page (two colours, so the centred square crop shows). */
async function picture(page: Page): Promise<Buffer> {
  const bytes = await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(480, 320);
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#1f5f8b';
    ctx.fillRect(0, 0, 480, 320);
    ctx.fillStyle = '#f2c14e';
    ctx.beginPath();
    ctx.arc(240, 160, 110, 0, Math.PI * 2);
    ctx.fill();
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    return [...new Uint8Array(await blob.arrayBuffer())];
  });
  return Buffer.from(bytes);
}

/** Settings › Profile picture: picks the file and waits until it is saved. */
async function setPicture(p: Person, file: Buffer): Promise<void> {
  await goTo(p.page, 'Settings');
  await p.page
    .getByLabel('Choose a picture…')
    .setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: file });
  await p.page.getByRole('status').filter({ hasText: 'Profile picture saved.' }).waitFor();
}

/** The first bytes of a blob the page fetches with its own session (null when refused). */
function firstBytes(page: Page, url: string): Promise<number[] | null> {
  return page.evaluate(async (u) => {
    const r = await fetch(u, { credentials: 'include' });
    if (!r.ok) return null;
    return [...new Uint8Array(await r.arrayBuffer()).slice(0, 8)];
  }, url);
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];
const startsWith = (bytes: number[], magic: number[]) => magic.every((b, i) => bytes[i] === b);

/** Alice's picture blobs on the server, with the conversation each was uploaded into. */
function blobsOf(userId: string) {
  return serverQuery<{ id: string; conversation_id: string }>(
    'SELECT id, conversation_id FROM chat.attachments WHERE owner_user = $1',
    [userId],
  );
}

/**
 * Profile pictures (issue 17): set in Settings, encrypted in the browser, shared end to end with
 * contacts (never with a message request before it is accepted), shown in the chat list, the
 * chat header and the people search; the server stores only ciphertext. And the language switch.
 */
describe('profile pictures and language', () => {
  it('when Alice sets a picture, then Bob (a contact) sees it in his chat list and header, and the server holds only ciphertext', async ({
    browser,
  }) => {
    const alice = await signedUp(browser, 'Alice');
    const bob = await signedUp(browser, 'Bob');
    await openDirectChat(alice, bob, 'Hi Bob');
    // Before: initials on a coloured circle.
    await conversationEntry(bob.page, alice.displayName).getByTestId('avatar-initials').waitFor();

    await setPicture(alice, await picture(alice.page));
    await alice.page.locator('.settings [data-testid="avatar-image"]').waitFor();
    await shot(alice.page, 'i17-avatar-settings');

    await goTo(bob.page, 'Chats');
    await conversationEntry(bob.page, alice.displayName).getByTestId('avatar-image').waitFor();
    await openConversation(bob.page, alice.displayName);
    const header = bob.page.locator('.pane-header [data-testid="avatar-image"]');
    await header.waitFor();
    expect(await header.getAttribute('alt')).toBe(`Profile picture of ${alice.displayName}`);
    await shot(bob.page, 'i17-avatar-contact-sees-it');

    // Bob's browser decrypted the picture Alice's browser made square and small (256 px)...
    await expect
      .poll(() => header.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]))
      .toEqual([256, 256]);
    // ...while the server's blob, fetched with Bob's own session, is no image at all.
    const blobs = await blobsOf(await userIdOf(alice.username));
    expect(blobs.length).toBeGreaterThan(0);
    for (const b of blobs) {
      const stored = await firstBytes(bob.page, `/api/chat/attachments/${b.id}`);
      if (stored === null) continue; // another conversation's blob: not Bob's to read
      expect(startsWith(stored, JPEG_MAGIC) || startsWith(stored, PNG_MAGIC)).toBe(false);
    }

    // Removing it: Bob's header falls back to initials.
    await goTo(alice.page, 'Settings');
    await alice.page.getByRole('button', { name: 'Remove picture' }).click();
    await alice.page.getByRole('status').filter({ hasText: 'Profile picture removed.' }).waitFor();
    await bob.page.locator('.pane-header [data-testid="avatar-initials"]').waitFor();
    expect(await blobsOf(await userIdOf(alice.username))).toEqual([]);
  });

  it('when a stranger with a picture writes to Carol, then Carol does not see the picture until she accepts the request', async ({
    browser,
  }) => {
    const alice = await signedUp(browser, 'Alice');
    const carol = await signedUp(browser, 'Carol');
    await setPicture(alice, await picture(alice.page));
    await startDirectChat(alice, carol);
    await send(alice.page, 'Hello Carol');
    // Alice's browser uploaded the encrypted picture into the new chat and queued its key
    // behind it; a message sent after that reaches Carol after the picture's message.
    const aliceId = await userIdOf(alice.username);
    await expect
      .poll(async () => (await blobsOf(aliceId)).length, { timeout: 30_000 })
      .toBeGreaterThan(0);
    await send(alice.page, 'Are you there?');

    await openConversation(carol.page, alice.displayName, { request: 'keep' });
    await seeMessage(carol.page, 'Are you there?');
    await requestPanel(carol.page).waitFor();
    await carol.page.locator('.pane-header [data-testid="avatar-initials"]').waitFor();
    expect(await carol.page.getByTestId('avatar-image').count()).toBe(0);
    await shot(carol.page, 'i17-avatar-request-not-shown');

    await requestPanel(carol.page).getByRole('button', { name: 'Accept' }).click();
    await carol.page.locator('.pane-header [data-testid="avatar-image"]').waitFor();
    await conversationEntry(carol.page, alice.displayName).getByTestId('avatar-image').waitFor();
    await shot(carol.page, 'i17-avatar-after-accept');
  });

  it('when Deutsch is chosen in Settings, then the navigation speaks German at once, and English again after switching back', async ({
    browser,
  }) => {
    const alice = await signedUp(browser, 'Alice');
    await goTo(alice.page, 'Settings');
    const nav = alice.page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Settings' }).waitFor();
    await alice.page.getByLabel('Language of the app').selectOption('de');
    const german = alice.page.getByRole('navigation', { name: 'Hauptnavigation' });
    await german.getByRole('link', { name: 'Einstellungen' }).waitFor();
    expect(await alice.page.locator('html').getAttribute('lang')).toBe('de');
    await shot(alice.page, 'i17-language-deutsch');
    await alice.page.getByLabel('Sprache der App').selectOption('en');
    await nav.getByRole('link', { name: 'Settings' }).waitFor();
    expect(await alice.page.locator('html').getAttribute('lang')).toBe('en');
  });
});
