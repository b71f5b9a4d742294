/// <reference lib="webworker" />
/**
 * The CipherChat service worker (built by vite-plugin-pwa, `injectManifest`; see
 * docs/web-client.md "Offline, install and updates").
 *
 * - Precaches the app shell (index.html, the hashed bundle, styles, the OPAQUE WASM, icons,
 *   the manifest) so the app opens with the network down; navigations get the cached
 *   index.html (the app decides what to show).
 * - Never touches `/api/*` or `/socket.io/*`: no route matches them, so the browser fetches them
 *   as if there were no worker (network only, nothing stored, ciphertext or not).
 * - A new version waits until the page asks it to take over (`{type: 'SKIP_WAITING'}` from the
 *   "A new version is available" prompt), then the page reloads.
 * - `notificationclick`: focuses a window of the app (or opens `/chats/<conversationId>`) and
 *   tells it which conversation to open (`{type: 'openConversation', conversationId}`).
 */
import { clientsClaim } from 'workbox-core';
import {
  cleanupOutdatedCaches,
  createHandlerBoundToURL,
  precacheAndRoute,
} from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';

declare const self: ServiceWorkerGlobalScope & {
  __WB_MANIFEST: (string | { url: string; revision: string | null })[];
};

/** Paths the worker must leave to the network: the API and the socket. */
const NETWORK_ONLY = [/^\/api(\/|$)/, /^\/socket\.io(\/|$)/];

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
registerRoute(
  new NavigationRoute(createHandlerBoundToURL('/index.html'), { denylist: NETWORK_ONLY }),
);
// The first install controls the open page at once (nothing older to hand over from).
clientsClaim();

self.addEventListener('message', (event: ExtendableMessageEvent) => {
  const data = event.data as { type?: unknown } | null;
  if (data?.type === 'SKIP_WAITING') void self.skipWaiting();
});

/** A notification's `data` (shown by the app with `registration.showNotification`). */
interface NotificationData {
  conversationId?: unknown;
}

self.addEventListener('notificationclick', (event: NotificationEvent) => {
  event.notification.close();
  const data = event.notification.data as NotificationData | null;
  const conversationId =
    typeof data?.conversationId === 'string' && /^[A-Za-z0-9-]{1,64}$/.test(data.conversationId)
      ? data.conversationId
      : undefined;
  event.waitUntil(openConversation(conversationId));
});

/**
 * Brings a window of the app forward (or opens one) and asks it to open the conversation.
 * @param conversationId the notification's conversation, if any
 */
async function openConversation(conversationId: string | undefined): Promise<void> {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const own = windows.filter((w) => new URL(w.url).origin === self.location.origin);
  const existing = own.find((w) => w.focused) ?? own[0];
  if (existing) {
    const focused = await existing.focus().catch(() => existing);
    if (conversationId) focused.postMessage({ type: 'openConversation', conversationId });
    return;
  }
  await self.clients.openWindow(conversationId ? `/chats/${conversationId}` : '/chats');
}
