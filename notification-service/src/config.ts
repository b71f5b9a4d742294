import { z } from 'zod';
import { DEFAULT_REVOCATION_PREFIX, commonEnv } from '@cipherchat/service-kit';

/** A bare address (`a@b`, `no-reply@localhost` allowed: dev setups have no TLD). */
const ADDRESS = /^[^\s@<>"]+@[^\s@<>"]+$/;
/** `Name <address>` or a bare address. */
const MAILBOX = /^(?:(?<name>[^<>"]+?)\s*<(?<addr>[^\s@<>"]+@[^\s@<>"]+)>|(?<bare>[^\s@<>"]+@[^\s@<>"]+))$/;

/** The sender of every mail, split into display name and address. */
export interface MailFrom {
  /** Display name, e.g. `CipherChat` (may be empty). */
  name: string;
  /** Address, e.g. `no-reply@example.org`. */
  address: string;
}

/**
 * Parses `MAIL_FROM`: `CipherChat <no-reply@example.org>` or `no-reply@example.org`.
 * @param value the variable's text
 * @returns name and address, or undefined when malformed
 */
export function parseMailFrom(value: string): MailFrom | undefined {
  const m = MAILBOX.exec(value.trim());
  if (!m?.groups) return undefined;
  const address = m.groups.addr ?? m.groups.bare;
  if (!address || !ADDRESS.test(address)) return undefined;
  return { name: (m.groups.name ?? '').trim(), address };
}

const bool = z
  .enum(['true', 'false', '1', '0'])
  .transform((v) => v === 'true' || v === '1');

/** notification-service's environment. URLs and secrets have no defaults. */
export const configSchema = z.object({
  ...commonEnv,
  /** HTTP port. */
  PORT: z.coerce.number().int().min(0).max(65535).default(3003),
  /**
   * Outgoing mail server: `smtp://[user:pass@]host:port` (STARTTLS when offered) or
   * `smtps://...` (TLS from the first byte, usually port 465).
   */
  SMTP_URL: z
    .string({ message: 'is required: an smtp:// or smtps:// URL, e.g. smtp://127.0.0.1:1025' })
    .refine((v) => {
      try {
        const u = new URL(v);
        return (u.protocol === 'smtp:' || u.protocol === 'smtps:') && u.hostname !== '';
      } catch {
        return false;
      }
    }, 'must be an smtp:// or smtps:// URL with a host, e.g. smtp://127.0.0.1:1025 or smtps://user:pass@mail.example.org:465'),
  /** Require a valid certificate from the SMTP server (turn off only for a local catcher). */
  SMTP_TLS_REJECT_UNAUTHORIZED: bool.default(true),
  /** Give up on one SMTP conversation after this long (the bus then retries the event). */
  SMTP_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  /** Sender: `CipherChat <no-reply@example.org>` or a bare address. */
  MAIL_FROM: z
    .string({ message: 'is required: e.g. "CipherChat <no-reply@example.org>"' })
    .transform((v, ctx) => {
      const parsed = parseMailFrom(v);
      if (!parsed) {
        ctx.addIssue({ code: 'custom', message: 'must be an address or "Name <address>", e.g. "CipherChat <no-reply@example.org>"' });
        return z.NEVER;
      }
      return parsed;
    }),
  /** Public origin of the product as users reach it (links in mails), e.g. https://chat.example.org. */
  PUBLIC_BASE_URL: z
    .url({ protocol: /^https?$/, message: 'must be an http(s):// URL, e.g. https://chat.example.org' })
    .transform((v) => v.replace(/\/+$/, '')),
  /**
   * Origins allowed to send cookie-authenticated PUTs (CSRF check), comma-separated;
   * defaults to the origin of PUBLIC_BASE_URL.
   */
  ALLOWED_ORIGINS: z
    .string()
    .optional()
    .transform((v) => (v ? v.split(',').map((o) => o.trim()).filter(Boolean) : undefined)),
  /** Key of the HMAC that signs unsubscribe links (and keys recipient hashes in the sent log). */
  UNSUBSCRIBE_SECRET: z.string({ message: 'is required (>= 32 characters of random text)' }).min(32, 'must be at least 32 characters'),
  /**
   * Redis holding the session revocation list user-service writes (same server as user-service
   * and chat-service). Read once per authenticated request; nothing is stored there.
   */
  REDIS_URL: z.url({ protocol: /^rediss?$/, message: 'must be a redis:// URL, e.g. redis://127.0.0.1:6379' }),
  /** Prefix of the session revocation list (user-service's REVOCATION_KEY_PREFIX; must match). */
  REVOCATION_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]+$/)
    .default(DEFAULT_REVOCATION_PREFIX),
  /** user-service's JWKS (public keys that verify access tokens). */
  JWKS_URL: z.url({ protocol: /^https?$/, message: 'must be an http(s):// URL of user-service JWKS' }),
  /** `cloudinary://key:secret@cloud_name`; when set, the logo is served from Cloudinary. */
  CLOUDINARY_URL: z
    .string()
    .optional()
    .transform((v) => (v === '' ? undefined : v))
    .refine((v) => v === undefined || /^cloudinary:\/\/([^:@/]+(:[^@/]*)?@)?[A-Za-z0-9_-]+\/?$/.test(v), 'must look like cloudinary://api_key:api_secret@cloud_name'),
  /** Public id of the logo image on Cloudinary. */
  CLOUDINARY_LOGO_ID: z.string().min(1).default('cipherchat/logo'),
  /** Default minutes a message stays unread before a digest goes out (users may choose 1-1440). Fractions allowed for tests. */
  DIGEST_DELAY_MINUTES: z.coerce.number().positive().max(1440).default(15),
  /** At most one digest per this many hours while a user stays away. */
  DIGEST_REPEAT_HOURS: z.coerce.number().positive().max(24 * 30).default(24),
  /** How often the digest scheduler looks for due digests. */
  DIGEST_POLL_MS: z.coerce.number().int().min(50).max(600_000).default(15_000),
  /** Digests sent in parallel by one replica. */
  DIGEST_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(4),
  /** Failed digest sends are retried this many times (with backoff) before being dropped. */
  DIGEST_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  /** Queue names start with this (`<prefix>.account-mail`, ...). */
  QUEUE_PREFIX: z.string().regex(/^[a-z0-9_.-]+$/).default('notification-service'),
  /** Bus retry policy: total attempts before the dead-letter queue. */
  RETRY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  /** Bus retry policy: first delay, doubled each attempt. */
  RETRY_BASE_MS: z.coerce.number().int().min(1).max(3_600_000).default(2_000),
  /** Bus retry policy: cap on one delay. */
  RETRY_MAX_MS: z.coerce.number().int().min(1).max(86_400_000).default(300_000),
  /** Events handled concurrently per queue (each holds a DB connection while talking SMTP). */
  CONSUMER_PREFETCH: z.coerce.number().int().min(1).max(64).default(4),
  /** Per recipient, at most this many optional mails (welcome, new login, digest) per hour. */
  MAIL_RATE_LIMIT_PER_HOUR: z.coerce.number().int().min(1).max(10_000).default(10),
});

/** Parsed notification-service configuration. */
export type Config = z.infer<typeof configSchema>;
