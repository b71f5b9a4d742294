import { useApp } from '../state/store.js';

/**
 * Online/offline dot with a text alternative. Presence is only known for people who share a
 * conversation with me (the server never broadcasts it further).
 * @param props.userId whose presence
 */
export function PresenceDot({ userId }: { userId: string }) {
  const { state } = useApp();
  const p = state.presence[userId];
  const label = p === undefined ? 'presence unknown' : p.online ? 'online' : lastSeen(p.lastSeenAt);
  return (
    <span
      className={`presence ${p?.online ? 'presence-online' : 'presence-offline'}`}
      role="img"
      aria-label={label}
      title={label}
    />
  );
}

function lastSeen(at: string | undefined): string {
  if (!at) return 'offline';
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? 'offline' : `last seen ${d.toLocaleString()}`;
}
