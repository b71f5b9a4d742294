import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recipientHash, signUnsubscribeToken, verifyUnsubscribeToken } from './unsubscribe-token.js';

const SECRET = 'unit-test-secret-unit-test-secret-0123';

describe('unsubscribe tokens', () => {
  it('when a token is signed, then it verifies to the same user and kind and is URL-safe', () => {
    const userId = randomUUID();
    const token = signUnsubscribeToken(SECRET, { userId, kind: 'digest' });
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyUnsubscribeToken(SECRET, token)).toEqual({ userId, kind: 'digest' });
  });

  it('when any character of a token changes, then it no longer verifies', () => {
    const token = signUnsubscribeToken(SECRET, { userId: randomUUID(), kind: 'new_login' });
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.constantFrom(...'ABCxyz019-_.'), (i, c) => {
        fc.pre(token[i] !== c);
        const changed = token.slice(0, i) + c + token.slice(i + 1);
        expect(verifyUnsubscribeToken(SECRET, changed)).toBeUndefined();
      }),
    );
  });

  it('when the secret differs or the input is junk, then nothing verifies', () => {
    const token = signUnsubscribeToken(SECRET, { userId: randomUUID(), kind: 'all' });
    expect(verifyUnsubscribeToken(`${SECRET}x`, token)).toBeUndefined();
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(verifyUnsubscribeToken(SECRET, s)).toBeUndefined();
      }),
    );
    const badKind = `${Buffer.from(`${randomUUID()}:verify_email`).toString('base64url')}.${token.split('.')[1]}`;
    expect(verifyUnsubscribeToken(SECRET, badKind)).toBeUndefined();
  });

  it('when two addresses differ only in case, then their recipient hash is the same; other secrets give other hashes', () => {
    expect(recipientHash(SECRET, 'Alice@Example.test')).toBe(recipientHash(SECRET, 'alice@example.test'));
    expect(recipientHash(SECRET, 'alice@example.test')).not.toBe(recipientHash(`${SECRET}x`, 'alice@example.test'));
    expect(recipientHash(SECRET, 'alice@example.test')).toMatch(/^[0-9a-f]{64}$/);
  });
});
