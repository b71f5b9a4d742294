import { describe, expect, it } from 'vitest';
import { createLinkSeal } from './link-seal.js';

const setup = 'A'.repeat(171);
const envelope = (payload: unknown) => ({ id: '00000000-0000-4000-8000-000000000000', type: 'user.email_verification_requested.v1', occurredAt: new Date(0).toISOString(), aggregateId: 'u', payload });

describe('link seal', () => {
  it('when a link is sealed, then the stored form hides the token and the relay hook restores it', () => {
    const seal = createLinkSeal(setup);
    const token = 'tok_ABCdef0123456789tok_ABCdef0123456789abc';
    const sealed = seal.seal('https://chat.example/verify-email', token);
    expect(sealed).not.toContain(token);
    expect(sealed).toMatch(/^https:\/\/chat\.example\/verify-email\?token=sealed\./);
    const out = seal.unsealEnvelope(envelope({ verifyUrl: sealed, email: 'a@b.c' }));
    expect(out.payload).toEqual({ verifyUrl: `https://chat.example/verify-email?token=${token}`, email: 'a@b.c' });
  });

  it('when sealed twice, then the ciphertexts differ (fresh IV)', () => {
    const seal = createLinkSeal(setup);
    expect(seal.seal('https://x.example/r', 't')).not.toBe(seal.seal('https://x.example/r', 't'));
  });

  it('when a payload has no sealed link, or one sealed under another setup, then it passes unchanged', () => {
    const seal = createLinkSeal(setup);
    const plain = envelope({ userId: 'x' });
    expect(seal.unsealEnvelope(plain)).toBe(plain);
    const foreign = createLinkSeal('B'.repeat(171)).seal('https://x.example/reset-password', 'secret');
    const out = seal.unsealEnvelope(envelope({ resetUrl: foreign }));
    expect((out.payload as { resetUrl: string }).resetUrl).toBe(foreign);
  });
});
