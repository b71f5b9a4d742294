import { registerSW } from 'virtual:pwa-register';
import { updateState } from './update-state.js';

/**
 * Registers the service worker (`/sw.js`, built from `src/sw.ts`) from the bundle, so no
 * inline script is needed. A new build's worker installs in the background and waits; the
 * page then shows "A new version is available" (`UpdatePrompt`), whose Reload asks the
 * waiting worker to take over (`SKIP_WAITING`) and reloads once it controls the page.
 */
export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  const update = registerSW({
    immediate: true,
    onNeedRefresh() {
      updateState.set(() => update(true));
    },
    onRegisterError(error: unknown) {
      console.warn('cipherchat: the service worker could not be registered', error);
    },
  });
}
