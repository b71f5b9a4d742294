import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { EventEnvelope } from '@cipherchat/contracts';

/**
 * Keeps one-time tokens out of the database while still using the transactional outbox.
 *
 * The verification / reset link must travel in the event (notification-service mails it), and
 * the event sits in the outbox table until the relay publishes it (and for a day afterwards).
 * So the token inside the link is stored sealed (AES-256-GCM, key derived from the OPAQUE
 * server setup with HKDF) and the relay's `prepare` hook unseals it at publish time: the clear
 * link exists only in process memory, the broker message and the email.
 */
export interface LinkSeal {
  /** Replaces `token=<raw>` in a link with `token=sealed.<ciphertext>`. */
  seal(url: string, token: string): string;
  /** Outbox relay hook: unseals the link fields of an envelope's payload. */
  unsealEnvelope(envelope: EventEnvelope): EventEnvelope;
}

const SEALED = 'sealed.';
const LINK_FIELDS = ['verifyUrl', 'resetUrl'] as const;

/**
 * Creates the seal.
 * @param serverSetup OPAQUE server setup (the secret the key is derived from)
 * @returns the seal
 */
export function createLinkSeal(serverSetup: string): LinkSeal {
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(serverSetup, 'utf8'), 'cipherchat/user-service', 'outbox-link-seal/v1', 32));
  const unsealToken = (sealed: string): string => {
    const raw = Buffer.from(sealed, 'base64url');
    const iv = raw.subarray(0, 12);
    const tag = raw.subarray(12, 28);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  };
  return {
    seal(url, token) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const ct = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
      const sealed = Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64url');
      const u = new URL(url);
      u.searchParams.set('token', `${SEALED}${sealed}`);
      return u.toString();
    },
    unsealEnvelope(envelope) {
      const payload = envelope.payload as Record<string, unknown> | null;
      if (!payload || typeof payload !== 'object') return envelope;
      let changed: Record<string, unknown> | undefined;
      for (const field of LINK_FIELDS) {
        const value = payload[field];
        if (typeof value !== 'string') continue;
        const u = new URL(value);
        const t = u.searchParams.get('token');
        if (!t?.startsWith(SEALED)) continue;
        try {
          u.searchParams.set('token', unsealToken(t.slice(SEALED.length)));
        } catch {
          // Sealed under another setup (rotated secret): publish as is rather than wedge the
          // relay; the link will not work and the user can ask for a new one.
          continue;
        }
        changed ??= { ...payload };
        changed[field] = u.toString();
      }
      return changed ? { ...envelope, payload: changed } : envelope;
    },
  };
}
