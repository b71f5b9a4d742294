import { useSyncExternalStore } from 'react';

/** How often relative times ("2 minutes ago") are worded again. */
export const NOW_TICK_MS = 60_000;

const listeners = new Set<() => void>();
let now = Date.now();
let timer: ReturnType<typeof setInterval> | undefined;

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (!timer) {
    now = Date.now();
    // One timer for the whole page, however many times are shown; it stops with the last one.
    timer = setInterval(() => {
      now = Date.now();
      for (const l of listeners) l();
    }, NOW_TICK_MS);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

function snapshot(): number {
  return now;
}

/**
 * The current time, refreshed once a minute by a single timer shared by every caller.
 * @returns epoch milliseconds
 */
export function useNow(): number {
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}
