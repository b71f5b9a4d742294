import { describe, expect, it } from 'vitest';
import type { StoredMessage } from '@cipherchat/client';
import type { MessageView } from './chat-api.js';
import { canChange, changeFields, EDIT_WINDOW_MS, reactionChips } from './message-actions.js';
import { initialState, reducer } from './reducer.js';

const m: MessageView = {
  id: 'm1',
  conversationId: 'c1',
  senderUserId: 'me',
  direction: 'out',
  kind: 'text',
  text: 'hi',
  sentAt: 1_000,
  status: 'sent',
};

const sm: StoredMessage = {
  id: 'm1',
  conversationId: 'c1',
  senderUserId: 'me',
  senderDeviceId: 1,
  direction: 'out',
  kind: 'text',
  text: 'hi',
  sentAt: 1_000,
  status: 'sent',
};

describe('message action state', () => {
  it('when the SDK stores reactions, edits and a delete, then the view carries them (and nothing when unset)', () => {
    const stored: StoredMessage = {
      ...sm,
      reactions: { u1: { emoji: '👍', at: 5 } },
      editedAt: 7,
      edits: [{ text: 'h', at: 1_000 }],
      deletedAt: 9,
    };
    expect(changeFields(stored)).toEqual({
      reactions: [{ userId: 'u1', emoji: '👍' }],
      editedAt: 7,
      edits: [{ text: 'h', at: 1_000 }],
      deletedAt: 9,
    });
    expect(changeFields(sm)).toEqual({});
  });

  it('when reactions repeat an emoji, then one chip counts them and knows mine', () => {
    const chips = reactionChips(
      {
        ...m,
        reactions: [
          { userId: 'a', emoji: '😂' },
          { userId: 'me', emoji: '😂' },
          { userId: 'b', emoji: '🙏' },
        ],
      },
      'me',
    );
    expect(chips).toEqual([
      { emoji: '😂', count: 2, userIds: ['a', 'me'], mine: true },
      { emoji: '🙏', count: 1, userIds: ['b'], mine: false },
    ]);
  });

  it('when a message is mine, sent and younger than 24 h, then it can be changed; not otherwise', () => {
    expect(canChange(m, 1_000 + EDIT_WINDOW_MS)).toBe(true);
    expect(canChange(m, 1_001 + EDIT_WINDOW_MS)).toBe(false);
    expect(canChange({ ...m, status: 'sending' }, 2_000)).toBe(false);
    expect(canChange({ ...m, direction: 'in' }, 2_000)).toBe(false);
    expect(canChange({ ...m, deletedAt: 1_500 }, 2_000)).toBe(false);
  });

  it('when a message is removed, then it leaves the list and the chat list preview falls back to the one before', () => {
    const m2 = { ...m, id: 'm2', sentAt: 2_000 };
    let s = reducer(initialState, {
      type: 'historyLoaded',
      conversationId: 'c1',
      messages: [m, m2],
      hasMore: false,
      older: false,
    } as never);
    s = reducer(s, { type: 'messageUpserted', message: m2 });
    s = reducer(s, { type: 'messageRemoved', conversationId: 'c1', messageId: 'm2' });
    expect(s.messages.c1?.map((x) => x.id)).toEqual(['m1']);
    expect(s.lastMessage.c1?.id).toBe('m1');
  });
});
