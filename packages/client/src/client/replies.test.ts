import { describe, expect, it } from 'vitest';
import { cleanMentions, excerptOf, mentionsUser } from './replies.js';

describe('replies', () => {
  it('when the quoted text is long, then the excerpt is its first 199 characters and an ellipsis, never half an emoji', () => {
    const text = `${'😀'.repeat(198)}ab${'c'.repeat(50)}`;
    const ex = excerptOf({ text });
    expect(Array.from(ex)).toHaveLength(200);
    expect(ex.endsWith('a…')).toBe(true);
  });

  it('when the quoted message is an attachment without caption, then the excerpt is its file name; a deleted one has none', () => {
    const attachment = {
      id: 'x',
      key: 'k',
      digest: 'd',
      size: 1,
      contentType: 'image/png',
      fileName: 'cat.png',
    };
    expect(excerptOf({ attachment })).toBe('cat.png');
    expect(excerptOf({ text: 'gone', deletedAt: 1 })).toBe('');
    expect(excerptOf({ text: '  two\n\nlines ' })).toBe('two lines');
  });

  it('when mentions repeat or name non-members, then they are dropped; an empty list is no list', () => {
    expect(cleanMentions(['a', 'b', 'a'])).toEqual(['a', 'b']);
    expect(cleanMentions(['a', 'z'], ['a', 'b'])).toEqual(['a']);
    expect(cleanMentions([])).toBeUndefined();
    expect(mentionsUser({ mentions: ['a'] }, 'a')).toBe(true);
    expect(mentionsUser({}, 'a')).toBe(false);
  });
});
