import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@cipherchat/service-kit';
import { LogCapture } from '@cipherchat/service-kit/testing';
import { PublishTracker } from './publish-tracker.js';

/** A stand-in for the adapter's Redis connection whose PUBLISH answers when the test says. */
function fakePub() {
  const answers: { resolve: (n: number) => void; reject: (e: Error) => void }[] = [];
  const pub = Object.assign(new EventEmitter(), {
    publish: () => new Promise<number>((resolve, reject) => answers.push({ resolve, reject })),
  });
  return {
    pub: pub as unknown as Redis & { publish: (channel: string, msg: string) => Promise<number> },
    answers,
  };
}

const settled = async (p: Promise<unknown>) => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setTimeout(r, 20));
  return done;
};

describe('PublishTracker', () => {
  it('when a send emits to another process, then it is acked only after Redis answered its PUBLISH', async () => {
    const { pub, answers } = fakePub();
    const t = new PublishTracker(createLogger('chat-service', 'warn', new LogCapture()));
    t.wrap(pub);
    const waiting = t.capture(() => void pub.publish('ch', 'm1'), 5_000);
    expect(answers).toHaveLength(1);
    expect(await settled(waiting)).toBe(false);
    answers[0]?.resolve(1);
    expect(await settled(waiting)).toBe(true);
  });

  it('when Redis refuses the PUBLISH, then the send is acked anyway (stored) and the failure is logged, not thrown', async () => {
    const { pub, answers } = fakePub();
    const logs = new LogCapture();
    const t = new PublishTracker(createLogger('chat-service', 'warn', logs));
    t.wrap(pub);
    const waiting = t.capture(() => void pub.publish('ch', 'm1').catch(() => undefined), 5_000);
    answers[0]?.reject(new Error('Connection is closed.'));
    await expect(waiting).resolves.toBeUndefined();
    expect(logs.text()).toContain('redis publish failed');
  });

  it('when Redis does not answer, then the wait ends at its bound; publishes outside a send are not waited for', async () => {
    const { pub, answers } = fakePub();
    const t = new PublishTracker(createLogger('chat-service', 'warn', new LogCapture()));
    t.wrap(pub);
    void pub.publish('ch', 'outside');
    const started = Date.now();
    await t.capture(() => void pub.publish('ch', 'm1'), 100);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(answers).toHaveLength(2);
    await t.capture(() => undefined, 5_000); // nothing published: at once
  });
});
