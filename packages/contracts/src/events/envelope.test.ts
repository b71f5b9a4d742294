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

describe('link reason (added to the reset and verification events after v1)', () => {
  const reset = {
    userId: crypto.randomUUID(),
    email: 'a@example.test',
    displayName: 'A',
    resetUrl: 'http://chat.test/reset-password?token=x',
    expiresAt: new Date().toISOString(),
  };
  it('when an older publisher leaves it out, then the payload parses without it', () => {
    const p = eventSchemas['user.password_reset_requested.v1'].parse(reset);
    expect(p.reason).toBeUndefined();
  });
  it('when it says registration_attempt, then consumers see it', () => {
    const p = eventSchemas['user.password_reset_requested.v1'].parse({
      ...reset,
      reason: 'registration_attempt',
    });
    expect(p.reason).toBe('registration_attempt');
  });
  it('when a consumer built before the field (the schema without it) meets registration_attempt, then it parses and drops the field (it mails a plain reset)', () => {
    const before = eventSchemas['user.password_reset_requested.v1'].omit({ reason: true });
    const p = before.parse({ ...reset, reason: 'registration_attempt' });
    expect(p).toEqual(reset);
  });
  it('when a newer publisher sends a reason this build does not know, then it reads as absent (plain mail, no dead letter)', () => {
    const p = eventSchemas['user.password_reset_requested.v1'].parse({
      ...reset,
      reason: 'something_new',
    });
    expect(p.reason).toBeUndefined();
  });
});
