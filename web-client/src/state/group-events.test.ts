import { describe, expect, it } from 'vitest';
import { describeGroupEvent, membershipWarningText } from './group-events.js';
import { initialState, reducer } from './reducer.js';

const me = {
  id: 'me',
  username: 'me',
  displayName: 'Me',
  email: 'me@example.test',
  emailVerified: true,
};

function withUsers() {
  let s = reducer(initialState, { type: 'sessionStarted', me });
  s = reducer(s, {
    type: 'usersLoaded',
    users: [
      { id: 'carol', username: 'carol', displayName: 'Carol' },
      { id: 'dan', username: 'dan', displayName: 'Dan' },
      { id: 'mallory', username: 'mallory', displayName: 'Mallory' },
    ],
  });
  return s;
}

describe('group events in the chat', () => {
  it('when members change, then the chat line names who did what', () => {
    const s = withUsers();
    expect(describeGroupEvent(s, { type: 'added', actorUserId: 'carol', userIds: ['dan'] })).toBe(
      'Carol added Dan',
    );
    expect(describeGroupEvent(s, { type: 'left', actorUserId: 'dan' })).toBe('Dan left');
    expect(describeGroupEvent(s, { type: 'removed', actorUserId: 'me', userIds: ['dan'] })).toBe(
      'You removed Dan',
    );
    expect(describeGroupEvent(s, { type: 'renamed', actorUserId: 'carol', title: 'Plans' })).toBe(
      'Carol renamed the group to “Plans”',
    );
    expect(
      describeGroupEvent(s, { type: 'role', actorUserId: 'carol', userIds: ['me'], role: 'admin' }),
    ).toBe('Carol made you an admin');
  });

  it('when the server lists someone no member added, then the chat keeps a warning naming them', () => {
    let s = withUsers();
    s = reducer(s, { type: 'membershipWarning', conversationId: 'g1', userIds: ['mallory'] });
    s = reducer(s, { type: 'membershipWarning', conversationId: 'g1', userIds: ['mallory'] });
    expect(s.membershipWarnings).toEqual({ g1: ['mallory'] });
    expect(membershipWarningText(s, s.membershipWarnings.g1 ?? [])).toBe(
      'The server lists people no member added: Mallory. Nothing is sent to them.',
    );
  });
});
