import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  inNewBrowser,
  launchBrowser,
  logIn,
  newPerson,
  openConversation,
  problemsOf,
  reachApp,
  seeMessage,
  send,
  signUp,
  startDirectChat,
  waitForEmailLink,
} from './support/harness.js';
import type { Person } from './support/harness.js';

/**
 * The recovery key shown once at sign-up is what keeps an identity through a password reset:
 * Bob resets his password, gives the key at the next login, and Alice sees no change.
 */
describe('password reset with the recovery key', () => {
  let browser: Browser;
  let alice: Person;
  let bob: Person;
  let bobAfter: Person;
  let recoveryKey = '';

  beforeAll(async () => {
    browser = await launchBrowser();
    alice = await newPerson(browser, 'Alice');
    bob = await newPerson(browser, 'Bob');
    await signUp(alice);
    recoveryKey = await signUp(bob);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('when Alice and Bob chat and Alice verifies Bob, then the chat is verified', async () => {
    await startDirectChat(alice, bob);
    await send(alice.page, 'Before your reset');
    await openConversation(bob.page, alice.displayName);
    await seeMessage(bob.page, 'Before your reset');
    await alice.page.getByRole('button', { name: 'Safety number' }).click();
    await alice.page.getByRole('button', { name: 'Mark as verified' }).click();
    await alice.page.locator('.verified-line').waitFor();
    await alice.page.getByRole('button', { name: 'Back to chat' }).click();
  });

  it('when Bob resets his password and gives his recovery key, then he keeps his identity', async () => {
    // Reset mails go to verified addresses only.
    const verifyLink = await waitForEmailLink(bob.email, '/verify-email');
    bobAfter = await inNewBrowser(bob, browser);
    const page = bobAfter.page;
    await page.goto(verifyLink);
    await page.getByText('Your email address is confirmed.').waitFor();
    await page.getByRole('button', { name: 'Continue' }).click();
    await logIn(bobAfter);
    await page.getByRole('banner').getByRole('button', { name: 'Log out', exact: true }).click();
    await page
      .getByRole('dialog', { name: 'Log out?' })
      .getByRole('button', { name: 'Log out', exact: true })
      .click();

    await page.getByRole('button', { name: 'Forgot your password?' }).click();
    await page.getByRole('form', { name: 'Reset password' }).getByLabel('Email').fill(bob.email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    const resetLink = await waitForEmailLink(bob.email, '/reset-password');
    await page.goto(resetLink);
    const newPassword = `${bob.password}-reset`;
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('Confirm new password').fill(newPassword);
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByRole('button', { name: 'Go to log in' }).click({ timeout: 60_000 });

    bobAfter = { ...bobAfter, password: newPassword };
    await page.getByRole('tab', { name: 'Log in' }).click();
    const form = page.getByRole('tabpanel');
    await form.getByLabel('Email').fill(bob.email);
    await form.getByLabel('Password').fill(newPassword);
    await form.getByRole('button', { name: 'Log in' }).click();
    await page.getByLabel('Recovery key', { exact: true }).fill(recoveryKey);
    await page.getByRole('button', { name: 'Restore with recovery key' }).click();
    await reachApp(page);
    // Same identity: no new recovery key is shown.
    expect(await page.getByTestId('recovery-key').count()).toBe(0);
  });

  it('when Bob writes after the reset, then Alice reads it with no warning and Bob is still verified', async () => {
    await openConversation(bobAfter.page, alice.displayName);
    await send(bobAfter.page, 'Same keys after my reset');
    await seeMessage(alice.page, 'Same keys after my reset');
    expect(await alice.page.getByTestId('identity-changed').count()).toBe(0);
    await alice.page.locator('.pane-title').getByText('Verified').waitFor();
  });

  it('when the whole flow ran, then no page hit a CSP violation or an uncaught error', () => {
    expect(problemsOf(alice, bob, bobAfter)).toEqual([]);
  });
});
