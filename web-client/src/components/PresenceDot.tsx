import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { formatLocale } from '../i18n/format-locale.js';
import { useApp } from '../state/store.js';

/**
 * Online/offline dot with a text alternative. Presence is only known for people who share a
 * conversation with me (the server never broadcasts it further).
 * @param props.userId whose presence
 */
export function PresenceDot({ userId }: { userId: string }) {
  const { state } = useApp();
  const { t } = useTranslation('chat');
  const p = state.presence[userId];
  const label =
    p === undefined
      ? t('presence.unknown')
      : p.online
        ? t('presence.online')
        : lastSeen(p.lastSeenAt, t);
  return (
    <span
      className={`presence ${p?.online ? 'presence-online' : 'presence-offline'}`}
      role="img"
      aria-label={label}
      title={label}
    />
  );
}

function lastSeen(at: string | undefined, t: TFunction<'chat'>): string {
  const d = at ? new Date(at) : undefined;
  if (!d || Number.isNaN(d.getTime())) return t('presence.offline');
  return t('presence.lastSeen', { time: d.toLocaleString(formatLocale()) });
}
