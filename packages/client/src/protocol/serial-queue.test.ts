import { describe, expect, it } from 'vitest';
import { KeyedSerialQueue } from './serial-queue.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('KeyedSerialQueue', () => {
  it('when jobs share a key, then they run one at a time in call order, and a failure does not block the next', async () => {
    const q = new KeyedSerialQueue();
    const log: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const job = (name: string, fail = false) => async () => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      log.push(`start ${name}`);
      await tick();
      log.push(`end ${name}`);
      running -= 1;
      if (fail) throw new Error(name);
      return name;
    };
    const results = await Promise.allSettled([q.run('a', job('1')), q.run('a', job('2', true)), q.run('a', job('3'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(maxRunning).toBe(1);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
  });

  it('when jobs have different keys, then they overlap; runAll holds several keys at once', async () => {
    const q = new KeyedSerialQueue();
    let running = 0;
    let maxRunning = 0;
    const job = async () => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await tick();
      running -= 1;
    };
    await Promise.all([q.run('a', job), q.run('b', job), q.run('c', job)]);
    expect(maxRunning).toBe(3);

    const order: string[] = [];
    const held = q.runAll(['b', 'a'], async () => {
      order.push('all');
      await tick();
    });
    const afterA = q.run('a', async () => void order.push('a'));
    await Promise.all([held, afterA]);
    expect(order).toEqual(['all', 'a']);
  });
});
