import { describe, expect, it } from 'vitest';
import { EventEnvelope, eventSchemas } from '../index.js';

describe('event envelope', () => {
  it('when the type is not versioned, then it is refused', () => {
    const ok = EventEnvelope.safeParse({
      id: crypto.randomUUID(),
      type: 'user.registered',
      occurredAt: new Date().toISOString(),
      aggregateId: 'x',
      payload: {},
    });
    expect(ok.success).toBe(false);
  });
  it('when a known type is given, then its payload schema is registered', () => {
    expect(eventSchemas['user.deleted.v1'].safeParse({ userId: crypto.randomUUID() }).success).toBe(
      true,
    );
  });
});
