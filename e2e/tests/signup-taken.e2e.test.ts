import { describe, expect } from 'vitest';
import {
  inNewBrowser,
  logIn,
  newPerson,
  signedUp,
  test as it,
  verifyEmail,
  waitForEmail,
} from './support/harness.js';

/**
 * Sign-up with an address that already has an account (issue 15): the stranger learns nothing
 * more than a wrong password would tell, no account is made, and the owner gets the "someone
 * tried" mail with a working reset link and a log-in link; the owner's password still works.
 */
describe('sign-up with a taken address', () => {
  it('when a stranger signs up with Bob’s verified address, then no account is made, and Bob gets the "someone tried" mail and still logs in with his password', async ({
    browser,
  }) => {
    const bob = await signedUp(browser, 'Bob');
    await verifyEmail(bob, browser);
    const mallory = { ...(await newPerson(browser, 'Mallory')), email: bob.email };
    const { page } = mallory;
    await page.getByRole('tab', { name: 'Sign up' }).click();
    const form = page.getByRole('tabpanel');
    await form.getByLabel('Email').fill(mallory.email);
    await form.getByLabel('Username').fill(mallory.username);
    await form.getByLabel('Display name').fill(mallory.displayName);
    await form.getByLabel('Password', { exact: true }).fill(mallory.password);
    await form.getByLabel('Confirm password').fill(mallory.password);
    await form.getByRole('button', { name: 'Create account' }).click();
    // the login that follows the (uniform, 202) registration fails; the form says what an owner
    // should do without saying whether the address has an account
    await form.getByText(/could not be created\. If you already have an account with this address/).waitFor();
    expect(await page.getByTestId('recovery-key').count()).toBe(0);

    const text = await waitForEmail(
      bob.email,
      'Someone tried to create a CipherChat account with your address',
    );
    expect(text).toContain('An account with this address already exists');
    expect(text).toMatch(/Reset my password: https?:\/\/\S+\/reset-password\?token=\S+/);
    expect(text).toMatch(/Log in: https?:\/\/\S+\//);
    expect(text).toContain('If it was not you, nothing changed');

    const again = await inNewBrowser(bob, browser);
    await logIn(again);
    await again.context.close();
  });
});
