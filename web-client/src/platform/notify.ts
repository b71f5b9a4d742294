/**
 * The browser side of notifications: showing and closing them (through the service worker's
 * registration when one is active, else `new Notification`), the service worker's "open this
 * conversation" message, the favicon badge and the new-message sound.
 */
import soundUrl from '../assets/message.wav';
import { badgeLabel, openConversationRequest } from '../state/notifications.js';
import type { NotificationSpec } from '../state/notifications.js';

/** Page notifications shown without a service worker, by tag (to close them). */
const pageNotifications = new Map<string, Notification>();
/** Shows run one after the other, so they appear in the order the messages came. */
let queue: Promise<void> = Promise.resolve();

async function activeRegistration(): Promise<ServiceWorkerRegistration | undefined> {
  const sw = globalThis.navigator?.serviceWorker;
  if (!sw) return undefined;
  const reg = await sw.getRegistration().catch(() => undefined);
  return reg?.active ? reg : undefined;
}

/**
 * Shows a notification: with `registration.showNotification` when a service worker is active
 * (its `notificationclick` focuses the tab and posts `openConversation`), else with
 * `new Notification`, whose click focuses this tab and calls `onOpen`. The app plays its own
 * sound (Settings), so the notification itself is silent.
 * @param spec what to show
 * @param onOpen opens the conversation (page notifications only)
 */
export function showNotification(
  spec: NotificationSpec,
  onOpen: (conversationId: string) => void,
): void {
  const options: NotificationOptions = {
    body: spec.body,
    tag: spec.tag,
    icon: '/logo.png',
    silent: true,
    data: { conversationId: spec.conversationId },
  };
  queue = queue
    .then(async () => {
      const reg = await activeRegistration();
      if (reg) {
        await reg.showNotification(spec.title, options);
        return;
      }
      if (typeof Notification === 'undefined') return;
      pageNotifications.get(spec.tag)?.close();
      const n = new Notification(spec.title, options);
      pageNotifications.set(spec.tag, n);
      n.addEventListener('click', () => {
        window.focus();
        onOpen(spec.conversationId);
        n.close();
      });
      n.addEventListener('close', () => {
        if (pageNotifications.get(spec.tag) === n) pageNotifications.delete(spec.tag);
      });
    })
    .catch((err: unknown) => {
      // Refused by the browser (permission withdrawn meanwhile): nothing to show; log no content.
      console.warn(
        'cipherchat: a notification could not be shown:',
        err instanceof Error ? err.name : 'error',
      );
    });
}

/**
 * Closes the notifications of these tags (page and service worker ones).
 * @param tags notification tags
 */
export function closeNotifications(tags: string[]): void {
  if (tags.length === 0) return;
  // Queued behind the shows, so a show still on its way is closed too.
  queue = queue
    .then(async () => {
      for (const tag of tags) pageNotifications.get(tag)?.close();
      const reg = await activeRegistration();
      if (!reg) return;
      for (const tag of tags) for (const n of await reg.getNotifications({ tag })) n.close();
    })
    .catch(() => undefined);
}

/** Who opens a conversation the service worker asks for; until set, the last ask is kept. */
let openHandler: ((conversationId: string) => void) | null = null;
let openAsked: string | null = null;
// Listening from the start: a click may open a new window, whose app is not signed in yet.
globalThis.navigator?.serviceWorker?.addEventListener('message', (e: MessageEvent) => {
  const id = openConversationRequest(e.data);
  if (!id) return;
  if (openHandler) openHandler(id);
  else openAsked = id;
});
globalThis.navigator?.serviceWorker?.startMessages();

/**
 * Opens the conversations the service worker asks for, `{type: 'openConversation',
 * conversationId}` (posted after a click on one of its notifications), including one asked for
 * before this was called.
 * @param onOpen opens the conversation
 * @returns stops
 */
export function onServiceWorkerOpen(onOpen: (conversationId: string) => void): () => void {
  openHandler = onOpen;
  if (openAsked) {
    onOpen(openAsked);
    openAsked = null;
  }
  return () => {
    if (openHandler === onOpen) openHandler = null;
  };
}

/**
 * Where the person is: using this tab, seeing it in a window without the focus, or elsewhere.
 * @returns `focused`, `visible` or `hidden`
 */
export function tabPresence(): 'focused' | 'visible' | 'hidden' {
  if (document.visibilityState !== 'visible') return 'hidden';
  return document.hasFocus() ? 'focused' : 'visible';
}

let audio: HTMLAudioElement | null = null;
let lastSound = 0;
/** A burst (the mailbox drained after a reconnection) plays the sound once. */
const SOUND_GAP_MS = 1500;

/** Plays the new-message sound (browsers refuse it before any click on the page; then silent). */
export function playMessageSound(): void {
  const now = Date.now();
  if (now - lastSound < SOUND_GAP_MS) return;
  lastSound = now;
  audio ??= new Audio(soundUrl);
  audio.currentTime = 0;
  void audio.play()?.catch(() => undefined);
}

const ICON = '/logo.png';
let logo: Promise<HTMLImageElement> | null = null;
let drawn = 0;

function loadLogo(): Promise<HTMLImageElement> {
  logo ??= new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error('logo not loaded'));
    img.src = ICON;
  });
  return logo;
}

function iconLink(): HTMLLinkElement {
  let link = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
  if (!link) {
    link = document.createElement('link');
    link.rel = 'icon';
    link.type = 'image/png';
    document.head.appendChild(link);
  }
  return link;
}

/**
 * Shows the unread count on the favicon: the logo with a red badge, drawn on a canvas into a
 * `data:` PNG (the CSP allows `img-src data:`); the plain logo at zero.
 * @param count unread total
 */
export async function setFaviconCount(count: number): Promise<void> {
  drawn = count;
  if (count === 0) {
    iconLink().href = ICON;
    return;
  }
  const img = await loadLogo();
  if (drawn !== count) return; // a newer count is being drawn
  const size = 64;
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const g = canvas.getContext('2d');
  if (!g) return;
  g.drawImage(img, 0, 0, size, size);
  const label = badgeLabel(count);
  const r = label.length > 2 ? 22 : 18;
  g.fillStyle = '#d32f2f';
  g.beginPath();
  g.arc(size - r, r, r, 0, 2 * Math.PI);
  g.fill();
  g.fillStyle = '#ffffff';
  g.font = `bold ${label.length > 1 ? 22 : 28}px sans-serif`;
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  g.fillText(label, size - r, r + 1);
  iconLink().href = canvas.toDataURL('image/png');
}
