import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { describe, expect } from 'vitest';
import {
  createGroup,
  goTo,
  openConversation,
  seeMessage,
  send,
  shot,
  signedUp,
  test as it,
  waitForResume,
} from './support/harness.js';
import type { Person } from './support/harness.js';

/** A fresh group title. */
const groupTitle = () => `Trio ${randomBytes(3).toString('hex')}`;

/**
 * Alice, Bob and Carol (on a phone-sized window: the layout must work there too) sign up; Alice
 * creates a group with Bob and Carol and welcomes them; both open it and read the welcome.
 * @param browser the browser
 * @param title group name
 * @param screenshot optional screenshot name of the new-group form
 * @returns the three people, each with the group open
 */
async function trio(
  browser: Browser,
  title: string,
  screenshot?: string,
): Promise<{ alice: Person; bob: Person; carol: Person }> {
  const alice = await signedUp(browser, 'Alice');
  const bob = await signedUp(browser, 'Bob');
  const carol = await signedUp(browser, 'Carol', { viewport: { width: 390, height: 844 } });
  await createGroup(alice, title, [bob, carol], screenshot);
  await send(alice.page, 'Welcome to the group');
  for (const member of [bob, carol]) {
    await openConversation(member.page, title);
    await seeMessage(member.page, 'Welcome to the group');
  }
  return { alice, bob, carol };
}

/**
 * Must show: a group of three chats; a removed member stops receiving; a member added to the
 * existing group receives what is sent after. Every test signs up its own people and creates
 * its own group in its own browser.
 */
describe('group chat', () => {
  it('when Alice creates a group with Bob and Carol, then everyone chats with everyone', async ({
    browser,
  }) => {
    const title = groupTitle();
    const { alice, bob, carol } = await trio(browser, title, '11-new-group');
    await send(bob.page, 'Bob here');
    await seeMessage(alice.page, 'Bob here');
    await seeMessage(carol.page, 'Bob here');
    await send(carol.page, 'Carol here, on a phone');
    await seeMessage(alice.page, 'Carol here, on a phone');
    await seeMessage(bob.page, 'Carol here, on a phone');
    // Group messages name their sender.
    await alice.page
      .locator('li.message-in', { hasText: 'Carol here' })
      .getByText(carol.displayName)
      .waitFor();
    await shot(carol.page, '12-group-chat-phone');
    await shot(alice.page, '13-group-chat');
  });

  it('when Alice removes Carol, then Bob still receives and Carol does not', async ({ browser }) => {
    const title = groupTitle();
    const { alice, bob, carol } = await trio(browser, title);
    await send(carol.page, 'Carol here, on a phone');
    await seeMessage(alice.page, 'Carol here, on a phone');
    await seeMessage(bob.page, 'Carol here, on a phone');

    const page = alice.page;
    await page.getByRole('button', { name: 'Group settings' }).click();
    // The owner can promote a member to admin (and back).
    await page.getByRole('button', { name: `Make an admin: ${bob.displayName}` }).click();
    await page.getByRole('button', { name: `Make a member: ${bob.displayName}` }).waitFor();
    await page.getByRole('list', { name: 'Members' }).getByText('admin', { exact: true }).waitFor();
    await page.getByRole('button', { name: `Remove ${carol.displayName}` }).click();
    await page
      .getByRole('list', { name: 'Members' })
      .getByText(carol.displayName)
      .waitFor({ state: 'detached' });
    await shot(page, '14-group-members');
    await page.getByRole('button', { name: 'Back to chat' }).click();

    await send(page, 'Only Alice and Bob read this');
    await seeMessage(bob.page, 'Only Alice and Bob read this');
    // Carol still has the group open on her live connection: nothing arrived there.
    await carol.page.locator('li.message-out', { hasText: 'Carol here, on a phone' }).waitFor();
    expect(await carol.page.getByText('Only Alice and Bob read this').count()).toBe(0);

    // Bob has it, so the server has fanned it out. Carol reloads (draining any mailbox she
    // might have) and still has no copy.
    await carol.page.reload();
    await waitForResume(carol);
    await goTo(carol.page, 'Chats');
    const entry = carol.page.getByRole('navigation', { name: 'Conversations' });
    if ((await entry.getByRole('link', { name: new RegExp(`^${title}`) }).count()) > 0) {
      await openConversation(carol.page, title);
      await carol.page.locator('li.message-out', { hasText: 'Carol here, on a phone' }).waitFor();
    }
    expect(await carol.page.getByText('Only Alice and Bob read this').count()).toBe(0);
  });

  it('when Alice adds Dave to the existing group, then Dave receives what is sent next, from Alice and Bob', async ({
    browser,
  }) => {
    const title = groupTitle();
    const alice = await signedUp(browser, 'Alice');
    const bob = await signedUp(browser, 'Bob');
    const dave = await signedUp(browser, 'Dave');
    await createGroup(alice, title, [bob]);
    await send(alice.page, 'Welcome to the group');
    await openConversation(bob.page, title);
    await seeMessage(bob.page, 'Welcome to the group');
    await send(bob.page, 'Bob here');
    await seeMessage(alice.page, 'Bob here');

    const page = alice.page;
    await page.getByRole('button', { name: 'Group settings' }).click();
    await page.getByLabel('Add people').fill(dave.username);
    await page.getByRole('button', { name: `Add ${dave.displayName}` }).click();
    await page.getByRole('list', { name: 'Members' }).getByText(dave.displayName).waitFor();
    await page.getByRole('button', { name: 'Back to chat' }).click();

    await send(page, 'Welcome, Dave');
    // Dave learns about the group from its first message (or on reload) and can read it.
    await openConversation(dave.page, title);
    await seeMessage(dave.page, 'Welcome, Dave');
    // Bob's client fans out to the new member too, and Dave can answer everyone.
    await send(bob.page, 'Hi Dave, Bob here');
    await seeMessage(dave.page, 'Hi Dave, Bob here');
    await send(dave.page, 'Thanks, Dave here');
    await seeMessage(alice.page, 'Thanks, Dave here');
    await seeMessage(bob.page, 'Thanks, Dave here');
    // Dave joined after the earlier messages: they were never encrypted to him.
    expect(await dave.page.getByText('Welcome to the group').count()).toBe(0);
  });
});
