import { createHmac, timingSafeEqual } from 'node:crypto';
import { OptionalNotificationKind } from '@cipherchat/contracts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What an unsubscribe token says: this user no longer wants this kind of mail. */
export interface UnsubscribeClaim {
  /** The user (notification-service never needs the address for this). */
  userId: string;
  /** The kind to switch off, or `all` optional kinds. */
  kind: OptionalNotificationKind;
}

/**
 * Derives a purpose-bound key from the configured secret, so the unsubscribe MAC and the
 * recipient hash never share a key (a hash in the sent log can't be replayed as a token).
 * @param secret UNSUBSCRIBE_SECRET
 * @param purpose label
 * @returns 32-byte key
 */
export function deriveKey(secret: string, purpose: string): Buffer {
  return createHmac('sha256', secret).update(`cipherchat/notify/${purpose}/v1`).digest();
}

function mac(key: Buffer, userId: string, kind: string): Buffer {
  // A separator that cannot occur in either field: "a:b" + "c" never collides with "a" + "b:c".
  return createHmac('sha256', key).update(`unsubscribe\n${userId}\n${kind}`).digest();
}

/**
 * Signs a one-click unsubscribe token: `base64url(userId:kind).base64url(HMAC-SHA256)`.
 * Tokens do not expire (a link in an old mail must keep working, as RFC 8058 expects);
 * rotating UNSUBSCRIBE_SECRET invalidates every link already sent.
 * @param secret UNSUBSCRIBE_SECRET
 * @param claim user and kind
 * @returns the token (URL-safe)
 */
export function signUnsubscribeToken(secret: string, claim: UnsubscribeClaim): string {
  const key = deriveKey(secret, 'unsubscribe');
  const body = Buffer.from(`${claim.userId}:${claim.kind}`, 'utf8').toString('base64url');
  return `${body}.${mac(key, claim.userId, claim.kind).toString('base64url')}`;
}

/**
 * Verifies a token in constant time.
 * @param secret UNSUBSCRIBE_SECRET
 * @param token the token from the link
 * @returns the claim, or undefined for anything forged, truncated or malformed
 */
export function verifyUnsubscribeToken(secret: string, token: string): UnsubscribeClaim | undefined {
  const parts = token.split('.');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(parts[0]) || !/^[A-Za-z0-9_-]+$/.test(parts[1])) return undefined;
  const text = Buffer.from(parts[0], 'base64url').toString('utf8');
  const sep = text.indexOf(':');
  const userId = text.slice(0, sep);
  const kind = OptionalNotificationKind.safeParse(text.slice(sep + 1));
  if (sep < 0 || !UUID.test(userId) || !kind.success) return undefined;
  const given = Buffer.from(parts[1], 'base64url');
  // only the canonical encoding: no second spelling of the same token (unused trailing bits)
  if (given.toString('base64url') !== parts[1] || Buffer.from(text, 'utf8').toString('base64url') !== parts[0]) return undefined;
  const expected = mac(deriveKey(secret, 'unsubscribe'), userId, kind.data);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  return { userId, kind: kind.data };
}

/**
 * Keyed hash of a recipient address for the sent-mail log and rate limits: equal for the same
 * address (case-insensitive), useless to someone who reads the table without the secret.
 * @param secret UNSUBSCRIBE_SECRET
 * @param address the email address
 * @returns hex digest
 */
export function recipientHash(secret: string, address: string): string {
  return createHmac('sha256', deriveKey(secret, 'recipient-hash')).update(address.trim().toLowerCase()).digest('hex');
}
