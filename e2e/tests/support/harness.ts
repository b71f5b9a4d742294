import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';

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
  const slug = `${name.toLowerCase()}_${runId}_${randomBytes(2).toString('hex')}`;
  const { context, page, problems } = await openContext(browser, viewport);
  return {
    name,
    email: `${slug}@example.test`,
    username: slug,
    displayName: `${name} ${runId}`,
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
 * @returns context, page and the list that collects console errors / CSP violations
 */
export async function openContext(
  browser: Browser,
  viewport?: { width: number; height: number },
): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({
    viewport: viewport ?? { width: 1200, height: 800 },
    baseURL: BASE_URL,
  });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  const problems: string[] = [];
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
  const { context, page, problems } = await openContext(browser);
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

/**
 * Fails when a page logged CSP violations or uncaught errors.
 * @param people everyone in the test
 * @returns the problems found
 */
export function problemsOf(...people: Person[]): string[] {
  return people.flatMap((p) => p.problems.map((x) => `${p.name}: ${x}`));
}
