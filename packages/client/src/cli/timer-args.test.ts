import { describe, expect, it } from 'vitest';
import { describeTimer, parseTimerArg } from './timer-args.js';

describe('chat-cli timer arguments', () => {
  it('when a timer is given as off or a number with a unit, then it is read in seconds; anything else is refused', () => {
    expect(parseTimerArg('off')).toBeNull();
    expect([
      parseTimerArg('5m'),
      parseTimerArg('1h'),
      parseTimerArg('1d'),
      parseTimerArg('1w'),
      parseTimerArg('4w'),
    ]).toEqual([300, 3600, 86_400, 604_800, 2_419_200]);
    for (const bad of ['0m', '5', 'ten', '60x', '100w', '-1h'])
      expect(() => parseTimerArg(bad)).toThrow(/not a timer/);
    expect(describeTimer(300)).toBe('disappearing messages: 300 s');
    expect(describeTimer(null)).toBe('disappearing messages: off');
  });
});
