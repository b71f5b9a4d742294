import { i18next } from '../i18n/index.js';
import { describe, expect, it } from 'vitest';
import type { ConversationView, MessageView } from './chat-api.js';
import { withMentions } from './mentions-state.js';
import {
  DEFAULT_PREFS,
  badgeLabel,
  decideNotification,
  openConversationRequest,
  readConversations,
  titleWithCount,
  unreadTotal,
} from './notifications.js';
import type { NotifyInput } from './notifications.js';
import { initialState, reducer } from './reducer.js';
import type { AppState } from './reducer.js';

const t = i18next.getFixedT('en', 'notify');
const me = { id: 'me', username: 'me', displayName: 'Me', email: 'me@x.test', emailVerified: true };
const conv = (id: string, extra: Partial<ConversationView> = {}): ConversationView => ({
  id,
  kind: 'direct',
  title: null,
  members: [
    { userId: 'me', role: 'member' },
    { userId: 'alice', role: 'member' },
  ],
  createdAt: '2026-01-01T00:00:00.000Z',
  ...extra,
});
let seq = 0;
const msg = (conversationId: string, extra: Partial<MessageView> = {}): MessageView => ({
  id: `m-${++seq}`,
  conversationId,
  senderUserId: 'alice',
  direction: 'in',
  kind: 'text',
  text: 'Secret plans for Friday',
  sentAt: 1000,
  status: 'received',
  ...extra,
});
const step = withMentions(reducer);

function start(): AppState {
  let s = step(initialState, { type: 'sessionStarted', me });
  s = step(s, {
    type: 'conversationsLoaded',
    conversations: [
      conv('d1'),
      conv('g1', { kind: 'group', title: 'Lunch' }),
      conv('req', { myState: 'request' }),
      conv('self', { kind: 'self', members: [{ userId: 'me', role: 'member' }] }),
    ],
  });
  s = step(s, {
    type: 'usersLoaded',
    users: [{ id: 'alice', username: 'alice', displayName: 'Alice' }],
  });
  return step(s, { type: 'mutedLoaded', conversationIds: ['g1'] });
}

function decide(message: MessageView, over: Partial<NotifyInput> = {}) {
  return decideNotification({
    message,
    arrival: true,
    state: start(),
    presence: 'hidden',
    permission: 'granted',
    prefs: DEFAULT_PREFS,
    t,
    ...over,
  });
}

