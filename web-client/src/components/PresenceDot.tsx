import { useTranslation } from 'react-i18next';
import { useApp } from '../state/store.js';
import { exactTime, relativeTime } from './time-format.js';
import { useNow } from './use-now.js';

/**
 * Online/offline dot with a text alternative. Presence is only known for people who share a
 * conversation with me (the server never broadcasts it further). "last seen" is relative
 * ("last seen 5 minutes ago", kept current by the shared minute timer), the exact time on hover.
 * @param props.userId whose presence
 */
export function PresenceDot({ userId }: { userId: string }) {
  const { state } = useApp();
  const { t, i18n } = useTranslation('route');
  const { t: tc } = useTranslation('chat');
  const now = useNow();
  const language = i18n.resolvedLanguage ?? i18n.language;
  const p = state.presence[userId];
  const seenAt = p && !p.online && p.lastSeenAt ? Date.parse(p.lastSeenAt) : Number.NaN;
  const known = !Number.isNaN(seenAt) && relativeTime(seenAt, now, language) !== '';
  const label =
    p === undefined
      ? tc('presence.unknown')
      : p.online
        ? tc('presence.online')
        : known
          ? t('presence.lastSeen', { when: relativeTime(seenAt, now, language) })
          : tc('presence.offline');
  const title = known ? t('presence.lastSeen', { when: exactTime(seenAt, language) }) : label;
  return (
    <span
      className={`presence ${p?.online ? 'presence-online' : 'presence-offline'}`}
      role="img"
      aria-label={label}
      title={title}
    />
  );
}
