import * as opaque from '@serenity-kit/opaque';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { call, createHarness, newAccount, register, type Harness } from './support/harness.js';

// Issue 15, security review: the directory must not be scrapable by walking three-character
// prefixes and pages. Searches are counted per account in Redis (RATE_DIRECTORY_PER_MIN), across
// every replica, and the account over its budget gets 429 `rate_limited` with `Retry-After`.

describe('directory search limit per account', () => {
  let h: Harness;
  let a: { app: App; url: string };
  let b: { app: App; url: string };

  beforeAll(async () => {
    h = await createHarness('dirlim');
    // two replicas sharing one Redis: the budget is the account's, not the replica's
    a = await h.startApp({ RATE_DIRECTORY_PER_MIN: '4' });
    b = await h.startApp({ RATE_DIRECTORY_PER_MIN: '4' });
    await opaque.ready;
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Signs up a fresh account and returns its bearer header. */
  async function someone(): Promise<Record<string, string>> {
    const r = await register(a.url, newAccount('dirl'));
    expect(r.status).toBe(200);
    return { authorization: `Bearer ${r.body.accessToken as string}` };
  }

  it('when one account searches more than RATE_DIRECTORY_PER_MIN times in a minute, on any replica, then 429 rate_limited with Retry-After, and other accounts are not affected', async () => {
    const scraper = await someone();
    const person = await someone();
    const answers: number[] = [];
    for (const [i, q] of ['aaa', 'aab', 'aac', 'aad'].entries()) {
      answers.push(
        (await call(i % 2 ? b.url : a.url, 'GET', `/users?query=${q}`, undefined, scraper)).status,
      );
    }
    expect(answers).toEqual([200, 200, 200, 200]);
    for (const url of [a.url, b.url]) {
      const over = await call(url, 'GET', '/users?query=aae&limit=50', undefined, scraper);
      expect(over.status).toBe(429);
      expect(over.body.error.code).toBe('rate_limited');
      const retry = Number(over.headers.get('retry-after'));
      expect(retry).toBeGreaterThanOrEqual(1);
      expect(retry).toBeLessThanOrEqual(60);
    }
    // a refused query counts too (it is still a probe), and is refused by the limit first
    expect((await call(a.url, 'GET', '/users?query=ab', undefined, scraper)).status).toBe(429);
    // someone else's budget is their own
    expect((await call(b.url, 'GET', '/users?query=aaa', undefined, person)).status).toBe(200);
  });

  it('when no one is logged in, then the directory answers 401 before counting anything', async () => {
    expect((await call(a.url, 'GET', '/users?query=aaa')).status).toBe(401);
  });
});