describe('deciding whether a new message notifies', () => {
  it('when previews are off (the default), then a message in the background says only "New message", with a sound', () => {
    const d = decide(msg('d1'));
    expect(d).toEqual({
      kind: 'act',
      sound: true,
      notification: {
        tag: 'conversation:d1',
        conversationId: 'd1',
        title: 'CipherChat',
        body: 'New message',
      },
    });
    expect(JSON.stringify(d)).not.toMatch(/Secret|Alice/);
  });

  it('when previews are on, then it shows the sender and the text (in a group: sender in group)', () => {
    const prefs = { ...DEFAULT_PREFS, previews: true };
    const d = decide(msg('d1'), { prefs });
    expect(d.kind === 'act' && d.notification).toMatchObject({
      title: 'Alice',
      body: 'Secret plans for Friday',
    });
    const state = step(start(), { type: 'mutedSet', conversationId: 'g1', on: false });
    const g = decide(msg('g1'), { prefs, state });
    expect(g.kind === 'act' && g.notification).toMatchObject({ title: 'Alice in Lunch' });
    const photo = decide(
      msg('d1', {
        kind: 'attachment',
        text: undefined,
        attachment: { id: 'a', contentType: 'image/png', size: 3 },
      }),
      { prefs },
    );
    expect(photo.kind === 'act' && photo.notification?.body).toBe('Photo');
    const long = decide(msg('d1', { text: 'x'.repeat(500) }), { prefs });
    expect(long.kind === 'act' && long.notification?.body.length).toBe(180);
  });

  it('when the message is mine, a control message, a change, already read, or in the note-to-self chat, then nothing happens', () => {
    const nothing = { kind: 'act', notification: null, sound: false };
    expect(decide(msg('d1', { direction: 'out', senderUserId: 'me' }))).toEqual(nothing);
    expect(
      decide(msg('d1', { kind: 'event', event: { type: 'renamed', actorUserId: 'alice' } })),
    ).toEqual(nothing);
    expect(decide(msg('d1'), { arrival: false })).toEqual(nothing);
    expect(decide(msg('d1', { status: 'read' }))).toEqual(nothing);
    expect(decide(msg('d1', { deletedAt: 5 }))).toEqual(nothing);
    expect(decide(msg('self', { senderUserId: 'alice' }))).toEqual(nothing);
  });

  it('when the conversation is muted, then only a mention of me notifies, and never with a sound', () => {
    expect(decide(msg('g1'))).toEqual({ kind: 'act', notification: null, sound: false });
    const d = decide(msg('g1', { mentions: ['me'] }));
    expect(d).toMatchObject({ kind: 'act', sound: false, notification: { body: 'New message' } });
  });

  it('when it is a message request, then it says "New message request" without content, even with previews on', () => {
    const d = decide(msg('req'), { prefs: { ...DEFAULT_PREFS, previews: true } });
    expect(d.kind === 'act' && d.notification).toMatchObject({
      title: 'CipherChat',
      body: 'New message request',
    });
    expect(JSON.stringify(d)).not.toMatch(/Secret|Alice/);
  });

  it('when the tab is in use, then there is no notification: nothing for the open chat, a sound for another; an open chat on screen is read', () => {
    const open = step(start(), { type: 'navigate', view: { name: 'chats', conversationId: 'd1' } });
    expect(decide(msg('d1'), { state: open, presence: 'focused' })).toEqual({
      kind: 'act',
      notification: null,
      sound: false,
    });
    expect(decide(msg('d1'), { presence: 'focused' })).toEqual({
      kind: 'act',
      notification: null,
      sound: true,
    });
    // The open chat in a hidden tab still notifies; on a visible unfocused window it is read.
    expect(decide(msg('d1'), { state: open })).toMatchObject({
      notification: { conversationId: 'd1' },
    });
    expect(decide(msg('d1'), { state: open, presence: 'visible' })).toEqual({
      kind: 'act',
      notification: null,
      sound: true,
    });
    expect(decide(msg('d1'), { presence: 'visible' })).toMatchObject({
      notification: { conversationId: 'd1' },
    });
  });

  it('when notifications are off, not allowed, or the sound is off, then those parts are left out', () => {
    expect(decide(msg('d1'), { permission: 'default' })).toEqual({
      kind: 'act',
      notification: null,
      sound: true,
    });
    expect(decide(msg('d1'), { permission: 'denied' })).toMatchObject({ notification: null });
    expect(decide(msg('d1'), { prefs: { ...DEFAULT_PREFS, enabled: false } })).toMatchObject({
      notification: null,
    });
    expect(decide(msg('d1'), { prefs: { ...DEFAULT_PREFS, sound: false } })).toMatchObject({
      sound: false,
    });
  });

  it('when the conversation is not loaded yet, then the decision waits', () => {
    expect(decide(msg('new-one'))).toEqual({ kind: 'wait' });
  });
});

describe('the unread count of the tab', () => {
  it('when messages arrive, then the title and badge count them; muted ones only for mentions; reading clears', () => {
    let s = start();
    s = step(s, { type: 'messageUpserted', message: msg('d1') });
    s = step(s, { type: 'messageUpserted', message: msg('g1') });
    s = step(s, { type: 'messageUpserted', message: msg('g1', { mentions: ['me'] }) });
    expect(unreadTotal(s)).toBe(2);
    expect(titleWithCount(unreadTotal(s), 'CipherChat')).toBe('(2) CipherChat');
    expect(titleWithCount(3, '(2) CipherChat')).toBe('(3) CipherChat');
    expect(titleWithCount(0, '(99+) CipherChat')).toBe('CipherChat');
    expect(badgeLabel(120)).toBe('99+');
    expect(readConversations(s, ['d1', 'g1'])).toEqual([]);
    s = step(s, { type: 'markedRead', conversationId: 'd1', messageIds: [] });
    expect(readConversations(s, ['d1', 'g1'])).toEqual(['d1']);
  });

  it('when a message arrives in the open chat of a hidden tab, then it counts until it is read', () => {
    let s = step(start(), { type: 'navigate', view: { name: 'chats', conversationId: 'd1' } });
    s = step(s, {
      type: 'historyLoaded',
      conversationId: 'd1',
      messages: [],
      older: false,
      hasMore: false,
    });
    const m = msg('d1');
    s = step(s, { type: 'messageUpserted', message: m });
    expect(unreadTotal(s)).toBe(1);
    s = step(s, { type: 'markedRead', conversationId: 'd1', messageIds: [m.id] });
    expect(unreadTotal(s)).toBe(0);
  });
});

describe("the service worker's open request", () => {
  it('when the message is well formed, then it names the conversation; anything else is ignored', () => {
    expect(openConversationRequest({ type: 'openConversation', conversationId: 'c1' })).toBe('c1');
    expect(openConversationRequest({ type: 'openConversation', conversationId: 5 })).toBeNull();
    expect(openConversationRequest({ type: 'other', conversationId: 'c1' })).toBeNull();
    expect(openConversationRequest('openConversation')).toBeNull();
    expect(openConversationRequest(null)).toBeNull();
  });
});
