/**
 * What each page of a test did lately (unfinished requests, console and HTTP trouble), so a
 * failed wait can say where the page was stuck.
 */
import type { Page } from 'playwright-core';

/** What a page did lately, for the message of a failed wait. */
interface PageTrace {
  pending: Map<string, { what: string; since: number }>;
  log: string[];
}
const traces = new Map<Page, PageTrace>();

/**
 * Records a page's unfinished requests and its last console lines and request failures.
 * @param page the page (forgotten when it closes)
 */
export function trace(page: Page): void {
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
    // the page may close before the response is read: that is no failure of the test
    void r.response().then(
      (res) => {
        if (res && res.status() >= 400) note(`HTTP ${res.status()} ${r.method()} ${r.url()}`);
      },
      () => undefined,
    );
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
 * The pages being traced (open pages of the running test).
 * @returns the pages
 */
export function tracedPages(): Page[] {
  return [...traces.keys()];
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
