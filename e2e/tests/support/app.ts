/**
 * A person's steps in the app through its UI: sign up, log in, move around, chat.
 */
import type { Locator, Page } from 'playwright-core';
import { shot } from './browser.js';
import type { Person } from './browser.js';
import { diagnose, tracedPages } from './diagnostics.js';

/**
 * Signs up through the UI, checks the recovery key is shown, confirms it was saved.
 * @param p the person
 * @param screenshots prefix for screenshots of the form and the key page (none when omitted)
 * @returns the recovery key as shown
 */
export async function signUp(p: Person, screenshots?: string): Promise<string> {
  const { page } = p;
  await page.getByRole('tab', { name: 'Sign up' }).click();
  const form = page.getByRole('tabpanel');
  await form.getByLabel('Email').fill(p.email);
  await form.getByLabel('Username').fill(p.username);
  await form.getByLabel('Display name').fill(p.displayName);
  await form.getByLabel('Password', { exact: true }).fill(p.password);
  await form.getByLabel('Confirm password').fill(p.password);
  if (screenshots) await shot(page, `${screenshots}-sign-up`);
  await form.getByRole('button', { name: 'Create account' }).click();
  const key = page.getByTestId('recovery-key');
  await key.waitFor();
  const recoveryKey = (await key.textContent())?.trim() ?? '';
  if (screenshots) await shot(page, `${screenshots}-recovery-key`);
  await page.getByLabel('I have saved my recovery key somewhere safe').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await reachApp(page);
  return recoveryKey;
}

/**
 * Logs in through the UI (on a new browser this restores keys from the backup).
 * @param p the person
 * @param password password (default: theirs)
 */
export async function logIn(p: Person, password = p.password): Promise<void> {
  const { page } = p;
  await page.getByRole('tab', { name: 'Log in' }).click();
  const form = page.getByRole('tabpanel');
  await form.getByLabel('Email').fill(p.email);
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Log in' }).click();
  await reachApp(page);
}

/**
 * Waits for the app's main screen; on timeout the error says where the page was stuck.
 * @param page the page
 * @param timeout ms
 */
export async function reachApp(page: Page, timeout = 60_000): Promise<void> {
  try {
    await page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout });
  } catch (err) {
    throw new Error(`the app's main screen did not show within ${timeout} ms\n${await diagnose(page)}`, {
      cause: err,
    });
  }
}

/**
 * After a reload the SDK resumes from the sealed IndexedDB store and the session cookie: the
 * person is back in the app without typing the password.
 * @param p the person
 */
export async function waitForResume(p: Person): Promise<void> {
  await reachApp(p.page);
}

/**
 * Goes to a main section.
 * @param page the page
 * @param section nav label
 */
export async function goTo(
  page: Page,
  section: 'Chats' | 'People' | 'Devices' | 'Settings',
): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: section })
    .click();
}

/**
 * Finds someone in the directory and opens the direct chat with them.
 * @param me who searches
 * @param other whom to find
 * @param screenshot optional screenshot name of the search results
 */
export async function startDirectChat(
  me: Person,
  other: Person,
  screenshot?: string,
): Promise<void> {
  await goTo(me.page, 'People');
  await me.page.getByLabel('Search the directory').fill(other.username);
  const messageButton = me.page.getByRole('button', { name: `Message ${other.displayName}` });
  await messageButton.waitFor();
  if (screenshot) await shot(me.page, screenshot);
  await messageButton.click();
  await me.page.getByRole('heading', { name: other.displayName }).waitFor();
}

/**
 * The conversation list entry whose title starts with `title`.
 * @param page the page
 * @param title conversation title (peer display name or group title)
 * @returns the link (each entry links to /chats/<conversation id>)
 */
export function conversationEntry(page: Page, title: string): Locator {
  return page
    .getByRole('navigation', { name: 'Conversations' })
    .getByRole('link', { name: new RegExp(`^${escapeRegExp(title)}`) });
}

/**
 * Opens a conversation from the list. Someone I never talked to reaches me as a message request:
 * by default it is accepted here (most tests are about what follows); `request: 'keep'` leaves
 * it a request (the request's panel shows instead of the composer).
 * @param page the page
 * @param title conversation title
 * @param options `request: 'keep'` to not accept a request
 */
export async function openConversation(
  page: Page,
  title: string,
  options: { request?: 'accept' | 'keep' } = {},
): Promise<void> {
  await goTo(page, 'Chats');
  await conversationEntry(page, title).click();
  await page.locator('#conversation-title', { hasText: title }).waitFor();
  const panel = requestPanel(page);
  if (options.request !== 'keep' && (await panel.count()) > 0) {
    await panel.getByRole('button', { name: 'Accept' }).click();
    await page.getByLabel('Message', { exact: true }).waitFor();
  }
}

/**
 * The message-request panel of the open conversation (Accept, Decline, Block, Report).
 * @param page the page
 * @returns the panel
 */
export function requestPanel(page: Page): Locator {
  return page.getByRole('region', { name: /^Message request from/ });
}

/**
 * Types and sends a message in the open conversation (Enter sends).
 * @param page the page
 * @param text message text
 */
export async function send(page: Page, text: string): Promise<void> {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
  await page.locator('li.message-out', { hasText: text }).waitFor();
}

/**
 * Waits for a message to be shown in the open conversation.
 * @param page the page
 * @param text message text
 * @param direction in or out
 * @returns the message element
 */
export async function seeMessage(
  page: Page,
  text: string,
  direction: 'in' | 'out' = 'in',
): Promise<Locator> {
  const m = page.locator(`li.message-${direction}`, { hasText: text });
  try {
    await m.waitFor();
  } catch (err) {
    const others = await Promise.all(
      tracedPages().filter((p) => p !== page).map(async (p, i) => `--- other page ${i + 1}\n${await diagnose(p)}`),
    );
    throw new Error(`the message "${text}" (${direction}) did not show\n${await diagnose(page)}\n${others.join('\n')}`, {
      cause: err,
    });
  }
  return m;
}

/**
 * Waits until one of my messages reaches a delivery state.
 * @param page the page
 * @param text message text
 * @param status delivery state
 */
export async function waitForStatus(
  page: Page,
  text: string,
  status: 'sent' | 'delivered' | 'read',
): Promise<void> {
  const acceptable =
    status === 'sent'
      ? ['sent', 'delivered', 'read']
      : status === 'delivered'
        ? ['delivered', 'read']
        : ['read'];
  const selector = acceptable.map((s) => `li.message-out[data-status="${s}"]`).join(', ');
  await page.locator(selector, { hasText: text }).first().waitFor();
}


/**
 * Escapes a string for use inside a RegExp.
 * @param s the string
 * @returns the string with every RegExp metacharacter escaped
 */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
