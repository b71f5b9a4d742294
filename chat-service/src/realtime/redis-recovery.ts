import type { Redis } from 'ioredis';

/**
 * Calls `fn` each time one of the connections is ready again after it was lost; not on the
 * first connect. Synchronously, in the `ready` handler: before any message of a resubscribed
 * channel is handled.
 * @param clients the connections to watch
 * @param fn what to run
 */
export function onRedisRecovered(clients: readonly Redis[], fn: () => void): void {
  for (const c of clients) {
    let lost = false;
    c.on('close', () => {
      lost = true;
    });
    c.on('ready', () => {
      if (!lost) return;
      lost = false;
      fn();
    });
  }
}
