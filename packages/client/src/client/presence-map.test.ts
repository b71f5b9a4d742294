import { describe, expect, it } from 'vitest';
import { PresenceMap } from './presence-map.js';

describe('presence map', () => {
  it('when two sends ask about the same users at once, then the server is asked once; users left out of the answer are offline', async () => {
    const asked: string[][] = [];
    const map = new PresenceMap({
      presence: async (ids: string[]) => {
        asked.push(ids);
        await new Promise((r) => setTimeout(r, 5));
        return ids.filter((id) => id === 'bob').map((userId) => ({ userId, online: true }));
      },
    });
    await Promise.all([map.know(['bob', 'carol']), map.know(['carol', 'bob'])]);
    expect(asked).toEqual([['bob', 'carol']]);
    expect(map.allOnline(['bob'])).toBe(true);
    expect(map.allOnline(['bob', 'carol'])).toBe(false);
    expect(map.allOnline(['dave'])).toBe(false); // never asked: unknown counts as offline

    map.set({ userId: 'carol', online: true });
    expect(map.allOnline(['bob', 'carol'])).toBe(true);
    await map.know(['bob', 'carol']);
    expect(asked).toHaveLength(1);

    expect(map.reset().sort()).toEqual(['bob', 'carol']);
    expect(map.allOnline(['bob'])).toBe(false);
  });

  it('when the question fails, then the caller sees the error and the next call asks again', async () => {
    let fail = true;
    const map = new PresenceMap({
      presence: async (ids: string[]) => {
        if (fail) throw new Error('timeout');
        return ids.map((userId) => ({ userId, online: true }));
      },
    });
    await expect(map.know(['bob'])).rejects.toThrow('timeout');
    fail = false;
    await map.know(['bob']);
    expect(map.allOnline(['bob'])).toBe(true);
  });
});
