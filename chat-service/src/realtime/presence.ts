import type { Redis } from 'ioredis';

import type { LiveSockets, PresenceLookup } from '../domain/ports.js';

export type { LiveSockets };

/** Most users whose recent lookup is kept (then the whole memo is dropped). */
const MAX_RECENT = 100_000;

/**
 * Presence held in Redis so it is shared by every chat-service process: one sorted set per
 * user whose members are `<deviceId>:<socketId>` and whose scores are lease expiry times.
 * Connected sockets renew their lease periodically; a crashed process's sockets fall out
 * after the lease (no data that must survive lives here).
 */
export class Presence implements PresenceLookup {
  private readonly leaseMs: number;
  /**
   * The send path's recent lookups: user id -> when (`performance.now()`) and what was found.
   * A join or leave here replaces it with an entry that is never fresh (`at: -Infinity`) and
   * says when it changed, so a lookup that started before the change cannot store its answer.
   */
  private readonly recent = new Map<string, { at: number; devices: Map<number, string[]> | undefined; changedAt?: number }>();

  /** Drops the user's recent lookup, and any lookup of them still in flight. */
  private forget(userId: string): void {
    this.recent.set(userId, { at: -Infinity, devices: undefined, changedAt: performance.now() });
  }

  /**
   * @param redis client
   * @param prefix key prefix
   * @param leaseMs how long an entry lives without renewal
   */
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    leaseMs = 60_000,
  ) {
    this.leaseMs = leaseMs;
  }

  private key(userId: string): string {
    return `${this.prefix}:online:${userId}`;
  }
  private lastSeenKey(userId: string): string {
    return `${this.prefix}:lastseen:${userId}`;
  }

  /**
   * Registers a connected socket.
   * @param userId user
   * @param deviceId device
   * @param socketId socket
   * @returns true when this is the user's first live connection (announce "online")
   */
  async join(userId: string, deviceId: number, socketId: string): Promise<boolean> {
    const now = Date.now();
    const res = await this.redis
      .multi()
      .zremrangebyscore(this.key(userId), '-inf', now)
      .zadd(this.key(userId), now + this.leaseMs, `${deviceId}:${socketId}`)
      .zcard(this.key(userId))
      .pexpire(this.key(userId), this.leaseMs * 2)
      .exec();
    this.forget(userId);
    return Number(res?.[2]?.[1]) === 1;
  }

  /**
   * Removes a socket and records last-seen.
   * @param userId user
   * @param deviceId device
   * @param socketId socket
   * @returns `{last, lastSeenAt}`: last is true when no live connection of the user remains
   */
  async leave(userId: string, deviceId: number, socketId: string): Promise<{ last: boolean; lastSeenAt: string }> {
    const now = Date.now();
    const lastSeenAt = new Date(now).toISOString();
    const res = await this.redis
      .multi()
      .zrem(this.key(userId), `${deviceId}:${socketId}`)
      .zremrangebyscore(this.key(userId), '-inf', now)
      .zcard(this.key(userId))
      .set(this.lastSeenKey(userId), lastSeenAt, 'EX', 90 * 86_400)
      .exec();
    this.forget(userId);
    return { last: Number(res?.[2]?.[1]) === 0, lastSeenAt };
  }

  /**
   * Renews the leases of this process's sockets.
   * @param sockets live sockets
   */
  async renew(sockets: { userId: string; deviceId: number; socketId: string }[]): Promise<void> {
    if (sockets.length === 0) return;
    const until = Date.now() + this.leaseMs;
    const p = this.redis.pipeline();
    for (const s of sockets) {
      p.zadd(this.key(s.userId), until, `${s.deviceId}:${s.socketId}`);
      p.pexpire(this.key(s.userId), this.leaseMs * 2);
    }
    await p.exec();
  }

  /**
   * The live sockets of these users, by device. Each user is one ZRANGEBYSCORE; commands
   * issued in the same tick (by every send being handled) share one write to Redis
   * (auto-pipelining), which a per-call pipeline would not.
   * @param userIds users
   * @returns user id -> device id -> socket ids (users with none are absent)
   */
  async liveSockets(userIds: readonly string[]): Promise<LiveSockets> {
    const out: LiveSockets = new Map();
    if (userIds.length === 0) return out;
    const now = Date.now();
    const res = await Promise.all(userIds.map((u) => this.redis.zrangebyscore(this.key(u), now, '+inf')));
    userIds.forEach((u, i) => {
      const members = res[i] ?? [];
      if (members.length === 0) return;
      const devices = new Map<number, string[]>();
      for (const m of members) {
        const sep = m.indexOf(':');
        const deviceId = Number(m.slice(0, sep));
        const sockets = devices.get(deviceId);
        if (sockets) sockets.push(m.slice(sep + 1));
        else devices.set(deviceId, [m.slice(sep + 1)]);
      }
      out.set(u, devices);
    });
    return out;
  }

  /**
   * {@link liveSockets} for the message hot path, answered from this process's lookups of the
   * last `maxAgeMs` where it can (a busy conversation would look its members up many times a
   * second). This process's own joins and leaves drop the user's entry at once; those on other
   * processes show once the entry is older than `maxAgeMs`.
   * @param userIds users
   * @param maxAgeMs oldest answer that may be reused
   * @returns the sockets, and when the oldest answer used was looked up (`performance.now()` time)
   */
  async recentLiveSockets(userIds: readonly string[], maxAgeMs: number): Promise<{ live: LiveSockets; lookedUpAt: number }> {
    const now = performance.now();
    let lookedUpAt = now;
    const live: LiveSockets = new Map();
    const missing: string[] = [];
    for (const u of userIds) {
      const e = this.recent.get(u);
      if (e && now - e.at <= maxAgeMs) {
        if (e.devices) live.set(u, e.devices);
        lookedUpAt = Math.min(lookedUpAt, e.at);
      } else missing.push(u);
    }
    if (missing.length > 0) {
      const found = await this.liveSockets(missing);
      if (this.recent.size > MAX_RECENT) this.recent.clear();
      for (const u of missing) {
        const devices = found.get(u);
        // not over a join or leave that happened while this lookup ran
        if ((this.recent.get(u)?.changedAt ?? -Infinity) < now) this.recent.set(u, { at: now, devices });
        if (devices) live.set(u, devices);
      }
    }
    return { live, lookedUpAt };
  }

  /**
   * Which devices of these users have a live connection.
   * @param userIds users
   * @returns user id -> set of online device ids (users with none are absent)
   */
  async onlineDevices(userIds: readonly string[]): Promise<Map<string, Set<number>>> {
    const live = await this.liveSockets(userIds);
    return new Map([...live].map(([u, devices]) => [u, new Set(devices.keys())]));
  }

  /**
   * Presence of some users.
   * @param userIds users
   * @returns one entry per user
   */
  async describe(userIds: readonly string[]): Promise<{ userId: string; online: boolean; lastSeenAt: string | null }[]> {
    if (userIds.length === 0) return [];
    const online = await this.onlineDevices(userIds);
    const seen = await this.redis.mget(userIds.map((u) => this.lastSeenKey(u)));
    return userIds.map((u, i) => ({
      userId: u,
      online: online.has(u),
      lastSeenAt: online.has(u) ? new Date().toISOString() : (seen[i] ?? null),
    }));
  }
}
