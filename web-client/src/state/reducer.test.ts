import { describe, expect, it } from 'vitest';
import type { ConversationView, MessageView } from './chat-api.js';
import { conversationTitle, initialState, orderedConversations, reducer } from './reducer.js';
import type { AppState } from './reducer.js';

const me = {
  id: 'me',
  username: 'me',
  displayName: 'Me',
  email: 'me@example.test',
  emailVerified: true,
};
const conv = (id: string, createdAt = '2026-01-01T00:00:00.000Z'): ConversationView => ({
  id,
  kind: 'direct',
  title: null,
  members: [
    { userId: 'me', role: 'member' },
    { userId: 'bob', role: 'member' },
  ],
  createdAt,
});
const msg = (over: Partial<MessageView>): MessageView => ({
  id: 'm1',
  conversationId: 'c1',
  senderUserId: 'bob',
  direction: 'in',
  kind: 'text',
  text: 'hi',
  sentAt: 1000,
  status: 'received',
  ...over,
});

function signedIn(): AppState {
  let s = reducer(initialState, { type: 'sessionStarted', me });
  s = reducer(s, {
    type: 'conversationsLoaded',
    conversations: [conv('c1'), conv('c2', '2026-02-01T00:00:00.000Z')],
  });
  return s;
}

describe('reducer', () => {
  it('when the server stops listing the open chat (I was removed), then it stays on screen marked left, and closed ones go', () => {
    let s = reducer(signedIn(), { type: 'navigate', view: { name: 'chats', conversationId: 'c1' } });
    s = reducer(s, { type: 'conversationsLoaded', conversations: [] });
    expect(s.conversations.c1).toMatchObject({ id: 'c1', left: true });
    expect(s.conversations.c2).toBeUndefined();
  });

  it('when a message arrives for a closed conversation, then it counts as unread and becomes the preview', () => {
    const s = reducer(signedIn(), { type: 'messageUpserted', message: msg({}) });
    expect(s.unread.c1).toBe(1);
    expect(s.lastMessage.c1?.text).toBe('hi');
  });

  it('when the same message arrives twice, then it is counted and listed once', () => {
    let s = reducer(signedIn(), {
      type: 'historyLoaded',
      conversationId: 'c1',
      messages: [],
      older: false,
      hasMore: false,
    });
    s = reducer(s, { type: 'messageUpserted', message: msg({}) });
    s = reducer(s, { type: 'messageUpserted', message: msg({}) });
    expect(s.messages.c1).toHaveLength(1);
    expect(s.unread.c1).toBe(1);
  });

  it('when the conversation is open, then an incoming message is not counted as unread', () => {
    let s = reducer(signedIn(), {
      type: 'navigate',
      view: { name: 'chats', conversationId: 'c1' },
    });
    s = reducer(s, { type: 'messageUpserted', message: msg({}) });
    expect(s.unread.c1 ?? 0).toBe(0);
  });

  it('when a late "delivered" receipt follows "read", then the message stays read', () => {
    let s = reducer(signedIn(), {
      type: 'historyLoaded',
      conversationId: 'c1',
      messages: [msg({ direction: 'out', senderUserId: 'me', status: 'sent' })],
      older: false,
      hasMore: false,
    });
    s = reducer(s, {
      type: 'statusChanged',
      conversationId: 'c1',
      messageIds: ['m1'],
      status: 'read',
    });
    s = reducer(s, {
      type: 'statusChanged',
      conversationId: 'c1',
      messageIds: ['m1'],
      status: 'delivered',
    });
    expect(s.messages.c1?.[0]?.status).toBe('read');
  });

  it('when a send fails and is retried, then the status goes failed -> sending -> sent and the error clears', () => {
    let s = reducer(signedIn(), {
      type: 'historyLoaded',
      conversationId: 'c1',
      messages: [msg({ direction: 'out', senderUserId: 'me', status: 'sending' })],
      older: false,
      hasMore: false,
    });
    s = reducer(s, {
      type: 'statusChanged',
      conversationId: 'c1',
      messageIds: ['m1'],
      status: 'failed',
      error: 'offline',
    });
    expect(s.messages.c1?.[0]).toMatchObject({ status: 'failed', error: 'offline' });
    s = reducer(s, {
      type: 'statusChanged',
      conversationId: 'c1',
      messageIds: ['m1'],
      status: 'sending',
    });
    s = reducer(s, {
      type: 'statusChanged',
      conversationId: 'c1',
      messageIds: ['m1'],
      status: 'sent',
    });
    expect(s.messages.c1?.[0]).toMatchObject({ status: 'sent', error: undefined });
  });

  it('when older history is loaded, then it is merged in time order and hasMore follows the page', () => {
    let s = reducer(signedIn(), {
      type: 'historyLoaded',
      conversationId: 'c1',
      messages: [msg({ id: 'b', sentAt: 20 })],
      older: false,
      hasMore: true,
    });
    s = reducer(s, {
      type: 'historyLoaded',
      conversationId: 'c1',
      messages: [msg({ id: 'a', sentAt: 10 })],
      older: true,
      hasMore: false,
    });
    expect(s.messages.c1?.map((m) => m.id)).toEqual(['a', 'b']);
    expect(s.hasMore.c1).toBe(false);
  });

  it('when conversations are read, then unread resets and incoming messages become read', () => {
    let s = reducer(signedIn(), {
      type: 'historyLoaded',
      conversationId: 'c1',
      messages: [msg({})],
      older: false,
      hasMore: false,
    });
    s = reducer(s, { type: 'summaryLoaded', conversationId: 'c1', last: msg({}), unread: 1 });
    s = reducer(s, { type: 'markedRead', conversationId: 'c1', messageIds: ['m1'] });
    expect(s.unread.c1).toBe(0);
    expect(s.messages.c1?.[0]?.status).toBe('read');
  });

  it('when a contact identity changes, then the verified mark goes and a pending change is recorded', () => {
    let s = reducer(signedIn(), { type: 'verifiedSet', userId: 'bob', verified: true });
    s = reducer(s, { type: 'identityChanged', userId: 'bob' });
    expect(s.verified.bob).toBeUndefined();
    expect(s.identityChanged.bob).toBe(true);
    s = reducer(s, { type: 'identityAccepted', userId: 'bob' });
    expect(s.identityChanged.bob).toBeUndefined();
  });

  it('when someone who is typing sends a message, then their typing mark clears', () => {
    let s = reducer(signedIn(), { type: 'typing', conversationId: 'c1', userId: 'bob', on: true });
    expect(s.typing.c1?.bob).toBe(true);
    s = reducer(s, { type: 'messageUpserted', message: msg({}) });
    expect(s.typing.c1?.bob).toBeUndefined();
  });

  it('when signing out, then every conversation, message and key-related mark is dropped', () => {
    let s = reducer(signedIn(), { type: 'messageUpserted', message: msg({}) });
    s = reducer(s, { type: 'signedOut' });
    expect(s).toMatchObject({
      phase: 'signedOut',
      me: null,
      conversations: {},
      messages: {},
      lastMessage: {},
      verified: {},
    });
  });

  it('when ordering conversations, then the most recent activity comes first', () => {
    let s = signedIn();
    expect(orderedConversations(s).map((c) => c.id)).toEqual(['c2', 'c1']);
    s = reducer(s, {
      type: 'messageUpserted',
      message: msg({ sentAt: Date.parse('2026-03-01T00:00:00Z') }),
    });
    expect(orderedConversations(s).map((c) => c.id)).toEqual(['c1', 'c2']);
  });

  it('when a direct chat has a known peer, then its title is the peer name', () => {
    const s = reducer(signedIn(), {
      type: 'usersLoaded',
      users: [{ id: 'bob', username: 'bob', displayName: 'Bob B' }],
    });
    expect(conversationTitle(s, conv('c1'))).toBe('Bob B');
  });
});
