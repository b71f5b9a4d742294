import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Locator, Page, WebSocketRoute } from 'playwright-core';
import { test as vitestTest } from 'vitest';

/** The stack behind nginx (same origin for the app, /api and /socket.io). */
export const BASE_URL = (process.env.E2E_BASE_URL ?? 'http://localhost:8080').replace(/\/$/, '');
/** maildev's web/REST port (`GET /email`). */
export const MAILDEV_URL = (process.env.E2E_MAILDEV_URL ?? 'http://localhost:1080').replace(
  /\/$/,
  '',
);
/** Debian's Chromium; never a downloaded browser. */
export const CHROMIUM = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots of the main screens land here (the test artifacts; git-ignored). */
export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'artifacts');

/** How long one UI outcome may take (sign-up derives keys and uploads prekeys and a backup). */
export const STEP_TIMEOUT_MS = 30_000;

/**
 * Starts headless Chromium.
 * @returns the browser
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** One person in one browser (a context = a separate browser profile: own cookies and IndexedDB). */
export interface Person {
  name: string;
  email: string;
  username: string;
  displayName: string;
  password: string;
  context: BrowserContext;
  page: Page;
  /** Console errors and CSP violations seen by this page. */
  problems: string[];
}

/** The pages opened in each browser, by label, with the problems each one collected. */
const problemsByBrowser = new WeakMap<Browser, Array<{ label: string; problems: string[] }>>();

/**
 * Every CSP violation or uncaught page error seen in any context of a browser, closed or not.
 * @param browser the browser
 * @returns one line per problem, prefixed with the context's label
 */
export function problemsIn(browser: Browser): string[] {
  return (problemsByBrowser.get(browser) ?? []).flatMap(({ label, problems }) =>
    problems.map((x) => `${label}: ${x}`),
  );
}

/**
 * The e2e `test`: each test gets its own Chromium (`browser`), closed when the test ends, so no
 * page, socket or account outlives the test that made it. After the test body the fixture fails
 * the test if any page it opened hit a CSP violation or an uncaught error.
 */
export const test = vitestTest.extend<{ browser: Browser }>({
  // eslint-disable-next-line no-empty-pattern -- vitest reads the fixtures a fixture needs from this pattern
  browser: async ({}, use) => {
    const browser = await launchBrowser();
    try {
      await use(browser);
      const problems = problemsIn(browser);
      if (problems.length) throw new Error(`pages hit CSP violations or uncaught errors:\n${problems.join('\n')}`);
    } finally {
      await browser.close();
    }
  },
});

/** Random suffix so every run uses fresh accounts. */
export const runId = randomBytes(4).toString('hex');

/**
 * A fresh person with their own browser context (nothing signed up yet).
 * @param browser the browser
 * @param name first name, e.g. "Alice"
 * @param viewport optional viewport (phone screenshots)
 * @returns the person
 */
export async function newPerson(
  browser: Browser,
  name: string,
  viewport?: { width: number; height: number },
): Promise<Person> {
  // Unique per person, not per run: every test signs up its own Alice and Bob, and the
  // directory search and the conversation list must tell them apart.
  const suffix = randomBytes(2).toString('hex');
  const slug = `${name.toLowerCase()}_${runId}_${suffix}`;
  const { context, page, problems } = await openContext(browser, viewport, name);
  return {
    name,
    email: `${slug}@example.test`,
    username: slug,
    displayName: `${name} ${runId}${suffix}`,
    password: `pw-${randomBytes(9).toString('base64url')}`,
    context,
    page,
    problems,
  };
}

/**
 * Opens a new browser context (a "new browser" for the same person) on the app.
 * @param browser the browser
 * @param viewport optional viewport
 * @param label who uses it, for the problem report of {@link test}
 * @returns context, page and the list that collects console errors / CSP violations
 */
