import type { Realtime } from './realtime.js';

/**
 * Who is online, as the server says: answers of `presence:get`, kept current by `presence`
 * events. The sender looks up the members of every conversation it sends to (any kind), so a
 * `presence:get` on the wire never announces a receipt or typing message in particular.
 */
export class PresenceMap {
  private readonly online = new Map<string, boolean>();
  /** Questions on their way, per user, so concurrent sends ask once. */
  private readonly asking = new Map<string, Promise<void>>();

  /** @param realtime the socket (`presence:get`) */
  constructor(private readonly realtime: Pick<Realtime, 'presence'>) {}

  /**
   * Asks the server about the users not in the map yet (one left out of the answer counts as
   * offline).
   * @param userIds users to know about
   * @throws {ApiError} `not_connected`, or a refused or timed-out ask
   */
  async know(userIds: readonly string[]): Promise<void> {
    const unknown = [...new Set(userIds)].filter((id) => !this.online.has(id));
    const fresh = unknown.filter((id) => !this.asking.has(id));
    if (fresh.length > 0) {
      const ask = this.realtime.presence(fresh).then((answer) => {
        for (const id of fresh) this.online.set(id, answer.some((p) => p.userId === id && p.online));
      });
      const settled = ask.finally(() => {
        for (const id of fresh) if (this.asking.get(id) === settled) this.asking.delete(id);
      });
      for (const id of fresh) this.asking.set(id, settled);
    }
    await Promise.all(unknown.map((id) => this.asking.get(id)));
  }

  /**
   * @param userIds users
   * @returns whether every one of them is online (unknown counts as offline)
   */
  allOnline(userIds: readonly string[]): boolean {
    return userIds.every((id) => this.online.get(id) === true);
  }

  /**
   * A `presence` event.
   * @param p the event
   */
  set(p: { userId: string; online: boolean }): void {
    this.online.set(p.userId, p.online);
  }

  /**
   * Forgets everything (events were missed while disconnected).
   * @returns the users that were known, to ask about again
   */
  reset(): string[] {
    const known = [...this.online.keys()];
    this.online.clear();
    this.asking.clear();
    return known;
  }
}
