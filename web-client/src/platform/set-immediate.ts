/**
 * `setImmediate` for the browser, on a MessageChannel.
 *
 * Why: the Signal library's bundled msrcrypto (used for safety numbers) resolves every hash step
 * through `setImmediate`, falling back to `setTimeout(0)` when it is missing. Browsers clamp
 * nested timeouts to 4 ms, and a safety number takes ~10,000 steps: about a minute in Chromium.
 * A message-channel task is not clamped, which brings it back to well under a second.
 * msrcrypto picks its scheduler when its module is first evaluated, so this module must be
 * imported before anything that loads the SDK (it is the first import of main.tsx).
 */
type Task = () => void;

/**
 * Installs the polyfill when the platform has no `setImmediate`.
 * @param target the global object
 * @returns true when it was installed
 */
export function installSetImmediate(target: typeof globalThis = globalThis): boolean {
  const g = target as unknown as { setImmediate?: (fn: Task) => number };
  if (typeof g.setImmediate === 'function' || typeof MessageChannel === 'undefined') return false;
  const queue = new Map<number, Task>();
  let next = 0;
  const channel = new MessageChannel();
  channel.port1.onmessage = (e: MessageEvent<number>) => {
    const task = queue.get(e.data);
    queue.delete(e.data);
    task?.();
  };
  g.setImmediate = (fn: Task) => {
    next += 1;
    queue.set(next, fn);
    channel.port2.postMessage(next);
    return next;
  };
  return true;
}

installSetImmediate();
