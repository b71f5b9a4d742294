/**
 * Serialises token refreshes across everything in this browser profile.
 *
 * Why: refresh tokens rotate on every use and user-service treats a second use of the same
 * token as theft (it revokes the whole session). Two refreshes in flight at once with the same
 * cookie (two tabs, or the SDK and the REST layer after the same 15-minute expiry) would log
 * the user out. Refreshes that run one after another are fine: the second one carries the
 * cookie the first one just set. The Web Locks API gives one exclusive lock per origin, shared
 * by every tab.
 */
const REFRESH_PATH = '/api/user/auth/refresh';
const LOCK_NAME = 'cipherchat-token-refresh';

function urlOf(input: RequestInfo | URL): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  return input.url;
}

/**
 * Wraps fetch so that refresh requests run one at a time (per origin, across tabs).
 * @param base the fetch to wrap
 * @param locks the lock manager (absent in old browsers and in jsdom: then no lock)
 * @returns the wrapped fetch
 */
export function withSerialisedRefresh(
  base: typeof fetch,
  locks: LockManager | undefined = globalThis.navigator?.locks,
): typeof fetch {
  return (input, init) => {
    if (!locks || !urlOf(input).includes(REFRESH_PATH)) return base(input, init);
    // The lock resolves with the callback's (awaited) result: the response.
    const run = async (): Promise<Response> =>
      await locks.request(LOCK_NAME, { mode: 'exclusive' }, () => base(input, init));
    return run();
  };
}
