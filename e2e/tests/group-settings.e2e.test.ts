import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';
import {
  createGroup,
  goTo,
  openConversation,
  seeMessage,
  send,
  shot,
  signedUp,
  test as it,
} from './support/harness.js';
import type { Person } from './support/harness.js';

/**
 * Issue 16 item 7, in three browsers: the group settings page (rename, promote, remove, leave
 * with a confirmation; what a role may not do is disabled) and per-member read state of my group
 * messages ("Read by 2 of 2", and who).
 */

/** The membership line in the open chat that says `text`. */
const event = (p: Person, text: string) =>
  p.page.getByTestId('group-event').filter({ hasText: text }).waitFor();

/** Opens the group settings from the chat header. */
async function settings(p: Person): Promise<void> {
  await p.page.getByRole('button', { name: 'Group settings' }).click();
  await p.page.locator('#members-title').waitFor();
}

describe('group settings and per-member receipts', () => {
  it('when Bob and Carol read my message, then it says "Read by 2 of 2" with their names; then rename, promote, remove and leave work from the settings page, each as the role allows', async ({
    browser,
  }) => {
    const title = `Crew ${randomBytes(3).toString('hex')}`;
    const alice = await signedUp(browser, 'Alice');
    const bob = await signedUp(browser, 'Bob');
    const carol = await signedUp(browser, 'Carol', { viewport: { width: 390, height: 844 } });
    await createGroup(alice, title, [bob, carol]);
    await send(alice.page, 'Welcome, both of you');
    const receiptsOf = (text: string) =>
      alice.page.locator('li.message-out', { hasText: text }).getByTestId('group-receipts');
    // A group from someone new is a request for Bob and Carol: no receipt goes out (and they
    // do not see each other online) until both accept it (opening the chat accepts it here).
    await receiptsOf('Welcome, both of you').getByText('Sent').waitFor();
    for (const member of [bob, carol]) {
      await openConversation(member.page, title);
      await seeMessage(member.page, 'Welcome, both of you');
    }
    await receiptsOf('Welcome, both of you').getByText('Read by 2 of 2').waitFor();

    // Carol looks elsewhere: Bob reads the next message, Carol's browser only has it.
    await goTo(carol.page, 'People');
    await send(alice.page, 'Who reads this?');
    const receipts = receiptsOf('Who reads this?');
    await seeMessage(bob.page, 'Who reads this?');
    await receipts.getByText('Read by 1 of 2').waitFor();
    await receipts.locator('summary').click();
    await receipts.getByRole('list', { name: 'Read by' }).getByText(bob.displayName).waitFor();
    await receipts
      .getByRole('list', { name: 'Delivered to' })
      .getByText(carol.displayName)
      .waitFor();
    await shot(alice.page, '60-group-read-by-1');

    await openConversation(carol.page, title);
    await seeMessage(carol.page, 'Who reads this?');
    await receipts.getByText('Read by 2 of 2').waitFor();
    const readers = receipts.getByRole('list', { name: 'Read by' });
    await readers.getByText(bob.displayName).waitFor();
    await readers.getByText(carol.displayName).waitFor();
    await shot(alice.page, '60-group-read-by-2');

    // Carol is a plain member: she sees the settings, but only leaving is possible.
    await settings(carol);
    await carol.page
      .getByRole('button', { name: 'Rename' })
      .and(carol.page.locator(':disabled'))
      .waitFor();
    await carol.page
      .getByRole('button', { name: `Remove ${bob.displayName}` })
      .and(carol.page.locator(':disabled'))
      .waitFor();
    await carol.page.getByText('Only owners and admins can add people.').waitFor();
    await shot(carol.page, '61-group-settings-member');
    await carol.page.getByRole('button', { name: 'Back to chat' }).click();

    // The owner promotes Bob.
    await settings(alice);
    await alice.page.getByRole('button', { name: `Make an admin: ${bob.displayName}` }).click();
    await alice.page.getByRole('button', { name: `Make a member: ${bob.displayName}` }).waitFor();
    await alice.page.getByRole('button', { name: 'Back to chat' }).click();
    await event(bob, `${alice.displayName} made you an admin`);

    // Bob, now an admin, renames the group and removes Carol; changing roles stays the owner's.
    const renamed = `${title} and friends`;
    await settings(bob);
    await bob.page
      .getByRole('button', { name: `Make an admin: ${carol.displayName}` })
      .and(bob.page.locator(':disabled'))
      .waitFor();
    await bob.page.getByLabel('Group name').fill(renamed);
    await bob.page.getByRole('button', { name: 'Rename' }).click();
    await bob.page.locator('#members-title', { hasText: renamed }).waitFor();
    await shot(bob.page, '62-group-settings-admin');
    await alice.page.locator('#conversation-title', { hasText: renamed }).waitFor();
    await event(alice, `${bob.displayName} renamed the group to “${renamed}”`);
    await carol.page.locator('#conversation-title', { hasText: renamed }).waitFor();

    await bob.page.getByRole('button', { name: `Remove ${carol.displayName}` }).click();
    await bob.page
      .getByRole('list', { name: 'Members' })
      .getByText(carol.displayName)
      .waitFor({ state: 'detached' });
    await event(carol, `${bob.displayName} removed you`);
    await event(alice, `${bob.displayName} removed ${carol.displayName}`);

    // Bob leaves, after saying yes: his chat stays, read-only.
    await bob.page.getByRole('button', { name: 'Leave group' }).click();
    const dialog = bob.page.getByRole('dialog', { name: `Leave ${renamed}?` });
    await dialog.waitFor();
    await shot(bob.page, '63-group-leave-confirm');
    await dialog.getByRole('button', { name: 'Leave', exact: true }).click();
    await bob.page.locator('#conversation-title', { hasText: renamed }).waitFor();
    await bob.page.getByText('You are no longer in this conversation.').waitFor();
    await event(alice, `${bob.displayName} left`);
    await shot(bob.page, '64-group-after-leave');
  });
});