export async function openContext(
  browser: Browser,
  viewport?: { width: number; height: number },
  label = 'a page',
): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({
    viewport: viewport ?? { width: 1200, height: 800 },
    baseURL: BASE_URL,
  });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  const problems: string[] = [];
  const seen = problemsByBrowser.get(browser) ?? [];
  seen.push({ label, problems });
  problemsByBrowser.set(browser, seen);
  page.on('console', (msg) => {
    const text = msg.text();
    if (/Content Security Policy|Refused to (execute|load|apply)/i.test(text))
      problems.push(`CSP: ${text}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  trace(page);
  await page.goto('/');
  return { context, page, problems };
}

/**
 * Moves a person to another browser context (keeps their credentials).
 * @param p the person
 * @param browser the browser
 * @returns the person in the new context
 */
export async function inNewBrowser(p: Person, browser: Browser): Promise<Person> {
  const { context, page, problems } = await openContext(browser, undefined, `${p.name} (another browser)`);
  return { ...p, context, page, problems };
}

/**
 * Saves a screenshot to e2e/artifacts/<name>.png.
 * @param page the page
 * @param name file name without extension
 */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
}

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

/** What a page did lately, for the message of a failed wait. */
interface PageTrace {
  pending: Map<string, { what: string; since: number }>;
  log: string[];
}
const traces = new Map<Page, PageTrace>();

/** Records a page's unfinished requests and its last console lines and request failures. */
function trace(page: Page): void {
  const t: PageTrace = { pending: new Map(), log: [] };
  traces.set(page, t);
  const note = (line: string) => {
    t.log.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
    if (t.log.length > 40) t.log.shift();
  };
  let seq = 0;
  const ids = new WeakMap<object, string>();
  page.on('request', (r) => {
    const id = String((seq += 1));
    ids.set(r, id);
    t.pending.set(id, { what: `${r.method()} ${r.url()}`, since: Date.now() });
  });
  page.on('requestfinished', (r) => {
    const id = ids.get(r);
    if (id) t.pending.delete(id);
    void r.response().then((res) => {
      if (res && res.status() >= 400) note(`HTTP ${res.status()} ${r.method()} ${r.url()}`);
    });
  });
  page.on('requestfailed', (r) => {
    const id = ids.get(r);
    if (id) t.pending.delete(id);
    note(`request failed: ${r.method()} ${r.url()} (${r.failure()?.errorText ?? '?'})`);
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') note(`console.${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => note(`page error: ${err.stack ?? err.message}`));
  page.on('close', () => traces.delete(page));
  page.on('websocket', (ws) => {
    note(`websocket open ${ws.url()}`);
    ws.on('close', () => note(`websocket closed ${ws.url()}`));
  });
}

/**
 * Describes a page stuck somewhere: alerts shown, unfinished requests, recent console/HTTP trouble.
 * @param page the page
 * @returns a multi-line report
 */
export async function diagnose(page: Page): Promise<string> {
  const t = traces.get(page);
  const alerts = await page
    .getByRole('alert')
    .allTextContents()
    .catch(() => []);
  const now = Date.now();
  const pending = [...(t?.pending.values() ?? [])]
    .filter((r) => !r.what.includes('/socket.io/'))
    .map((r) => `  ${r.what} (${Math.round((now - r.since) / 1000)} s)`);
  const outgoing = await page
    .locator('li.message-out')
    .evaluateAll((els) => els.slice(-3).map((e) => (e.textContent ?? '').replace(/\s+/g, ' ').trim()))
    .catch(() => []);
  return [
    `url: ${page.url()}`,
    `alerts: ${JSON.stringify(alerts)}`,
    `last sent messages: ${JSON.stringify(outgoing)}`,
    `unfinished requests:${pending.length ? `\n${pending.join('\n')}` : ' none'}`,
    `recent trouble:${t?.log.length ? `\n  ${t.log.join('\n  ')}` : ' none'}`,
  ].join('\n');
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
    .getByRole('button', { name: section })
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
 * @returns the button
 */
export function conversationEntry(page: Page, title: string): Locator {
  return page
    .getByRole('navigation', { name: 'Conversations' })
    .getByRole('button', { name: new RegExp(`^${escapeRegExp(title)}`) });
}

/**
 * Opens a conversation from the list.
 * @param page the page
 * @param title conversation title
 */
export async function openConversation(page: Page, title: string): Promise<void> {
  await goTo(page, 'Chats');
  await conversationEntry(page, title).click();
  await page.locator('#conversation-title', { hasText: title }).waitFor();
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
      [...traces.keys()].filter((p) => p !== page).map(async (p, i) => `--- other page ${i + 1}\n${await diagnose(p)}`),
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

/** Escapes a string for use inside a RegExp. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One message as maildev's REST API lists it. */
interface MaildevEmail {
  subject: string;
  to: Array<{ address: string }>;
  text?: string;
  html?: string;
  date?: string;
}

/**
 * Waits for an email to an address whose body contains a link to `path` and returns that link,
 * rebased onto {@link BASE_URL} (the stack may advertise another public origin).
 * @param to recipient
 * @param path link path, e.g. `/verify-email`
 * @returns the link
 */
export async function waitForEmailLink(
  to: string,
  path: '/verify-email' | '/reset-password',
): Promise<string> {
  const deadline = Date.now() + 60_000;
  const re = new RegExp(`https?://[^\\s"'<>]+${escapeRegExp(path)}\\?token=[^\\s"'<>]+`);
  while (Date.now() < deadline) {
    const res = await fetch(`${MAILDEV_URL}/email`);
    if (res.ok) {
      const mails = (await res.json()) as MaildevEmail[];
      for (const mail of mails.slice().reverse()) {
        if (!mail.to.some((t) => t.address.toLowerCase() === to.toLowerCase())) continue;
        const found = re.exec(mail.text ?? '') ?? re.exec(mail.html ?? '');
        if (found) {
          const url = new URL(found[0].replace(/&amp;/g, '&'));
          return `${BASE_URL}${url.pathname}${url.search}`;
        }
      }
    }
    // maildev has no push API for tests; the outbox relay and SMTP take a moment.
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no email with a ${path} link reached ${to} within 60 s`);
}

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
 * Alice and Bob sign up in their own contexts and start chatting ({@link openDirectChat}).
 * @param browser the browser
 * @param text Alice's first message
 * @returns the two people, each with the chat open
 */
export async function chattingPair(
  browser: Browser,
  text: string,
): Promise<{ alice: SignedUpPerson; bob: SignedUpPerson }> {
  const alice = await signedUp(browser, 'Alice');
  const bob = await signedUp(browser, 'Bob');
  await openDirectChat(alice, bob, text);
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
 * Follows the emailed verification link in another browser context and logs in there, as a
 * person would. The login matters: its `user.new_login` event reaches notification-service on
 * the same queue as a later password-reset request and says the address is verified, while the
 * verification's own `user.profile_updated` event travels on another queue and may arrive after
 * the reset request (which is then not mailed). The context is closed afterwards.
 * @param p the person
 * @param browser the browser
 */
export async function verifyEmail(p: Person, browser: Browser): Promise<void> {
  const link = await waitForEmailLink(p.email, '/verify-email');
  const verifier = await inNewBrowser(p, browser);
  const { page } = verifier;
  await page.goto(link);
  await page.getByText('Your email address is confirmed.').waitFor();
  await page.getByRole('button', { name: 'Continue' }).click();
  await logIn(verifier);
  await verifier.context.close();
}

/**
 * Resets a forgotten password through the mailed link in a new browser context and ends on the
 * login form. The address must be verified ({@link verifyEmail}).
 * @param p the person
 * @param browser the browser
 * @param newPassword the new password
 * @returns the person in the new context, with the new password
 */
export async function resetPassword(p: Person, browser: Browser, newPassword: string): Promise<Person> {
  const after = { ...(await inNewBrowser(p, browser)), password: newPassword };
  const { page } = after;
  await page.getByRole('button', { name: 'Forgot your password?' }).click();
  await page.getByRole('form', { name: 'Reset password' }).getByLabel('Email').fill(p.email);
  await page.getByRole('button', { name: 'Send reset link' }).click();
  await page.getByText('If an account exists for this address').waitFor();
  const link = await waitForEmailLink(p.email, '/reset-password');
  await page.goto(link);
  await page.getByLabel('New password', { exact: true }).fill(newPassword);
  await page.getByLabel('Confirm new password').fill(newPassword);
  await page.getByRole('button', { name: 'Set new password' }).click();
  await page.getByText('Your password is changed').waitFor({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Go to log in' }).click();
  await page.getByRole('tab', { name: 'Log in' }).click();
  return after;
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

/**
 * A person's Socket.IO connections routed through Playwright, so a test can cut them the way a
 * server outage or a dead network does; while `down`, new connection attempts reach nothing.
 */
export interface SocketSwitch {
  /** While true, new sockets are black-holed: never connected, never answered. */
  down: boolean;
  /** The sockets currently passed through to the server. */
  readonly open: Set<WebSocketRoute>;
  /** Closes every open socket (code 4000) as the server or the network would. */
  cut(): Promise<void>;
}

/**
 * Routes a person's sockets through a {@link SocketSwitch} and reloads their page (a route
 * applies to pages loaded after it). Call before signing up or logging in.
 * @param p the person
 * @returns the switch
 */
export async function switchSockets(p: Person): Promise<SocketSwitch> {
  const sw: SocketSwitch = {
    down: false,
    open: new Set(),
    async cut() {
      const open = [...sw.open];
      sw.open.clear();
      await Promise.all(open.map((ws) => ws.close({ code: 4000, reason: 'cut by the test' })));
    },
  };
  await p.context.routeWebSocket(/\/socket\.io\//, (ws) => {
    // A server that is down black-holes the attempt: Socket.IO gives up on it after its 20 s
    // connect timeout and retries.
    if (sw.down) return;
    ws.connectToServer();
    sw.open.add(ws);
  });
  await p.page.reload();
  return sw;
}
