/**
 * Whether a new version of the app is waiting (its service worker installed, not yet in
 * control), and how to switch to it. Filled by `register.ts`, read by `UpdatePrompt`.
 */
type Listener = () => void;

let apply: (() => Promise<void>) | null = null;
const listeners = new Set<Listener>();

/** The update waiting, if any: a function that activates it and reloads the page. */
export const updateState = {
  /** @returns the function that applies the waiting update, or null when there is none */
  get(): (() => Promise<void>) | null {
    return apply;
  },
  /** @param next the waiting update's apply function (null: none) */
  set(next: (() => Promise<void>) | null): void {
    apply = next;
    for (const l of listeners) l();
  },
  /** @param listener called on every change @returns unsubscribe */
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
