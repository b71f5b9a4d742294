import { describe, expect } from 'vitest';
import {
  goTo,
  reachApp,
  resetPassword,
  shot,
  signedUp,
  submitLogIn,
  test as it,
  verifyEmail,
} from './support/harness.js';

/**
 * A recovery key can be replaced from Settings: the new key is shown once, like at sign-up, and
 * from then on only the new key restores the identity after a password reset.
 */
describe('recovery key rotation', () => {
  it('when Bob creates a new recovery key in Settings, then it is shown once, the old key is refused after a reset and the new one restores his keys', async ({
    browser,
  }) => {
    const bob = await signedUp(browser, 'Bob');
    const { page } = bob;
    await goTo(page, 'Settings');
    await page.getByRole('button', { name: 'Create a new recovery key' }).click();
    const shown = page.getByTestId('recovery-key');
    await shown.waitFor({ timeout: 60_000 });
    const newKey = (await shown.textContent())?.trim() ?? '';
    expect(newKey.replace(/\s/g, '')).toMatch(/^[A-Z2-7]{52}$/);
    expect(newKey).not.toBe(bob.recoveryKey);
    await shot(page, 'recovery-key-rotated');
    await page.getByLabel('I have saved my recovery key somewhere safe').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await reachApp(page);
    await page.getByRole('heading', { name: 'Settings' }).waitFor();

    await verifyEmail(bob, browser);
    const after = await resetPassword(bob, browser, `${bob.password}-reset`);
    await submitLogIn(after);
    const keyField = after.page.getByLabel('Recovery key', { exact: true });
    await keyField.fill(bob.recoveryKey);
    await after.page.getByRole('button', { name: 'Restore with recovery key' }).click();
    await after.page.getByRole('alert').filter({ hasText: 'does not open this backup' }).waitFor();
    await shot(after.page, 'recovery-key-old-refused');
    await keyField.fill(newKey);
    await after.page.getByRole('button', { name: 'Restore with recovery key' }).click();
    await reachApp(after.page);
    // Same identity restored: no new recovery key is shown.
    expect(await after.page.getByTestId('recovery-key').count()).toBe(0);
  });
});
