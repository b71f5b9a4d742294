import { afterEach, describe, expect, it, vi } from 'vitest';
import { FORMAT_VERSION } from '../messages/message.schema.js';
import { createMemoryStore } from '../storage/kv-protocol-store.js';
import {
  checkRetryRequest,
  keptPlaintext,
  MAX_RESENDS_PER_READER,
  MAX_RETRY_DEPTH,
  PEER_REQUESTS_PER_MINUTE,
  RETRY_LOG_LIMIT,
  RETRY_WINDOW_MS,
  SentLog,
  type SentEntry,
} from './retry-log.js';

const entry = (over: Partial<SentEntry> = {}): SentEntry => ({
  s: 'srv-1',
  c: 'cli-1',
  k: 'text',
  conv: 'c1',
  r: ['bob.1', 'alice.2'],
  t: 1000,
  ...over,
});
const base = {
  v: FORMAT_VERSION,
  id: '00000000-0000-4000-8000-000000000009',
  conversationId: 'c1',
  sentAt: 1,
};

afterEach(() => vi.useRealTimers());

describe('the sent log (sender side of retries)', () => {
  it('when a reader asks through the same conversation within the window, then it is served; otherwise refused with the reason', () => {
    expect(
      checkRetryRequest(entry(), { conversationId: 'c1', reader: 'bob.1' }, 2000),
    ).toMatchObject({ ok: true });
    expect(checkRetryRequest(undefined, { conversationId: 'c1', reader: 'bob.1' }, 2000)).toEqual({
      ok: false,
      reason: 'unknown_message',
    });
    expect(checkRetryRequest(entry(), { conversationId: 'c2', reader: 'bob.1' }, 2000)).toEqual({
      ok: false,
      reason: 'foreign_conversation',
    });
    // Same user, another device (not a reader): refused.
    expect(checkRetryRequest(entry(), { conversationId: 'c1', reader: 'bob.7' }, 2000)).toEqual({
      ok: false,
      reason: 'not_reader',
    });
    expect(
      checkRetryRequest(
        entry(),
        { conversationId: 'c1', reader: 'bob.1' },
        1000 + RETRY_WINDOW_MS + 1,
      ),
    ).toEqual({ ok: false, reason: 'too_old' });
    expect(
      checkRetryRequest(entry({ d: 1 }), { conversationId: 'c1', reader: 'bob.1' }, 2000),
    ).toMatchObject({ ok: true });
    expect(
      checkRetryRequest(
        entry({ d: MAX_RETRY_DEPTH }),
        { conversationId: 'c1', reader: 'bob.1' },
        2000,
      ),
    ).toEqual({ ok: false, reason: 'too_deep' });
    const used = entry({ n: { 'bob.1': MAX_RESENDS_PER_READER } });
    expect(checkRetryRequest(used, { conversationId: 'c1', reader: 'bob.1' }, 2000)).toEqual({
      ok: false,
      reason: 'rate_limited',
    });
    expect(
      checkRetryRequest(used, { conversationId: 'c1', reader: 'alice.2' }, 2000),
    ).toMatchObject({ ok: true });
  });

  it('when a text, a receipt or a reaction is sent, then only the control keeps its plaintext (texts are sent again from the history)', () => {
    expect(keptPlaintext({ ...base, kind: 'text', text: 'secret' })).toBeUndefined();
    expect(
      keptPlaintext({ ...base, kind: 'receipt', receipt: { type: 'read', messageIds: [base.id] } }),
    ).toBeUndefined();
    const reaction = keptPlaintext({
      ...base,
      kind: 'reaction',
      reaction: { messageId: base.id, emoji: '👍' },
    });
    expect(JSON.parse(reaction ?? '{}')).toMatchObject({ kind: 'reaction' });
  });

  it('when a reader asks more than the per-minute budget, then the rest is refused until a minute passed', () => {
    const log = new SentLog();
    const e = entry({ n: {} });
    let served = 0;
    for (let i = 0; i < PEER_REQUESTS_PER_MINUTE + 5; i++)
      if (log.take({ ...e, n: {} }, 'bob.1', 5000)) served += 1;
    expect(served).toBe(PEER_REQUESTS_PER_MINUTE);
    expect(log.take(e, 'bob.1', 5000 + 60_000)).toBe(true);
    expect(e.n).toEqual({ 'bob.1': 1 });
  });

  it('when more than the limit is sent or entries age out, then the oldest are forgotten, and the log survives a reload', async () => {
    const store = createMemoryStore();
    const log = new SentLog();
    await log.load(store);
    log.record(entry({ s: 'old', t: 0 }));
    for (let i = 0; i < RETRY_LOG_LIMIT; i++) log.record(entry({ s: `s${i}`, t: RETRY_WINDOW_MS }));
    expect(log.get('old')).toBeUndefined();
    expect(log.get('s0')).toBeDefined();
    log.record(entry({ s: 'late', t: 3 * RETRY_WINDOW_MS }));
    expect(log.get('s0')).toBeUndefined();
    log.record(entry({ s: 'late', r: ['carol.1'], t: 3 * RETRY_WINDOW_MS }));
    expect(log.get('late')?.r).toEqual(['bob.1', 'alice.2', 'carol.1']);
    await log.flush();
    const again = new SentLog();
    await again.load(store);
    expect(again.get('late')?.r).toEqual(['bob.1', 'alice.2', 'carol.1']);
  });

  it('when the server acks another message (a typing message, a later member) with an older message id, then that id is refused from then on', () => {
    const log = new SentLog();
    log.record(entry({ s: 'srv-9', r: ['bob.1'] }));
    // Same id, another message whose readers include a device added later.
    log.record(entry({ s: 'srv-9', c: 'typing-1', k: 'typing', r: ['bob.1', 'mallory.1'] }));
    const poisoned = log.get('srv-9');
    expect(poisoned?.r).toEqual(['bob.1']);
    expect(checkRetryRequest(poisoned, { conversationId: 'c1', reader: 'mallory.1' }, 2000)).toEqual({
      ok: false,
      reason: 'id_collision',
    });
    expect(checkRetryRequest(poisoned, { conversationId: 'c1', reader: 'bob.1' }, 2000)).toEqual({
      ok: false,
      reason: 'id_collision',
    });
    // Another conversation or the same client id in another conversation poisons it too.
    log.record(entry({ s: 'srv-10', r: ['bob.1'] }));
    log.record(entry({ s: 'srv-10', conv: 'c2', r: ['mallory.1'] }));
    expect(log.get('srv-10')?.x).toBe(true);
    // The very same message acked twice (a new device of the conversation) still merges.
    log.record(entry({ s: 'srv-11', r: ['bob.1'] }));
    log.record(entry({ s: 'srv-11', r: ['bob.2'] }));
    expect(
      checkRetryRequest(log.get('srv-11'), { conversationId: 'c1', reader: 'bob.2' }, 2000),
    ).toMatchObject({ ok: true });
  });
});
