import type { Redis } from 'ioredis';

/**
 * Calls `fn` each time one of the connections is ready again after it was lost (not on the
 * first connect), `settleMs` after its `ready` event: time for ioredis to resend a subscriber's
 * SUBSCRIBE commands. Connections coming back within that time give one call.
 * @param clients the connections to watch
 * @param settleMs delay after `ready`
 * @param fn what to run
 */
export function onRedisRecovered(
  clients: readonly Redis[],
  settleMs: number,
  fn: () => void,
): void {
  let timer: NodeJS.Timeout | undefined;
  for (const c of clients) {
    let lost = false;
    c.on('close', () => {
      lost = true;
    });
    c.on('ready', () => {
      if (!lost) return;
      lost = false;
      clearTimeout(timer);
      timer = setTimeout(fn, settleMs);
      timer.unref();
    });
  }
}
