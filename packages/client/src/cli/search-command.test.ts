import { describe, expect, it } from 'vitest';
import { hitLine, searchArgs } from './search-command.js';

describe('chat-cli search', () => {
  it('when arguments are given, then the words form the query and a bad limit is refused', () => {
    expect(searchArgs(['東京', 'タワー'], {})).toEqual({ text: '東京 タワー', limit: 20 });
    expect(searchArgs(['x'], { conversation: 'c1', limit: '5' })).toEqual({
      text: 'x',
      limit: 5,
      conversationId: 'c1',
    });
    expect(searchArgs([], {})).toHaveProperty('error');
    expect(searchArgs(['x'], { limit: '0' })).toHaveProperty('error');
    expect(searchArgs(['x'], { limit: 'many' })).toHaveProperty('error');
  });

  it('when a hit is printed, then the match is marked and control characters are escaped', () => {
    const line = hitLine({
      conversationId: 'c1',
      messageId: 'm1',
      sentAt: 0,
      senderUserId: 'u2',
      direction: 'in',
      snippet: { text: 'see \x1b[31mthe Café', start: 13, end: 17 },
    });
    expect(line).toBe('[1970-01-01T00:00:00.000Z] c1 u2: see \\x1b[31mthe »Café« (id m1)');
  });
});
