import { describe, expect, it } from 'vitest';
import { installSetImmediate } from './set-immediate.js';

describe('installSetImmediate', () => {
  it('when the platform lacks setImmediate, then it installs one that runs tasks in order', async () => {
    const target = {} as typeof globalThis;
    expect(installSetImmediate(target)).toBe(true);
    const g = target as unknown as { setImmediate: (fn: () => void) => number };
    const seen: number[] = [];
    await new Promise<void>((resolve) => {
      g.setImmediate(() => seen.push(1));
      g.setImmediate(() => {
        seen.push(2);
        resolve();
      });
    });
    expect(seen).toEqual([1, 2]);
  });

  it('when setImmediate exists, then it is left alone', () => {
    const own = () => 0;
    const target = { setImmediate: own } as unknown as typeof globalThis;
    expect(installSetImmediate(target)).toBe(false);
    expect((target as unknown as { setImmediate: unknown }).setImmediate).toBe(own);
  });
});
