/**
 * The page harness the in-browser benches share (history, search): bundles a bench's `page.ts`
 * with esbuild, serves it on 127.0.0.1, opens it in Debian's Chromium and calls the functions the
 * page puts on `globalThis[name]`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Nearest-rank percentile of sorted values. */
export function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** A bench page: its browser and page, and a typed call of the page's functions. */
export interface BenchPage<Api> {
  browser: Browser;
  page: Page;
  call<K extends keyof Api>(
    name: K,
    ...args: Api[K] extends (...a: infer A) => unknown ? A : never
  ): Api[K] extends (...a: never[]) => infer R ? R : never;
  close(): Promise<void>;
}

/**
 * Opens a bench's page.
 * @param dir the bench's directory (its `page.ts` is bundled)
 * @param name the global the page sets once ready
 * @returns the open page
 */
export async function openBenchPage<Api>(dir: string, name: string): Promise<BenchPage<Api>> {
  const bundle = await build({
    entryPoints: [path.join(dir, 'page.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    conditions: ['source'],
    logLevel: 'error',
  });
  const js = bundle.outputFiles[0]!.text;
  const server = createServer((req, res) => {
    if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    else
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><script type="module" src="/page.js"></script>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const close = async () => {
    await browser.close();
    server.close();
  };
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(0);
    await page.goto(url);
    await page.waitForFunction((g) => g in globalThis, name);
    const call = ((k: string, ...a: unknown[]) =>
      page.evaluate(
        ([g, fn, args]) =>
          (globalThis as unknown as Record<string, Record<string, (...x: unknown[]) => unknown>>)[
            g
          ]![fn]!(...args),
        [name, k, a] as const,
      )) as unknown as BenchPage<Api>['call'];
    return { browser, page, call, close };
  } catch (err) {
    await close();
    throw err;
  }
}
