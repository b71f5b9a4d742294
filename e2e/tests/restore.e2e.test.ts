import { describe, expect } from 'vitest';
import {
  backupUpToDate,
  chattingPair,
  conversationEntry,
  goTo,
  inNewBrowser,
  logIn,
  markVerified,
  openConversation,
  seeMessage,
  send,
  shot,
  signedUp,
  test as it,
} from './support/harness.js';

/**
 * Must show: Bob opens a third browser and logs in: his keys are restored from the encrypted
 * backup, the contact he verified is still verified, and new messages decrypt. Every test signs
 * up its own people in its own browser.
 */
describe('restoring on a new browser', () => {
  it('when Alice and Bob chat and Bob verifies Alice, then Bob sees the verified mark', async ({
    browser,
  }) => {
    const { alice, bob } = await chattingPair(
      browser,
      'Before the new browser',
      'Bob from his first browser',
    );
    await markVerified(bob, alice);
    await conversationEntry(bob.page, alice.displayName).getByText('Verified').waitFor();
  });

  it('when Bob logs in on a third browser, then his keys are restored and Alice is still verified', async ({
    browser,
  }) => {
    const { alice, bob } = await chattingPair(browser, 'Before the new browser');
    await markVerified(bob, alice);
    // The mark reaches Bob's other devices only through his key backup, whose upload follows
    // it after a debounce: the new browser must not fetch the backup before it holds the mark.
    await backupUpToDate(bob);

    const bobNew = await inNewBrowser(bob, browser);
    await logIn(bobNew);
    const entry = conversationEntry(bobNew.page, alice.displayName);
    await entry.waitFor();
    await entry.getByText('Verified').waitFor();
    await openConversation(bobNew.page, alice.displayName);
    await bobNew.page.locator('.pane-title').getByText('Verified').waitFor();
    await shot(bobNew.page, '10-restored-new-browser');
  });

  it("when Alice writes after the restore, then both of Bob's browsers decrypt it, and Bob's new browser can answer", async ({
    browser,
  }) => {
    const { alice, bob } = await chattingPair(
      browser,
      'Before the new browser',
      'Bob from his first browser',
    );
    const bobNew = await inNewBrowser(bob, browser);
    await logIn(bobNew);
    await openConversation(bobNew.page, alice.displayName);

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

  it('when Bob lists his devices, then both browsers are there', async ({ browser }) => {
    const bob = await signedUp(browser, 'Bob');
    const bobNew = await inNewBrowser(bob, browser);
    await logIn(bobNew);
    await goTo(bobNew.page, 'Devices');
    const list = bobNew.page.getByRole('list', { name: 'Devices' });
    await list.getByText('This browser').waitFor();
    await list.getByRole('listitem').nth(1).waitFor();
    expect(await list.getByRole('listitem').count()).toBe(2);
  });

  it('when Bob logs out his other devices, then his first browser is sent back to the login', async ({
    browser,
  }) => {
    const bob = await signedUp(browser, 'Bob');
    const bobNew = await inNewBrowser(bob, browser);
    await logIn(bobNew);
    await goTo(bobNew.page, 'Devices');
    await bobNew.page.getByRole('button', { name: 'Log out other devices' }).click();
    await bobNew.page.getByRole('button', { name: 'Yes, log them out' }).click();
    await bobNew.page.getByText('Every other device has been logged out.').waitFor();
    await shot(bobNew.page, '19-devices-logged-out-others');
    // The first browser is sent back by itself, without doing anything: chat-service's
    // revocation sweep cuts its socket with `session:revoked` (every second), and the app ends
    // the session. (Clicking through it first would race that.)
    await bob.page.getByRole('tab', { name: 'Log in' }).waitFor();
  });

  it('when Bob logs out, then the dialog confirms the key backup is current and he lands on the login', async ({
    browser,
  }) => {
    const bob = await signedUp(browser, 'Bob');
    const bobNew = await inNewBrowser(bob, browser);
    await logIn(bobNew);
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
});
