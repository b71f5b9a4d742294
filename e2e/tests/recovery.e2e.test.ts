import type { Browser } from 'playwright-core';
import { describe, expect } from 'vitest';
import {
  chattingPair,
  markVerified,
  openConversation,
  reachApp,
  resetPassword,
  seeMessage,
  send,
  signedUp,
  submitLogIn,
  test as it,
  verifyEmail,
} from './support/harness.js';
import type { SignedUpPerson, Person } from './support/harness.js';

/**
 * Bob (address verified) resets his password and, at the next login, gives the recovery key he
 * saved at sign-up (typed as shown, with spaces).
 * @param bob who resets
 * @param browser the browser
 * @returns Bob in the browser he reset from, in the app
 */
async function resetWithRecoveryKey(bob: SignedUpPerson, browser: Browser): Promise<Person> {
  await verifyEmail(bob, browser);
  const after = await resetPassword(bob, browser, `${bob.password}-reset`);
  const { page } = after;
  await submitLogIn(after);
  await page.getByLabel('Recovery key', { exact: true }).fill(bob.recoveryKey);
  await page.getByRole('button', { name: 'Restore with recovery key' }).click();
  await reachApp(page);
  return after;
}

/**
 * The recovery key shown once at sign-up is what keeps an identity through a password reset:
 * Bob resets his password, gives the key at the next login, and Alice sees no change. Every
 * test signs up its own people in its own browser.
 */
describe('password reset with the recovery key', () => {
  it('when Alice and Bob chat and Alice verifies Bob, then the chat is verified', async ({
    browser,
  }) => {
    const { alice, bob } = await chattingPair(browser, 'Before your reset');
    await markVerified(alice, bob);
  });

  it('when Bob resets his password and gives his recovery key, then he keeps his identity', async ({
    browser,
  }) => {
    const bob = await signedUp(browser, 'Bob');
    const after = await resetWithRecoveryKey(bob, browser);
    // Same identity: no new recovery key is shown.
    expect(await after.page.getByTestId('recovery-key').count()).toBe(0);
  });

  it('when Bob writes after the reset, then Alice reads it with no warning and Bob is still verified', async ({
    browser,
  }) => {
    const { alice, bob } = await chattingPair(browser, 'Before your reset');
    await markVerified(alice, bob);
    const bobAfter = await resetWithRecoveryKey(bob, browser);
    await openConversation(bobAfter.page, alice.displayName);
    await send(bobAfter.page, 'Same keys after my reset');
    await seeMessage(alice.page, 'Same keys after my reset');
    expect(await alice.page.getByTestId('identity-changed').count()).toBe(0);
    await alice.page.locator('.pane-title').getByText('Verified').waitFor();
  });
});
