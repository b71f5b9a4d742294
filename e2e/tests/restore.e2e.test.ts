import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  conversationEntry,
  goTo,
  inNewBrowser,
  launchBrowser,
  logIn,
  newPerson,
  openConversation,
  problemsOf,
  seeMessage,
  send,
  shot,
  signUp,
  startDirectChat,
} from './support/harness.js';
import type { Person } from './support/harness.js';

/**
 * Must show: Bob opens a third browser and logs in: his keys are restored from the encrypted
 * backup, the contact he verified is still verified, and new messages decrypt.
 */
describe('restoring on a new browser', () => {
  let browser: Browser;
  let alice: Person;
  let bob: Person;
  let bobNew: Person;

  beforeAll(async () => {
    browser = await launchBrowser();
    alice = await newPerson(browser, 'Alice');
    bob = await newPerson(browser, 'Bob');
    await signUp(alice);
    await signUp(bob);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('when Alice and Bob chat and Bob verifies Alice, then Bob sees the verified mark', async () => {
    await startDirectChat(alice, bob);
    await send(alice.page, 'Before the new browser');
    await openConversation(bob.page, alice.displayName);
    await seeMessage(bob.page, 'Before the new browser');
    await send(bob.page, 'Bob from his first browser');
    await seeMessage(alice.page, 'Bob from his first browser');

    await bob.page.getByRole('button', { name: 'Safety number' }).click();
    await bob.page.getByTestId('safety-number').waitFor();
    // The mark reaches Bob's other devices through his key backup: the upload that follows it
    // (debounced by a second) must land before the new browser fetches the backup. Only an
    // upload that starts once the mark is shown carries it.
    let markedAt = Infinity;
    const uploaded = bob.page.waitForResponse(
      (r) => r.url().endsWith('/api/chat/backup') && r.request().method() === 'PUT' && r.ok() && r.request().timing().startTime >= markedAt,
      { timeout: 30_000 },
    );
    await bob.page.getByRole('button', { name: 'Mark as verified' }).click();
    // The verified line replaces the button ("Verified" alone would match "Mark as verified").
    await bob.page
      .locator('.verified-line', { hasText: `You verified ${alice.displayName}` })
      .waitFor();
    markedAt = Date.now();
    await bob.page.getByRole('button', { name: 'Mark as verified' }).waitFor({ state: 'detached' });
    await uploaded;
  });

  it('when Bob logs in on a third browser, then his keys are restored and Alice is still verified', async () => {
    bobNew = await inNewBrowser(bob, browser);
    await logIn(bobNew);
    const entry = conversationEntry(bobNew.page, alice.displayName);
    await entry.waitFor();
    await entry.getByText('Verified').waitFor();
    await openConversation(bobNew.page, alice.displayName);
    await bobNew.page.locator('.pane-title').getByText('Verified').waitFor();
    await shot(bobNew.page, '10-restored-new-browser');
  });

  it("when Alice writes after the restore, then both of Bob's browsers decrypt it, and Bob's new browser can answer", async () => {
    await send(alice.page, 'Hello to both of your browsers');
    await seeMessage(bobNew.page, 'Hello to both of your browsers');
    await openConversation(bob.page, alice.displayName);
    await seeMessage(bob.page, 'Hello to both of your browsers');

    await send(bobNew.page, 'Answer from the new browser');
    await seeMessage(alice.page, 'Answer from the new browser');
    // Same identity restored from the backup: Alice gets no safety-number warning.
    expect(await alice.page.getByTestId('identity-changed').count()).toBe(0);
    // Bob's first browser sees what his other device sent (sender fan-out).
    await seeMessage(bob.page, 'Answer from the new browser', 'out');
  });

  it('when Bob lists his devices, then both browsers are there', async () => {
    await bobNew.page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('button', { name: 'Devices' })
      .click();
    const list = bobNew.page.getByRole('list', { name: 'Devices' });
    await list.getByText('This browser').waitFor();
    expect(await list.getByRole('listitem').count()).toBeGreaterThanOrEqual(2);
  });

  it('when Bob logs out his other devices, then his first browser is sent back to the login', async () => {
    await bobNew.page.getByRole('button', { name: 'Log out other devices' }).click();
    await bobNew.page.getByRole('button', { name: 'Yes, log them out' }).click();
    await bobNew.page.getByText('Every other device has been logged out.').waitFor();
    await shot(bobNew.page, '19-devices-logged-out-others');
    // The first browser's next call to user-service is refused and the refresh fails.
    await goTo(bob.page, 'People');
    await bob.page.getByLabel('Search the directory').fill(alice.username);
    await bob.page.getByRole('tab', { name: 'Log in' }).waitFor();
  });

  it('when Bob logs out, then the dialog confirms the key backup is current and he lands on the login', async () => {
    await bobNew.page.getByRole('navigation', { name: 'Main' }).waitFor();
    await bobNew.page
      .getByRole('banner')
      .getByRole('button', { name: 'Log out', exact: true })
      .click();
    const dialog = bobNew.page.getByRole('dialog', { name: 'Log out?' });
    await dialog.getByText('Your key backup is up to date.').waitFor();
    await shot(bobNew.page, '20-log-out-dialog');
    await dialog.getByRole('button', { name: 'Log out', exact: true }).click();
    await bobNew.page.getByRole('tab', { name: 'Log in' }).waitFor();
    // Nothing of the session is left in this browser's storage but the sealed (now wiped) store.
    expect(await bobNew.page.evaluate(() => window.localStorage.length)).toBe(0);
  });

  it('when the whole flow ran, then no page hit a CSP violation or an uncaught error', () => {
    expect(problemsOf(alice, bob, bobNew)).toEqual([]);
  });
});
