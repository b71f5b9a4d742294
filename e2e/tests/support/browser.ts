/**
 * The browser side of the e2e harness: where the stack is, one Chromium per test, people as
 * browser contexts, and screenshots.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { test as vitestTest } from 'vitest';
import { trace } from './diagnostics.js';

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

/** Chromium flags for a fake microphone (a tone) that needs no permission prompt, and audio that may play without a click. */
export const FAKE_MEDIA_ARGS = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
];

/**
 * Starts headless Chromium.
 * @param extraArgs more command-line flags (e.g. {@link FAKE_MEDIA_ARGS})
 * @returns the browser
 */
export function launchBrowser(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
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
export const test = browserTest();

/**
 * The e2e `test` with Chromium started with more flags (see {@link test}).
 * @param extraArgs command-line flags, e.g. {@link FAKE_MEDIA_ARGS}
 * @returns the test function
 */
export function browserTest(extraArgs: readonly string[] = []) {
  return vitestTest.extend<{ browser: Browser }>({
    // eslint-disable-next-line no-empty-pattern -- vitest reads the fixtures a fixture needs from this pattern
    browser: async ({}, use) => {
      const browser = await launchBrowser(extraArgs);
      try {
        await use(browser);
        const problems = problemsIn(browser);
        if (problems.length)
          throw new Error(`pages hit CSP violations or uncaught errors:\n${problems.join('\n')}`);
      } finally {
        await browser.close();
      }
    },
  });
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
