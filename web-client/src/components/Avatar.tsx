import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { AvatarApi } from '../state/avatars.js';
import { useApp } from '../state/store.js';
import '../styles/avatar.css';

/** One `blob:` URL per person and API (shared by every avatar on screen), dropped when it changes. */
const urls = new WeakMap<AvatarApi, Map<string, Promise<string | null>>>();

function cacheOf(api: AvatarApi): Map<string, Promise<string | null>> {
  let cache = urls.get(api);
  if (!cache) {
    cache = new Map();
    urls.set(api, cache);
    // One listener per API: a changed picture is read again by whoever shows it.
    api.onAvatarChanged((userId) => {
      const old = cache!.get(userId);
      cache!.delete(userId);
      void old?.then((u) => u && URL.revokeObjectURL(u));
    });
  }
  return cache;
}

/**
 * The `blob:` URL of someone's picture as this browser holds it (decrypted by the SDK), kept
 * current when it changes.
 * @param userId whose picture (undefined: none)
 * @returns the URL, or null while there is none
 */
export function useAvatarUrl(userId: string | undefined): string | null {
  const { api } = useApp();
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!userId) {
      setUrl(null);
      return;
    }
    let live = true;
    const cache = cacheOf(api);
    const load = () => {
      let p = cache.get(userId);
      if (!p) {
        p = api.avatarImage(userId).then(
          (blob) => (blob ? URL.createObjectURL(blob) : null),
          () => null,
        );
        cache.set(userId, p);
      }
      void p.then((u) => live && setUrl(u));
    };
    load();
    const off = api.onAvatarChanged((changed) => changed === userId && load());
    return () => {
      live = false;
      off();
    };
  }, [api, userId]);
  return url;
}

/** Up to two initials of a name ("Bob Builder" → "BB", "alice" → "A"). */
export function initialsOf(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.slice(0, 2).map((w) => [...w][0] ?? '');
  return letters.join('').toUpperCase() || '?';
}

/** How many colours initials come in (`.avatar-colour-0` … in avatar.css). */
const COLOURS = 8;

/** A colour for someone's initials (0–7), the same on every screen (from their id or name). */
export function avatarColour(key: string): number {
  let h = 0;
  for (const ch of key) h = (h * 31 + (ch.codePointAt(0) ?? 0)) % 9973;
  return h % COLOURS;
}

/**
 * A person's profile picture (end to end from them, decrypted in this browser), or their
 * initials on a coloured circle when there is none (a group: its title's initials).
 * @param props.userId the person (undefined for a group)
 * @param props.name their name (initials, alt text)
 * @param props.size `small` (lists, bubbles), `medium` (chat header), `large` (settings)
 */
export function Avatar({
  userId,
  name,
  size = 'small',
}: {
  userId?: string | undefined;
  name: string;
  size?: 'small' | 'medium' | 'large';
}) {
  const { t } = useTranslation('avatar');
  const url = useAvatarUrl(userId);
  if (url)
    return (
      <img
        className={`avatar avatar-${size}`}
        src={url}
        alt={t('avatar.of', { name })}
        data-testid="avatar-image"
      />
    );
  return (
    <span
      // A class, not a style attribute: the CSP allows no inline styles.
      className={`avatar avatar-${size} avatar-initials avatar-colour-${avatarColour(userId ?? name)}`}
      aria-hidden="true"
      data-testid="avatar-initials"
      // Drawn by CSS from the attribute: the initials stay out of the text of what holds them.
      data-initials={initialsOf(name)}
    />
  );
}
