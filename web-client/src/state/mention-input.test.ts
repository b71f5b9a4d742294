import { describe, expect, it } from 'vitest';
import {
  activeMention,
  insertMention,
  mentionCandidates,
  mentionsInText,
  splitMentions,
} from './mention-input.js';

const users = {
  b: { id: 'b', username: 'bob', displayName: 'Bob Stone' },
  c: { id: 'c', username: 'carol', displayName: 'Carol Baker' },
  d: { id: 'd', username: 'dan', displayName: 'Dan' },
};
const me = { id: 'a', username: 'alice', displayName: 'Alice' };

describe('the @ autocomplete', () => {
  it('when an @ starts a word before the caret, then its query is what follows; an @ inside a word (an email) is none', () => {
    expect(activeMention('hi @bo', 6)).toEqual({ start: 3, query: 'bo' });
    expect(activeMention('@', 1)).toEqual({ start: 0, query: '' });
    expect(activeMention('mail me@example', 15)).toBeUndefined();
    expect(activeMention('hi @bob there', 13)).toBeUndefined();
  });

  it('when the query matches a username, a display name or one of its words, then those members are offered (not me, sorted by username)', () => {
    const members = ['a', 'b', 'c', 'd', 'unknown'];
    expect(mentionCandidates(members, users, 'a', '').map((c) => c.username)).toEqual([
      'bob',
      'carol',
      'dan',
    ]);
    expect(mentionCandidates(members, users, 'a', 'ba').map((c) => c.username)).toEqual(['carol']);
    expect(mentionCandidates(members, users, 'a', 'BO').map((c) => c.username)).toEqual(['bob']);
    expect(mentionCandidates(members, users, 'a', 'al')).toEqual([]);
  });

  it('when a member is picked, then @username and a space replace the query and the caret goes after them', () => {
    expect(insertMention('hi @bo and more', 6, 3, 'bob')).toEqual({
      text: 'hi @bob and more',
      caret: 8,
    });
    expect(insertMention('@', 1, 0, 'carol')).toEqual({ text: '@carol ', caret: 7 });
  });

  it('when a picked mention is deleted from the text, then it is not sent', () => {
    const picked = { bob: 'b', carol: 'c' };
    expect(mentionsInText('@bob see this', picked)).toEqual(['b']);
    expect(mentionsInText('@bobby and @carol', picked)).toEqual(['c']);
  });
});

describe('mentions in a bubble', () => {
  it('when a text mentions members, then only their @usernames are marked, mine as me', () => {
    const parts = splitMentions('@bob ask @alice and @zed', ['b', 'a'], users, 'a', me);
    expect(parts).toEqual([
      { text: '@bob', userId: 'b', me: false },
      { text: ' ask ' },
      { text: '@alice', userId: 'a', me: true },
      { text: ' and @zed' },
    ]);
    expect(splitMentions('no one', undefined, users, 'a')).toEqual([{ text: 'no one' }]);
  });
});
