import type { Redis } from 'ioredis';

/** Default prefix of the revocation keys; user-service (writer) and chat-service (reader) must agree. */
export const DEFAULT_REVOCATION_PREFIX = 'cc:revoked:';

/** A session as the revocation list knows it: the `sid` and `sub` of its access tokens. */
export interface SessionRef {
  sessionId: string;
  userId: string;
}

/**
 * The revocation list in Redis: sessions (and whole users) whose still-unexpired access tokens
 * must be refused. user-service writes it when a session ends (logout, "log out other devices",
 * password change or reset, refresh-token reuse, account deletion); chat-service reads it at the
 * socket handshake, on every REST request and on a timer for live sockets. Each key lives as
 * long as an access token can (plus slack), so the list never grows beyond the sessions ended in
 * one token lifetime.
 */
export interface RevocationList {
  /** Puts sessions on the list. */
  revokeSessions(sessionIds: readonly string[]): Promise<void>;
  /** Puts a whole user on the list (account deletion): every token of theirs is refused. */
  revokeUser(userId: string): Promise<void>;
  /** Whether a token of this session (or its user) is revoked: one Redis round trip. */
  isRevoked(ref: SessionRef): Promise<boolean>;
  /**
   * Which of these sessions are revoked, in as few round trips as possible (one MGET per
   * `batch` keys): for the periodic check of every live socket.
   * @returns the revoked session ids
   */
  revokedAmong(refs: readonly SessionRef[]): Promise<Set<string>>;
}

/** Knobs of {@link createRevocationList}. */
export interface RevocationOptions {
  /** Key prefix (default {@link DEFAULT_REVOCATION_PREFIX}). */
  prefix?: string;
  /** How long an entry stays: the access-token lifetime in seconds (writer side only). */
  ttlSeconds?: number;
  /** Keys per MGET in {@link RevocationList.revokedAmong}. */
  batch?: number;
}

/** Slack on top of the token lifetime: verifiers may accept a token a little past `exp`. */
const SLACK_SECONDS = 60;

/**
 * Creates the list over a Redis client.
 * @param redis client (shared; commands are single round trips)
 * @param o prefix, entry lifetime, batch size
 * @returns the list
 */
export function createRevocationList(redis: Redis, o: RevocationOptions = {}): RevocationList {
  const prefix = o.prefix ?? DEFAULT_REVOCATION_PREFIX;
  const ttl = (o.ttlSeconds ?? 900) + SLACK_SECONDS;
  const batch = o.batch ?? 1000;
  const sKey = (sessionId: string) => `${prefix}s:${sessionId}`;
  const uKey = (userId: string) => `${prefix}u:${userId}`;
  return {
    async revokeSessions(sessionIds) {
      if (!sessionIds.length) return;
      const m = redis.multi();
      for (const id of sessionIds) m.set(sKey(id), '1', 'EX', ttl);
      await m.exec();
    },
    async revokeUser(userId) {
      await redis.set(uKey(userId), '1', 'EX', ttl);
    },
    async isRevoked(ref) {
      return (await redis.exists(sKey(ref.sessionId), uKey(ref.userId))) > 0;
    },
    async revokedAmong(refs) {
      const revoked = new Set<string>();
      const sessions = [...new Map(refs.map((r) => [r.sessionId, r])).values()];
      const users = [...new Set(refs.map((r) => r.userId))];
      const keys = [...sessions.map((r) => sKey(r.sessionId)), ...users.map(uKey)];
      const values: (string | null)[] = [];
      for (let i = 0; i < keys.length; i += batch)
        values.push(...(await redis.mget(keys.slice(i, i + batch))));
      const revokedUsers = new Set(users.filter((_, i) => values[sessions.length + i] !== null));
      sessions.forEach((r, i) => {
        if (values[i] !== null || revokedUsers.has(r.userId)) revoked.add(r.sessionId);
      });
      return revoked;
    },
  };
}
