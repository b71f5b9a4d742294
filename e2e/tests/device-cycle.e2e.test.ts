import { describe, expect } from 'vitest';
import type { Page } from 'playwright-core';
import { goTo, inNewBrowser, logIn, shot, signedUp, test as it } from './support/harness.js';

/**
 * Issue 17, devices: logging out removes this browser's device (unless the person keeps it),
 * so logging in and out on new browsers never fills the device limit (6 on this stack); the
 * Devices page shows when each device was last active; a refused login explains the limit.
 */

/** Logs out through the dialog, removing this browser (the default) or keeping it. */
async function logOutVia(page: Page, choice: 'remove' | 'keep'): Promise<void> {
  await page.getByRole('banner').getByRole('button', { name: 'Log out', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Log out?' });
  await dialog.getByText('Your key backup is up to date.').waitFor();
  const remove = dialog.getByRole('radio', { name: 'Remove this browser from my devices' });
  expect(await remove.isChecked()).toBe(true);
  if (choice === 'keep')
    await dialog.getByRole('radio', { name: 'Keep this browser as a device' }).check();
  await dialog.getByRole('button', { name: 'Log out', exact: true }).click();
  await page.getByRole('tab', { name: 'Log in' }).waitFor();
}

const deviceList = (page: Page) => page.getByRole('list', { name: 'Devices' });

describe('devices across log-ins and log-outs', () => {
  it('when Alice logs in and out on seven new browsers (more than the limit of six), then she never meets the device limit and only her first browser stays listed', async ({
    browser,
  }) => {
    const alice = await signedUp(browser, 'Alice');
    for (let i = 0; i < 7; i++) {
      const visit = await inNewBrowser(alice, browser);
      await logIn(visit);
      if (i === 0) await shot(visit.page, 'device-cycle-logged-in');
      await logOutVia(visit.page, 'remove');
      await visit.context.close();
    }
    await goTo(alice.page, 'Devices');
    const list = deviceList(alice.page);
    await list.getByText('This browser').waitFor();
    await list.getByText('last active today').waitFor();
    expect(await list.getByRole('listitem').count()).toBe(1);
  }, 600_000);

  it('when Alice opens Devices on her second browser, then it shows last active and "This browser", and she removes the other one', async ({
    browser,
  }) => {
    const alice = await signedUp(browser, 'Alice');
    const second = await inNewBrowser(alice, browser);
    await logIn(second);
    await goTo(second.page, 'Devices');
    const list = deviceList(second.page);
    await list.getByRole('listitem').nth(1).waitFor();
    expect(await list.getByText('last active today').count()).toBe(2);
    const current = list.getByRole('listitem').filter({ hasText: 'This browser' });
    expect(await current.count()).toBe(1);
    await shot(second.page, 'device-cycle-devices-last-active');
    const other = list.getByRole('listitem').filter({ hasNotText: 'This browser' });
    await other.getByRole('button', { name: 'Remove' }).click();
    const confirm = second.page.getByRole('dialog', { name: 'Remove this device?' });
    await confirm.getByRole('button', { name: 'Remove' }).click();
    await second.page.getByText(/has been removed\./).waitFor();
    await expect.poll(() => list.getByRole('listitem').count()).toBe(1);
    await list.getByText('This browser').waitFor();
  });

  it('when Alice keeps five browsers as devices, then a seventh browser is refused with the limit explained, and after she removes one there it logs in', async ({
    browser,
  }) => {
    const alice = await signedUp(browser, 'Alice');
    for (let i = 0; i < 5; i++) {
      const kept = await inNewBrowser(alice, browser);
      await logIn(kept);
      await logOutVia(kept.page, 'keep');
      await kept.context.close();
    }
    const seventh = await inNewBrowser(alice, browser);
    await seventh.page.getByRole('tab', { name: 'Log in' }).click();
    const form = seventh.page.getByRole('tabpanel');
    await form.getByLabel('Email').fill(alice.email);
    await form.getByLabel('Password').fill(alice.password);
    await form.getByRole('button', { name: 'Log in' }).click();
    const notice = form.getByRole('alert');
    await notice
      .getByText('your account already has the maximum of 6 devices', { exact: false })
      .waitFor();
    await notice
      .getByText('open Devices and remove one you no longer use', { exact: false })
      .waitFor();
    await shot(seventh.page, 'device-cycle-too-many-devices');

    // On her first browser she removes one of the kept ones, then the seventh gets in.
    await goTo(alice.page, 'Devices');
    const list = deviceList(alice.page);
    await expect.poll(() => list.getByRole('listitem').count()).toBe(6);
    await list
      .getByRole('listitem')
      .filter({ hasNotText: 'This browser' })
      .first()
      .getByRole('button', { name: 'Remove' })
      .click();
    await alice.page
      .getByRole('dialog', { name: 'Remove this device?' })
      .getByRole('button', { name: 'Remove' })
      .click();
    await expect.poll(() => list.getByRole('listitem').count()).toBe(5);
    await logIn(seventh);
    await goTo(seventh.page, 'Devices');
    await expect.poll(() => deviceList(seventh.page).getByRole('listitem').count()).toBe(6);
  }, 600_000);
});
