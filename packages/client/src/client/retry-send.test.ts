import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../protocol/errors.js';
import { freshSession } from './retry-send.js';

function world(fetchError: Error) {
  const deleted: string[] = [];
  const s = {
    protocol: {
      hasSession: () => Promise.resolve(true),
      deleteSession: (u: string, d: number) => Promise.resolve(void deleted.push(`${u}.${d}`)),
    },
  };
  const deps = {
    session: { require: () => s } as never,
    contacts: {
      fetchBundles: () => Promise.reject(fetchError),
      ensure: () => Promise.resolve(),
    } as never,
    resets: new Map<string, number>(),
    now: 1_000_000,
  };
  return { deps, deleted };
}

describe('fresh sessions for retries', () => {
  it('when the fresh bundle is refused (a forged signature), then the existing session is kept', async () => {
    const { deps, deleted } = world(new ProtocolError('invalid_signature', 'forged'));
    await freshSession(deps, 'dan', 1, true);
    expect(deleted).toEqual([]);
  });

  it('when the session cannot be refreshed for another reason (its record is unreadable), then it is dropped and built again', async () => {
    const { deps, deleted } = world(new Error('bad record'));
    await freshSession(deps, 'dan', 1, true);
    expect(deleted).toEqual(['dan.1']);
  });
});
