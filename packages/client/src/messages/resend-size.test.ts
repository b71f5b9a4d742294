import { randomUUID } from 'node:crypto';
import { MAX_ENVELOPE_BODY_CHARS } from '@cipherchat/contracts';
import { describe, expect, it } from 'vitest';
import { FORMAT_VERSION, MAX_RESENT_CHARS, PlaintextMessage } from './message.schema.js';

describe('the size of a resend', () => {
  it('when a valid text is its longest and most escaped (64 Ki quotes), then a resend carrying its JSON is valid too', () => {
    const conversationId = randomUUID();
    const original = {
      v: FORMAT_VERSION,
      kind: 'text',
      id: randomUUID(),
      conversationId,
      sentAt: 1,
      text: '"'.repeat(65_536),
      mentions: Array.from({ length: 100 }, () => randomUUID()),
    };
    expect(PlaintextMessage.safeParse(original).success).toBe(true);
    const resend = {
      v: FORMAT_VERSION,
      kind: 'retry',
      id: randomUUID(),
      conversationId,
      sentAt: 2,
      retry: {
        op: 'resend',
        messageId: randomUUID(),
        to: { userId: randomUUID(), deviceId: 1 },
        plaintext: JSON.stringify(original),
      },
    };
    expect(PlaintextMessage.safeParse(resend).success).toBe(true);
  });

  it('when a plaintext fits in one envelope, then its JSON is within the resend limit', () => {
    expect(MAX_RESENT_CHARS).toBeGreaterThanOrEqual((MAX_ENVELOPE_BODY_CHARS * 3) / 4);
  });
});
