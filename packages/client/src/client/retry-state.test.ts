import { describe, expect, it } from 'vitest';
import {
  capPlaceholders,
  causeOfAnswer,
  failed,
  isRetryable,
  MAX_PLACEHOLDERS,
  MAX_REQUESTS,
  newPlaceholder,
  nextStep,
  RE_REQUEST_MS,
  RETRY_GIVE_UP_MS,
  statsOf,
} from './retry-state.js';

const env = {
  messageId: '00000000-0000-4000-8000-000000000001',
  conversationId: 'c1',
  senderUserId: 'dan',
  senderDeviceId: 2,
  serverTimestamp: '2026-12-07T10:00:00.000Z',
};

describe('decrypt-failure placeholders', () => {
  it('when a session is missing or broken, then the sender is asked; a replay, an identity attack or a refused plaintext are not', () => {
    expect(isRetryable('no_session')).toBe(true);
    expect(isRetryable('invalid_message')).toBe(true);
    for (const code of [
      'duplicate_message',
      'foreign_device',
      'own_identity_key',
      'conversation_mismatch',
      'not_member',
    ])
      expect(isRetryable(code)).toBe(false);
  });

  it('when a placeholder is new, then it asks at once, then waits, asks again after 30 s up to three times, and gives up after 48 h', () => {
    const p = newPlaceholder(env, 'no_session', 1000);
    expect(p).toMatchObject({ state: 'waiting', requests: 0, failedAt: 1000 });
    expect(nextStep(p, 1000)).toBe('request');
    const asked = { ...p, requests: 1, lastRequestAt: 1000 };
    expect(nextStep(asked, 1000 + RE_REQUEST_MS - 1)).toBe('wait');
    expect(nextStep(asked, 1000 + RE_REQUEST_MS)).toBe('request');
    expect(nextStep({ ...asked, requests: MAX_REQUESTS }, 1000 + 10 * RE_REQUEST_MS)).toBe('wait');
    expect(nextStep(asked, 1000 + RETRY_GIVE_UP_MS)).toBe('give_up');
    expect(nextStep(failed(asked, 'device_removed'), 1000 + RETRY_GIVE_UP_MS)).toBe('wait');
  });

  it('when the sender answers, then deleted and expired become causes and a receipt or typing answer removes the placeholder', () => {
    expect(causeOfAnswer('deleted')).toBe('deleted');
    expect(causeOfAnswer('expired')).toBe('expired');
    expect(causeOfAnswer('control')).toBeUndefined();
    expect(causeOfAnswer(undefined)).toBeUndefined();
  });

  it('when placeholders wait or failed for two devices, then the stats count them in all and per sender device', () => {
    const a = newPlaceholder(env, 'no_session', 1);
    const b = failed(
      newPlaceholder({ ...env, messageId: 'm2' }, 'invalid_message', 2),
      'device_removed',
    );
    const c = newPlaceholder({ ...env, messageId: 'm3', senderDeviceId: 3 }, 'no_session', 3);
    const stats = statsOf([a, b, c], { resolved: 4, requestsSent: 5, resent: 6, refused: 7 });
    expect(stats).toEqual({
      waiting: 2,
      failed: 1,
      unresolved: 3,
      byDevice: [
        { userId: 'dan', deviceId: 2, unresolved: 2 },
        { userId: 'dan', deviceId: 3, unresolved: 1 },
      ],
      resolved: 4,
      requestsSent: 5,
      resent: 6,
      refused: 7,
    });
    expect(statsOf([], { resolved: 0, requestsSent: 0, resent: 0, refused: 0 })).toMatchObject({
      unresolved: 0,
      byDevice: [],
    });
  });

  it('when more placeholders pile up than a device keeps, then the oldest failed ones go first and waiting ones stay', () => {
    const list = Array.from({ length: MAX_PLACEHOLDERS + 2 }, (_, i) =>
      newPlaceholder({ ...env, messageId: `m${i}` }, 'no_session', i),
    );
    list[5] = failed(list[5]!, 'no_answer');
    list[9] = failed(list[9]!, 'no_answer');
    const kept = capPlaceholders(list);
    expect(kept).toHaveLength(MAX_PLACEHOLDERS);
    expect(kept.some((p) => p.messageId === 'm5' || p.messageId === 'm9')).toBe(false);
    expect(kept[0]?.messageId).toBe('m0');
  });
});
