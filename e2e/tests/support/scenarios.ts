/**
 * Multi-step scenarios the tests share: people signed up and chatting, verification, backup,
 * groups.
 */
import type { Browser } from 'playwright-core';
import { goTo, openConversation, seeMessage, send, signUp, startDirectChat } from './app.js';
import { newPerson, shot } from './browser.js';
import type { Person } from './browser.js';

/** A person who has signed up, with the recovery key they were shown. */
export type SignedUpPerson = Person & { recoveryKey: string };

/**
 * A fresh person in their own browser context who signs up through the UI.
 * @param browser the browser
 * @param name first name, e.g. "Alice"
 * @param options viewport (phone screenshots) and screenshot prefix of the sign-up screens
 * @returns the person, in the app, with their recovery key
 */
export async function signedUp(
  browser: Browser,
  name: string,
  options: { viewport?: { width: number; height: number }; screenshots?: string } = {},
): Promise<SignedUpPerson> {
  const p = await newPerson(browser, name, options.viewport);
  const recoveryKey = await signUp(p, options.screenshots);
  return { ...p, recoveryKey };
}

/**
 * Alice opens the direct chat with Bob and writes; Bob opens it and reads. Afterwards both have
 * the chat open and each has a session with the other's device.
 * @param alice who writes first
 * @param bob who reads
 * @param text the first message
 */
export async function openDirectChat(alice: Person, bob: Person, text: string): Promise<void> {
  await startDirectChat(alice, bob);
  await send(alice.page, text);
  await openConversation(bob.page, alice.displayName);
  await seeMessage(bob.page, text);
}

/**
 * Alice and Bob sign up in their own contexts and start chatting ({@link openDirectChat}); with
 * `reply`, Bob answers and Alice sees the answer.
 * @param browser the browser
 * @param text Alice's first message
 * @param reply Bob's answer (none when omitted)
 * @returns the two people, each with the chat open
 */
export async function chattingPair(
  browser: Browser,
  text: string,
  reply?: string,
): Promise<{ alice: SignedUpPerson; bob: SignedUpPerson }> {
  const alice = await signedUp(browser, 'Alice');
  const bob = await signedUp(browser, 'Bob');
  await openDirectChat(alice, bob, text);
  if (reply !== undefined) {
    await send(bob.page, reply);
    await seeMessage(alice.page, reply);
  }
  return { alice, bob };
}

/**
 * In the open conversation, marks the other person verified on the safety-number screen and goes
 * back to the chat.
 * @param me who verifies (the conversation with `other` is open)
 * @param other whom
 */
export async function markVerified(me: Person, other: Person): Promise<void> {
  await me.page.getByRole('button', { name: 'Safety number' }).click();
  await me.page.getByTestId('safety-number').waitFor();
  await me.page.getByRole('button', { name: 'Mark as verified' }).click();
  // The verified line replaces the button ("Verified" alone would match "Mark as verified").
  await me.page.locator('.verified-line', { hasText: `You verified ${other.displayName}` }).waitFor();
  await me.page.getByRole('button', { name: 'Back to chat' }).click();
  await me.page.locator('.pane-title').getByText('Verified').waitFor();
}

/**
 * Makes sure the server's key backup holds this browser's current state, the way a person
 * would: the log-out dialog uploads it and says "up to date" (or offers "Back up now"); then
 * Cancel. A verification or a trust change reaches the person's other devices only through the
 * backup, whose background upload is debounced, so a test that opens another device after such
 * a change waits here first instead of guessing at upload timing.
 * @param p the person (in the app)
 */
export async function backupUpToDate(p: Person): Promise<void> {
  const { page } = p;
  await page.getByRole('banner').getByRole('button', { name: 'Log out', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Log out?' });
  const current = dialog.getByText('Your key backup is up to date.');
  const behind = dialog.getByRole('button', { name: 'Back up now' });
  await current.or(behind).waitFor();
  // The dialog's check gives up after 5 s on a slow upload; backing up again then waits for it.
  if (await behind.isVisible()) await behind.click();
  await current.waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'detached' });
}

/**
 * Fills the login form and submits it, without waiting for the app (after a password reset the
 * login asks for the recovery key first).
 * @param p the person (on the login form)
 */
export async function submitLogIn(p: Person): Promise<void> {
  const form = p.page.getByRole('tabpanel');
  await form.getByLabel('Email').fill(p.email);
  await form.getByLabel('Password').fill(p.password);
  await form.getByRole('button', { name: 'Log in' }).click();
}

/**
 * Creates a group from the People screen and waits for it to open.
 * @param owner who creates it
 * @param title group name
 * @param members who is added
 * @param screenshot optional screenshot name of the filled-in form
 */
export async function createGroup(
  owner: Person,
  title: string,
  members: Person[],
  screenshot?: string,
): Promise<void> {
  const { page } = owner;
  await goTo(page, 'People');
  await page.getByRole('button', { name: 'New group' }).click();
  await page.getByLabel('Group name').fill(title);
  for (const member of members) {
    await page.getByLabel('Add people').fill(member.username);
    await page.getByRole('button', { name: `Add ${member.displayName}` }).click();
    await page.getByRole('list', { name: 'Chosen members' }).getByText(member.displayName).waitFor();
  }
  if (screenshot) await shot(page, screenshot);
  await page.getByRole('button', { name: 'Create group' }).click();
  await page.locator('#conversation-title', { hasText: title }).waitFor();
}
