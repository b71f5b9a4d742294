import { describe, expect, it } from 'vitest';
import type { Conversation } from '../transport/chat-endpoints.js';
import { retryGate } from './retry-gate.js';

const ME = 'me';
const conv = { id: 'c1', kind: 'direct', memberIds: [ME, 'dan'] } as unknown as Conversation;

function deps(over: { share?: boolean; post?: boolean; audience?: string[] | Error } = {}) {
  const calls: string[] = [];
  return {
    calls,
    d: {
      safety: {
        mayShare: (_id: string, what: string) => {
          calls.push(`mayShare:${what}`);
          return Promise.resolve(over.share ?? true);
        },
      },
      conversations: { get: () => Promise.resolve(conv) },
      views: {
        mayPost: () => over.post ?? true,
        audience: () =>
          over.audience instanceof Error
            ? Promise.reject(over.audience)
            : Promise.resolve(over.audience ?? [ME, 'dan']),
      },
      me: () => ME,
    },
  };
}

describe('the retry gate', () => {
  it('when the conversation is an unaccepted request or has someone I blocked (no delivered receipt allowed), then the request is held', async () => {
    const { d, calls } = deps({ share: false });
    expect(await retryGate(d as never, 'c1', 'dan')).toBe('hold');
    expect(calls).toEqual(['mayShare:delivered']);
  });

  it('when the sender may not post or is not in my audience, then it is never asked (left); a group state not at hand holds', async () => {
    expect(await retryGate(deps({ post: false }).d as never, 'c1', 'dan')).toBe('left');
    expect(await retryGate(deps({ audience: [ME] }).d as never, 'c1', 'dan')).toBe('left');
    expect(
      await retryGate(deps({ audience: new Error('group_state_pending') }).d as never, 'c1', 'dan'),
    ).toBe('hold');
    expect(await retryGate(deps().d as never, 'c1', 'dan')).toBe('ok');
  });
});
