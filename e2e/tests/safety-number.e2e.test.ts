import type { Browser } from 'playwright-core';
import { describe, expect } from 'vitest';
import {
  inNewBrowser,
  logIn,
  markVerified,
  openConversation,
  openDirectChat,
  resetPassword,
  seeMessage,
  send,
  shot,
  signedUp,
  submitLogIn,
  test as it,
  verifyEmail,
  waitForEmailLink,
} from './support/harness.js';
import type { Person, SignedUpPerson } from './support/harness.js';

/**
 * The safety number the open conversation's safety-number screen shows.
 * @param p the person
 * @returns its 60 digits
 */
async function safetyNumber(p: Person): Promise<string> {
  const digits = p.page.getByTestId('safety-number');
  await digits.waitFor();
  return ((await digits.textContent()) ?? '').replace(/\D/g, '');
}

/**
 * Bob resets his password (his address verified first) without his recovery key, starts a new
 * identity, and writes to Alice from there.
 * @param bob who resets
 * @param alice his contact (the chat with her exists)
 * @param browser the browser
 * @param screenshot optional screenshot name of the locked-backup screen
 * @returns Bob in the browser he reset from, in the chat with Alice
 */
async function startOverWithoutRecoveryKey(
  bob: Person,
  alice: Person,
  browser: Browser,
  screenshot?: string,
): Promise<Person> {
  const after = await resetPassword(bob, browser, `${bob.password}-new`);
  const { page } = after;
  // The backup is sealed under the old password; without the recovery key Bob starts over.
  await submitLogIn(after);
  await page
    .getByRole('heading', { name: 'Your key backup needs your recovery key' })
    .waitFor({ timeout: 60_000 });
  if (screenshot) await shot(page, screenshot);
  await page.getByRole('button', { name: 'Start a new identity…' }).click();
  await page.getByRole('button', { name: 'Yes, start a new identity' }).click();
  // A new identity comes with a new recovery key, shown once.
  await page.getByTestId('recovery-key').waitFor({ timeout: 60_000 });
  await page.getByLabel('I have saved my recovery key somewhere safe').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  await openConversation(page, alice.displayName);
  await send(page, 'I reset my password');
  return after;
}

/**
 * Alice and Bob sign up, Bob confirms his address (so he can reset his password later), and they
 * start chatting ({@link openDirectChat}).
 * @param browser the browser
 * @param text Alice's first message
 * @returns the two people, each with the chat open
 */
async function pairWithBobVerified(
  browser: Browser,
  text: string,
): Promise<{ alice: SignedUpPerson; bob: SignedUpPerson }> {
  const alice = await signedUp(browser, 'Alice');
  const bob = await signedUp(browser, 'Bob');
  // Before the chat: verifyEmail logs Bob in on another browser, which adds a device of his.
  await verifyEmail(bob, browser);
  await openDirectChat(alice, bob, text);
  return { alice, bob };
}

/**
 * Must show: Alice verifies Bob's safety number; when Bob's identity changes (he resets his
 * password without the recovery key), she sees the warning and sending is blocked until she
 * accepts the new key. Every test signs up its own people in its own browser.
 */
describe('safety numbers and identity changes', () => {
  it('when Bob follows the emailed verification link, then his address is confirmed', async ({
    browser,
  }) => {
    const bob = await signedUp(browser, 'Bob');
    const link = await waitForEmailLink(bob.email, '/verify-email');
    const verifier = await inNewBrowser(bob, browser);
    const { page } = verifier;
    await page.goto(link);
    await page.getByText('Your email address is confirmed.').waitFor();
    // The one-time token does not stay in the address bar.
    expect(page.url()).not.toContain('token=');
    // Continue leads to the login, as a person would go on from the link.
    await page.getByRole('button', { name: 'Continue' }).click();
    await logIn(verifier);
  });

  it('when Alice and Bob compare safety numbers, then both see the same 60 digits and Alice can mark Bob verified', async ({
    browser,
  }) => {
    const alice = await signedUp(browser, 'Alice');
    const bob = await signedUp(browser, 'Bob');
    await openDirectChat(alice, bob, 'Let us compare safety numbers');

    await alice.page.getByRole('button', { name: 'Safety number' }).click();
    const number = await safetyNumber(alice);
    expect(number).toMatch(/^\d{60}$/);
    await alice.page.getByRole('img', { name: /QR code of the safety number/ }).waitFor();

    await bob.page.getByRole('button', { name: 'Safety number' }).click();
    expect(await safetyNumber(bob)).toBe(number);

    await alice.page.getByRole('button', { name: 'Mark as verified' }).click();
    await alice.page.locator('.verified-line').waitFor();
    await shot(alice.page, '15-safety-number');
    await alice.page.getByRole('button', { name: 'Back to chat' }).click();
    await alice.page.locator('.pane-title').getByText('Verified').waitFor();
  });

  it('when Bob resets his password without the recovery key, then he starts a new identity', async ({
    browser,
  }) => {
    const { alice, bob } = await pairWithBobVerified(browser, 'Hello Bob');
    await startOverWithoutRecoveryKey(bob, alice, browser, '18-backup-locked-after-reset');
  });

  it("when Bob's identity changed, then Alice sees a blocking warning, a new number, and can accept it", async ({
    browser,
  }) => {
    const { alice, bob } = await pairWithBobVerified(browser, 'Let us compare safety numbers');
    await alice.page.getByRole('button', { name: 'Safety number' }).click();
    const firstNumber = await safetyNumber(alice);
    await alice.page.getByRole('button', { name: 'Back to chat' }).click();
    await markVerified(alice, bob);
    const bobAfterReset = await startOverWithoutRecoveryKey(bob, alice, browser);

    const page = alice.page;
    const notice = page.getByTestId('identity-changed');
    await notice.waitFor({ timeout: 60_000 });
    expect(await notice.textContent()).toContain(`${bob.displayName}'s safety number has changed`);
    // Sending is blocked and the old "verified" mark is gone.
    expect(await page.getByLabel('Message', { exact: true }).isDisabled()).toBe(true);
    expect(await page.locator('.pane-title').getByText('Verified').count()).toBe(0);
    await shot(page, '16-identity-changed');

    await notice.getByRole('button', { name: 'View safety number' }).click();
    const secondNumber = await safetyNumber(alice);
    expect(secondNumber).toMatch(/^\d{60}$/);
    expect(secondNumber).not.toBe(firstNumber);
    await shot(page, '17-safety-number-changed');

    await page.getByRole('button', { name: 'Accept new safety number' }).click();
    await page.getByTestId('identity-changed').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Back to chat' }).click();
    await seeMessage(page, 'I reset my password');
    await send(page, 'Welcome back, new keys accepted');
    await seeMessage(bobAfterReset.page, 'Welcome back, new keys accepted');
  });
});
