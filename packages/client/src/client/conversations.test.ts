import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../transport/api-client.js';
import { Conversations } from './conversations.js';

describe('Conversations', () => {
  it('when the server answers a lookup with another conversation, then it is refused and nothing is cached under either id', async () => {
    let calls = 0;
    const other = { id: 'b0000000-0000-4000-8000-000000000002', kind: 'group', memberIds: ['mallory'] };
    const api = { chat: { getConversation: async () => (calls++, other) } } as unknown as ApiClient;
    const conversations = new Conversations(api);
    await expect(conversations.get('a0000000-0000-4000-8000-000000000001')).rejects.toMatchObject({ code: 'bad_response' });
    // Not cached: the next lookup asks the server again.
    await expect(conversations.get('a0000000-0000-4000-8000-000000000001')).rejects.toMatchObject({ code: 'bad_response' });
    expect(calls).toBe(2);
  });

  it('when the server answers a new direct chat with a third member, then it is refused and not cached', async () => {
    const answer = { id: 'c0000000-0000-4000-8000-000000000003', kind: 'direct', memberIds: ['me', 'bob', 'mallory'] };
    const api = { chat: { createConversation: async () => answer, getConversation: async () => answer } } as unknown as ApiClient;
    const conversations = new Conversations(api);
    await expect(conversations.create({ kind: 'direct', memberIds: ['bob'] })).rejects.toMatchObject({ code: 'bad_response' });
    answer.memberIds = ['me', 'mallory'];
    await expect(conversations.create({ kind: 'direct', memberIds: ['bob'] })).rejects.toMatchObject({ code: 'bad_response' });
    answer.kind = 'group';
    answer.memberIds = ['me', 'bob'];
    await expect(conversations.create({ kind: 'direct', memberIds: ['bob'] })).rejects.toMatchObject({ code: 'bad_response' });
    answer.kind = 'direct';
    await expect(conversations.create({ kind: 'direct', memberIds: ['bob'] })).resolves.toMatchObject({ memberIds: ['me', 'bob'] });
  });

  it('when a conversation is created, then the call carries this device proof (a token alone may not open one)', async () => {
    const answer = { id: 'c0000000-0000-4000-8000-000000000004', kind: 'direct', memberIds: ['me', 'bob'] };
    const sent: unknown[] = [];
    const api = { chat: { createConversation: async (_input: unknown, proof: unknown) => (sent.push(proof), answer) } } as unknown as ApiClient;
    const proof = { deviceId: 3, deviceSecret: 's'.repeat(43) };
    await new Conversations(api, async () => proof).create({ kind: 'direct', memberIds: ['bob'] });
    expect(sent).toEqual([proof]);
  });
});

