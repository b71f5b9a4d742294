import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { describe, expect } from 'vitest';
import {
  BASE_URL,
  CHROMIUM,
  chattingPair,
  openConversation,
  reachApp,
  seeMessage,
  send,
  shot,
  switchSockets,
  test as it,
  waitForStatus,
} from './support/harness.js';

/**
 * Waits until the service worker is active and controls the page (the app shell is cached).
 * @param page the page
 */
async function serviceWorkerInControl(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise<void>((resolve) =>
        navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), {
          once: true,
        }),
      );
    }
  });
}

/**
 * Waits for the signed-out screen (the app has started).
 * @param page the page
 */
async function reachSignIn(page: Page): Promise<void> {
  await page.getByRole('tab', { name: 'Log in' }).waitFor();
}

/** The status line of one of my messages. */
function statusOf(page: Page, text: string) {
  return page.locator('li.message-out', { hasText: text }).getByTestId('message-status');
}

/**
 * Offline and installable (docs/web-client.md "Offline, install and updates"): the manifest and
 * the service worker make the app installable, it opens with the network down showing this
 * browser's history, and what is written offline goes out by itself once the network is back.
 */
describe('offline and installable', () => {
  it('when the app is loaded, then the manifest is served as JSON with its icons and Chromium finds the app installable', async ({
    browser,
  }) => {
    const context = await browser.newContext({ baseURL: BASE_URL });
    const page = await context.newPage();
    const manifest = await page.request.get('/manifest.webmanifest');
    expect(manifest.status()).toBe(200);
    expect(manifest.headers()['content-type']).toMatch(/^application\/manifest\+json/);
    expect(manifest.headers()['cache-control']).toBe('no-cache');
    const body = (await manifest.json()) as {
      start_url: string;
      display: string;
      icons: { src: string; sizes: string; type: string }[];
    };
    expect(body.start_url).toBe('/chats');
    expect(body.display).toBe('standalone');
    expect(body.icons.map((i) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
    for (const icon of body.icons) {
      const res = await page.request.get(icon.src);
      expect(res.status()).toBe(200);
      expect(res.headers()['content-type']).toBe('image/png');
    }
    const sw = await page.request.get('/sw.js');
    expect(sw.status()).toBe(200);
    expect(sw.headers()['content-type']).toMatch(/javascript/);
    expect(sw.headers()['cache-control']).toBe('no-cache');

    await context.close();

    // Installability is judged in a normal (not incognito) profile, as a person's browser is.
    const profile = mkdtempSync(join(tmpdir(), 'cipherchat-pwa-'));
    const installed = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      baseURL: BASE_URL,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-sync',
      ],
    });
    try {
      const app = installed.pages()[0] ?? (await installed.newPage());
      const problems: string[] = [];
      app.on('pageerror', (err) => problems.push(err.message));
      app.on('console', (msg) => {
        if (/Content Security Policy|Refused to/i.test(msg.text())) problems.push(msg.text());
      });
      await app.goto('/');
      await reachSignIn(app);
      await serviceWorkerInControl(app);
      const cdp = await installed.newCDPSession(app);
      const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as {
        installabilityErrors: { errorId: string }[];
      };
      expect(installabilityErrors).toEqual([]);
      expect(problems).toEqual([]);
      await shot(app, 'i17-pwa-installable');
    } finally {
      await installed.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });

  it('when Bob reloads with the network down, then the app opens with his chats, the history and the offline banner, and what he writes offline reaches Alice once he is back', async ({
    browser,
  }) => {
    const { alice, bob } = await chattingPair(browser, 'Hello Bob', 'Hello Alice');
    await serviceWorkerInControl(bob.page);
    // The API answers nothing from the worker's cache: the session's /me is never stored.
    expect(
      await bob.page.evaluate(async () => {
        const names = await caches.keys();
        const urls = (
          await Promise.all(
            names.map(async (n) => (await (await caches.open(n)).keys()).map((r) => r.url)),
          )
        ).flat();
        return urls.filter((u) => /\/(api|socket\.io)\//.test(u));
      }),
    ).toEqual([]);

    await bob.context.setOffline(true);
    await bob.page.reload();
    await reachApp(bob.page);
    const banner = bob.page.getByText('You are offline');
    await banner.waitFor();
    await openConversation(bob.page, alice.displayName);
    await seeMessage(bob.page, 'Hello Bob');
    await seeMessage(bob.page, 'Hello Alice', 'out');
    await shot(bob.page, 'i17-offline-reload-history');

    // Written offline: it waits (not failed, no Retry) ...
    await send(bob.page, 'Written while offline');
    await expect
      .poll(() => statusOf(bob.page, 'Written while offline').textContent())
      .toContain('Waiting for network');
    expect(await bob.page.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    await shot(bob.page, 'i17-offline-waiting-for-network');

    // ... and goes out by itself once the network is back: no click.
    await bob.context.setOffline(false);
    await banner.waitFor({ state: 'detached', timeout: 60_000 });
    await seeMessage(alice.page, 'Written while offline');
    await waitForStatus(bob.page, 'Written while offline', 'sent');
    expect(await bob.page.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    await shot(bob.page, 'i17-offline-sent-after-reconnect');
  });

  it('when Alice sends while her network is down in an open session, then the message waits and is delivered after she reconnects without any click', async ({
    browser,
  }) => {
    const { alice, bob } = await chattingPair(browser, 'Before the outage', 'Still here');
    const sockets = await switchSockets(alice);
    await reachApp(alice.page);
    await openConversation(alice.page, bob.displayName);
    await seeMessage(alice.page, 'Still here');
    await alice.context.setOffline(true);
    // Chromium's offline mode need not close an open WebSocket: drop it as a dead network would.
    sockets.down = true;
    await sockets.cut();
    const banner = alice.page.getByText('You are offline');
    await banner.waitFor();
    await send(alice.page, 'Queued during the outage');
    await expect
      .poll(() => statusOf(alice.page, 'Queued during the outage').textContent())
      .toContain('Waiting for network');
    // Long enough for a socket attempt or two to fail meanwhile.
    await alice.page.waitForTimeout(3000);
    expect(await alice.page.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    sockets.down = false;
    await alice.context.setOffline(false);
    await banner.waitFor({ state: 'detached', timeout: 60_000 });
    await seeMessage(bob.page, 'Queued during the outage');
    await waitForStatus(alice.page, 'Queued during the outage', 'sent');
    expect(await alice.page.getByRole('button', { name: 'Retry' }).count()).toBe(0);
  });
});
