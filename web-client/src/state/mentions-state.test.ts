import { describe, expect, it } from 'vitest';
import type { ConversationView, MessageView } from './chat-api.js';
import { shownUnread, totalShownUnread, withMentions } from './mentions-state.js';
import { initialState, reducer } from './reducer.js';
import type { AppState } from './reducer.js';

const me = {
  id: 'me',
  username: 'me',
  displayName: 'Me',
  email: 'me@example.test',
  emailVerified: true,
};
const group = (id: string): ConversationView => ({
  id,
  kind: 'group',
  title: id,
  members: [
    { userId: 'me', role: 'member' },
    { userId: 'bob', role: 'owner' },
  ],
  createdAt: '2026-01-01T00:00:00.000Z',
});
const msg = (id: string, conversationId: string, mentions?: string[]): MessageView => ({
  id,
  conversationId,
  senderUserId: 'bob',
  direction: 'in',
  kind: 'text',
  text: 'hi',
  sentAt: 1000,
  status: 'received',
  ...(mentions ? { mentions } : {}),
});
const step = withMentions(reducer);

function start(): AppState {
  let s = step(initialState, { type: 'sessionStarted', me });
  s = step(s, { type: 'conversationsLoaded', conversations: [group('loud'), group('quiet')] });
  return step(s, { type: 'mutedLoaded', conversationIds: ['quiet'] });
}

describe('unread counts with mute and mentions', () => {
  it('when messages arrive in a muted group, then only the one that mentions me counts; an unmuted group counts all', () => {
    let s = start();
    for (const m of [
      msg('1', 'quiet'),
      msg('2', 'quiet', ['bob']),
      msg('3', 'quiet', ['me']),
      msg('4', 'loud'),
    ]) {
      s = step(s, { type: 'messageUpserted', message: m });
    }
    expect(shownUnread(s, 'quiet')).toBe(1);
    expect(shownUnread(s, 'loud')).toBe(1);
    expect(totalShownUnread(s)).toBe(2);
    // Unmuting shows every unread message again.
    s = step(s, { type: 'mutedSet', conversationId: 'quiet', on: false });
    expect(shownUnread(s, 'quiet')).toBe(3);
  });

  it('when the conversation is read or its summary loads, then the mention count follows', () => {
    let s = start();
    s = step(s, { type: 'messageUpserted', message: msg('1', 'quiet', ['me']) });
    expect(shownUnread(s, 'quiet')).toBe(1);
    s = step(s, { type: 'markedRead', conversationId: 'quiet', messageIds: ['1'] });
    expect(s.mentionUnread.quiet).toBe(0);
    s = step(s, { type: 'summaryLoaded', conversationId: 'quiet', last: undefined, unread: 4 });
    s = step(s, { type: 'mentionSummary', conversationId: 'quiet', count: 2 });
    expect(shownUnread(s, 'quiet')).toBe(2);
  });

  it('when the open conversation gets a mention, then it is not unread at all', () => {
    let s = start();
    s = step(s, { type: 'navigate', view: { name: 'chats', conversationId: 'quiet' } });
    s = step(s, { type: 'messageUpserted', message: msg('1', 'quiet', ['me']) });
    expect(shownUnread(s, 'quiet')).toBe(0);
  });
});
