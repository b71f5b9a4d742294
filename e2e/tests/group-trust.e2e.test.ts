import { randomBytes } from 'node:crypto';
import { describe, expect } from 'vitest';
import {
  createGroup,
  openConversation,
  seeMessage,
  send,
  shot,
  signedUp,
  test as it,
} from './support/harness.js';
import { serverSql, userIdOf } from './support/database.js';

/**
 * Issue 14 "Trust": membership is set by members, end to end. Membership changes show in the
 * chat as events, and a member written into the database behind the members' backs gets
 * nothing: the members' chats show a warning instead.
 */
describe('group membership set by members', () => {
  it('when the server inserts Mallory into a group, then the members see a warning and her mailbox gets nothing', async ({
    browser,
  }) => {
    const title = `Plans ${randomBytes(3).toString('hex')}`;
    const alice = await signedUp(browser, 'Alice');
    const bob = await signedUp(browser, 'Bob');
    const mallory = await signedUp(browser, 'Mallory');
    // Mallory's browser goes away: whatever the server queued for her would stay in her mailbox.
    await mallory.context.close();
    await createGroup(alice, title, [bob]);
    await send(alice.page, 'Welcome, Bob');
    await openConversation(bob.page, title);
    await seeMessage(bob.page, 'Welcome, Bob');
    // Membership changes are lines in the chat.
    await bob.page
      .getByTestId('group-event')
      .filter({ hasText: `${alice.displayName} created the group “${title}”` })
      .waitFor();

    const [aliceId, bobId, malloryId] = await Promise.all(
      [alice, bob, mallory].map((p) => userIdOf(p.username)),
    );
    const groupId = await serverSql(
      `SELECT m.conversation_id FROM chat.conversation_members m JOIN chat.conversation_members n USING (conversation_id)
       JOIN chat.conversations c ON c.id = m.conversation_id
       WHERE c.kind = 'group' AND m.user_id = '${aliceId}' AND n.user_id = '${bobId}'`,
    );
    // The server stores no title.
    expect(
      await serverSql(
        `SELECT coalesce(title, '<none>') FROM chat.conversations WHERE id = '${groupId}'`,
      ),
    ).toBe('<none>');
    await serverSql(
      `INSERT INTO chat.conversation_members (conversation_id, user_id, role) VALUES ('${groupId}', '${malloryId}', 'member')`,
    );

    for (const [sender, text] of [
      [alice, 'Secret from Alice'],
      [bob, 'Secret from Bob'],
    ] as const) {
      await send(sender.page, text);
      const warning = sender.page.getByTestId('membership-warning');
      await warning.waitFor({ timeout: 30_000 });
      expect(await warning.textContent()).toContain('The server lists people no member added');
      // The name shows once her profile is fetched (the warning may come first).
      await warning.filter({ hasText: mallory.displayName }).waitFor({ timeout: 15_000 });
      expect(await warning.textContent()).toContain('Nothing is sent to them.');
    }
    await shot(alice.page, '40-membership-warning');
    // Nothing was ever queued for Mallory, and Alice's secret never reached Bob either: every
    // send failed closed.
    expect(
      await serverSql(`SELECT count(*) FROM chat.mailbox WHERE recipient_user = '${malloryId}'`),
    ).toBe('0');
    expect(await bob.page.getByText('Secret from Alice').count()).toBe(0);
  });

  it("when the owner adds, renames and a member leaves, then everyone's chat shows it as events", async ({
    browser,
  }) => {
    const title = `Club ${randomBytes(3).toString('hex')}`;
    const alice = await signedUp(browser, 'Alice');
    const bob = await signedUp(browser, 'Bob');
    const dan = await signedUp(browser, 'Dan');
    await createGroup(alice, title, [bob]);
    await send(alice.page, 'Hello club');
    await openConversation(bob.page, title);
    await seeMessage(bob.page, 'Hello club');

    const page = alice.page;
    await page.getByRole('button', { name: 'Group settings' }).click();
    await page.getByLabel('Add people').fill(dan.username);
    await page.getByRole('button', { name: `Add ${dan.displayName}` }).click();
    await page.getByRole('list', { name: 'Members' }).getByText(dan.displayName).waitFor();
    const renamed = `${title} (renamed)`;
    await page.getByLabel('Group name').fill(renamed);
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.locator('#members-title', { hasText: renamed }).waitFor();
    await page.getByRole('button', { name: 'Back to chat' }).click();

    const events = bob.page.getByTestId('group-event');
    await events.filter({ hasText: `${alice.displayName} added ${dan.displayName}` }).waitFor();
    await events
      .filter({ hasText: `${alice.displayName} renamed the group to “${renamed}”` })
      .waitFor();
    await bob.page.locator('#conversation-title', { hasText: renamed }).waitFor();

    await openConversation(dan.page, renamed);
    await dan.page
      .getByTestId('group-event')
      .filter({ hasText: `${alice.displayName} added you` })
      .waitFor();
    await dan.page.getByRole('button', { name: 'Group settings' }).click();
    await dan.page.getByRole('button', { name: 'Leave group' }).click();
    await dan.page.getByRole('dialog').getByRole('button', { name: 'Leave', exact: true }).click();
    await page
      .getByTestId('group-event')
      .filter({ hasText: `${dan.displayName} left` })
      .waitFor();
    await bob.page
      .getByTestId('group-event')
      .filter({ hasText: `${dan.displayName} left` })
      .waitFor();
    // The header counts the members of Bob's own view.
    await bob.page.locator('.pane-title', { hasText: '2 members' }).waitFor();
    await shot(bob.page, '41-group-events');
  });
});
