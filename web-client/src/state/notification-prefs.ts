/**
 * This browser's notification settings and the browser's permission, as a small external
 * store React reads with `useSyncExternalStore` (the prompt on the chats screen and the
 * Settings section share it). Settings are written to localStorage only when the person
 * changes one, so a fresh sign-up leaves localStorage empty; they hold no secret.
 */
import { useSyncExternalStore } from 'react';
import { DEFAULT_PREFS } from './notifications.js';
import type { NotificationPrefs, NotifyPermission } from './notifications.js';

const STORAGE_KEY = 'cipherchat.notifications';
const listeners = new Set<() => void>();
let cached: NotificationPrefs | null = null;

function read(): NotificationPrefs {
  try {
    const raw = globalThis.localStorage?.getItem(STORAGE_KEY);
    if (!raw) return DEFAULT_PREFS;
    const parsed = JSON.parse(raw) as Partial<Record<keyof NotificationPrefs, unknown>>;
    const flag = (k: keyof NotificationPrefs) =>
      typeof parsed[k] === 'boolean' ? parsed[k] : DEFAULT_PREFS[k];
    return {
      enabled: flag('enabled'),
      previews: flag('previews'),
      sound: flag('sound'),
      promptDismissed: flag('promptDismissed'),
    };
  } catch {
    return DEFAULT_PREFS;
  }
}

/** @returns this browser's notification settings */
export function getPrefs(): NotificationPrefs {
  return (cached ??= read());
}

/**
 * Changes some settings and remembers them on this browser.
 * @param patch the settings to change
 */
export function setPrefs(patch: Partial<NotificationPrefs>): void {
  cached = { ...getPrefs(), ...patch };
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, JSON.stringify(cached));
  } catch {
    // Storage blocked: the change holds for this page only.
  }
  for (const l of listeners) l();
}

/** @returns the browser's notification permission right now */
export function currentPermission(): NotifyPermission {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

/** Tells the store's readers that the permission may have changed. */
export function permissionChanged(): void {
  for (const l of listeners) l();
}

/**
 * Asks the browser for permission (call it from a click: browsers ignore it otherwise).
 * @returns the permission afterwards
 */
export async function askPermission(): Promise<NotifyPermission> {
  if (typeof Notification === 'undefined') return 'unsupported';
  const result = await Notification.requestPermission();
  permissionChanged();
  return result;
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  // A permission changed in the browser's site settings is seen without a reload.
  let status: PermissionStatus | undefined;
  const onChange = () => listener();
  void globalThis.navigator?.permissions
    ?.query({ name: 'notifications' })
    .then((s) => {
      status = s;
      s.addEventListener('change', onChange);
    })
    .catch(() => undefined);
  return () => {
    listeners.delete(listener);
    status?.removeEventListener('change', onChange);
  };
}

let snapshot: { prefs: NotificationPrefs; permission: NotifyPermission } | null = null;
function getSnapshot() {
  const prefs = getPrefs();
  const permission = currentPermission();
  if (!snapshot || snapshot.prefs !== prefs || snapshot.permission !== permission)
    snapshot = { prefs, permission };
  return snapshot;
}

/**
 * The settings and the permission, re-rendering when either changes.
 * @returns `{prefs, permission}`
 */
export function useNotificationPrefs(): { prefs: NotificationPrefs; permission: NotifyPermission } {
  return useSyncExternalStore(subscribe, getSnapshot);
}

/** Tests: forgets the cached settings (after clearing localStorage). */
export function resetPrefsForTests(): void {
  cached = null;
  snapshot = null;
}
