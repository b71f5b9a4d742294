import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  simDevice,
  simEnvelope,
  settle,
  type SimDelivery,
  type SimDevice,
} from '../testing/retry-sim.js';
import { FORMAT_VERSION } from '../messages/message.schema.js';
import { REQUESTS_PER_DEVICE_PER_HOUR } from './retry-budget.js';
import { retryFiller, retryPlaintext } from './retry-send.js';
import { MAX_REQUESTS } from './retry-state.js';

const ALICE = '00000000-0000-4000-8000-00000000000a';
const BOB = '00000000-0000-4000-8000-00000000000b';
const CAROL = '00000000-0000-4000-8000-00000000000c';
const CONV = '00000000-0000-4000-8000-0000000000cc';

/** A world of devices in one conversation; `deliver` decides what each envelope does. */
function world(users: string[], deliver: (w: Record<string, SimDevice>, d: SimDelivery) => void) {
  const clock = { now: 1_000_000 };
  const devs: Record<string, SimDevice> = {};
  for (const u of users)
    devs[u] = simDevice(
      u,
      1,
      () => users.filter((x) => x !== u).map((x) => ({ userId: x, deviceId: 1 })),
      (d) => deliver(devs, d),
      clock,
    );
  return { devs, clock };
}

describe('retries (receiver and sender sides together)', () => {
  it('when a hostile server garbles every envelope between two devices for six hours, then the retry sends stay within the budget and stop', async () => {
    const { devs, clock } = world([ALICE, BOB], (w, d) => {
      const target = w[d.to.userId];
      setTimeout(() => {
        void target?.retries.onDecryptFailed(
          simEnvelope(d.from, CONV, d.messageId, clock.now),
          'invalid_message',
        );
      }, 0);
    });
    const a = devs[ALICE]!;
    const b = devs[BOB]!;
    await b.retries.onDecryptFailed(
      simEnvelope(a, CONV, randomUUID(), clock.now),
      'invalid_message',
    );
    const sends = () => a.sends.length + b.sends.length;
    let afterThreeHours = 0;
    const bound = 2 * REQUESTS_PER_DEVICE_PER_HOUR * MAX_REQUESTS;
    for (let step = 0; step < 6 * 60 && sends() <= bound; step++) {
      await settle(5);
      if (step === 3 * 60) afterThreeHours = sends();
      clock.now += 60_000;
      await a.retries.tick();
      await b.retries.tick();
    }
    await settle(5);
    // Each side: at most the per-device budget of first requests, each asked MAX_REQUESTS times.
    expect(sends()).toBeLessThanOrEqual(bound);
    expect(sends()).toBe(afterThreeHours);
    expect(a.retries.stats().requestsSent).toBeLessThanOrEqual(
      REQUESTS_PER_DEVICE_PER_HOUR * MAX_REQUESTS,
    );
  });

  it('when my retry request comes back to me as a request for its own server id, then it is refused (requests are never sent again)', async () => {
    const { devs, clock } = world([ALICE, BOB], () => undefined);
    const a = devs[ALICE]!;
    const b = devs[BOB]!;
    await b.retries.onDecryptFailed(
      simEnvelope(a, CONV, randomUUID(), clock.now),
      'invalid_message',
    );
    await settle();
    const requestId = b.sends[0]?.messageId;
    expect(requestId).toBeDefined();
    const again = retryPlaintext(
      CONV,
      { op: 'request', messageId: requestId!, to: { userId: BOB, deviceId: 1 } },
      clock.now,
    );
    await b.retries.receive(simEnvelope(a, CONV, randomUUID(), clock.now), again, () =>
      Promise.resolve(),
    );
    await settle();
    expect(b.sends).toHaveLength(1);
    expect(b.events).toContainEqual([
      'retryRefused',
      expect.objectContaining({ reason: 'unknown_message' }),
    ]);
  });

  it('when the conversation is an unaccepted request or the sender is blocked, then nothing is asked and no session is built until it is allowed; a sender who left fails the placeholder', async () => {
    const { devs, clock } = world([ALICE, BOB], () => undefined);
    const a = devs[ALICE]!;
    const b = devs[BOB]!;
    b.gate = 'hold';
    await b.retries.onDecryptFailed(
      simEnvelope(a, CONV, randomUUID(), clock.now),
      'invalid_message',
    );
    await settle();
    clock.now += 60_000;
    await b.retries.tick();
    await settle();
    expect(b.sends).toHaveLength(0);
    expect(b.sessionWork).toBe(0);
    expect(b.retries.pending()[0]).toMatchObject({ state: 'waiting', requests: 0 });
    // Accepted: the next tick asks.
    b.gate = 'ok';
    await b.retries.tick();
    await settle();
    expect(b.sends).toHaveLength(1);
    expect(b.sessionWork).toBeGreaterThan(0);
    // Someone not in my view of the conversation is never asked.
    const work = b.sessionWork;
    b.gate = 'left';
    const other = randomUUID();
    await b.retries.onDecryptFailed(simEnvelope(a, CONV, other, clock.now), 'invalid_message');
    await settle();
    expect(b.sends).toHaveLength(1);
    expect(b.sessionWork).toBe(work);
    expect(b.retries.pending().find((p) => p.messageId === other)).toMatchObject({
      state: 'failed',
      cause: 'left',
    });
  });

  it('when a request and its answer go out in a group, then every device but the target gets a typing-off filler', async () => {
    const seen: SimDelivery[] = [];
    const { devs, clock } = world([ALICE, BOB, CAROL], (w, d) => {
      seen.push(d);
      if (d.plain?.kind === 'retry' && d.to.userId === d.plain.retry?.to.userId) {
        const env = simEnvelope(d.from, CONV, d.messageId, clock.now);
        void w[d.to.userId]?.retries.receive(env, d.plain, () => Promise.resolve());
      }
    });
    const a = devs[ALICE]!;
    const b = devs[BOB]!;
    const sent = randomUUID();
    const reaction = {
      v: FORMAT_VERSION,
      kind: 'reaction',
      id: randomUUID(),
      conversationId: CONV,
      sentAt: clock.now,
      reaction: { messageId: randomUUID(), emoji: '👍' },
    } as const;
    await settle(); // loaded
    a.retries.recordSent({
      conversationId: CONV,
      plaintext: reaction,
      messageId: sent,
      readers: [`${BOB}.1`, `${CAROL}.1`],
    });
    await b.retries.onDecryptFailed(simEnvelope(a, CONV, sent, clock.now), 'invalid_message');
    await settle();
    const kinds = (from: SimDevice) =>
      seen
        .filter((d) => d.from === from)
        .map((d) => [d.to.userId, d.plain?.kind, d.plain?.retry?.op]);
    expect(kinds(b)).toEqual([
      [ALICE, 'retry', 'request'],
      [CAROL, 'typing', undefined],
    ]);
    expect(kinds(a)).toEqual([
      [BOB, 'retry', 'resend'],
      [CAROL, 'typing', undefined],
    ]);
    expect(seen.find((d) => d.to.userId === CAROL)?.plain?.typing).toEqual({ on: false });
    expect(b.retries.pending()).toHaveLength(0);
  });

  it('when someone I blocked (or whose request I have not accepted) asks me to re-send, then nothing is sent and the request is refused as blocked', async () => {
    const { devs, clock } = world([ALICE, BOB], () => undefined);
    const a = devs[ALICE]!;
    const b = devs[BOB]!;
    const sent = retryFiller(
      retryPlaintext(
        CONV,
        {
          op: 'answer',
          messageId: randomUUID(),
          to: { userId: BOB, deviceId: 1 },
          reason: 'control',
        },
        clock.now,
      ),
    );
    a.retries.recordSent({
      messageId: 'srv-1',
      conversationId: CONV,
      readers: [`${BOB}.1`],
      plaintext: sent,
    } as never);
    const ask = () =>
      a.retries.receive(
        simEnvelope(b, CONV, randomUUID(), clock.now),
        retryPlaintext(
          CONV,
          { op: 'request', messageId: 'srv-1', to: { userId: ALICE, deviceId: 1 } },
          clock.now,
        ),
        () => Promise.resolve(),
      );
    a.gate = 'hold';
    await ask();
    await settle();
    expect(a.sends).toHaveLength(0);
    expect(a.events).toContainEqual([
      'retryRefused',
      expect.objectContaining({ reason: 'blocked' }),
    ]);
  });
});
