import { z } from 'zod';
import { DEFAULT_REVOCATION_PREFIX, commonEnv } from '@cipherchat/service-kit';

const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim().replace(/\/$/, ''))
    .filter(Boolean),
);

/** The variables as read from the environment (before defaults that depend on each other). */
export const envSchema = z.object({
  ...commonEnv,
  /** HTTP + Socket.IO port. */
  PORT: z.coerce.number().int().min(0).max(65535).default(3002),
  /** Redis: Socket.IO adapter, presence, rate limits (nothing that must survive). */
  REDIS_URL: z.url({ protocol: /^rediss?$/, message: 'must be a redis:// URL' }),
  /** Prefix of every Redis key and of the Socket.IO adapter channels (isolates test runs). */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]+$/)
    .default('cc:chat'),
  /** user-service's JWKS (`/api/user/.well-known/jwks.json`): public keys that verify access tokens. */
  JWKS_URL: z.url(),
  /** Public URL of the web app (its origin is the default allowed origin). */
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).default('http://localhost:8080'),
  /** Browser origins allowed for cookie-authenticated requests and Socket.IO (comma separated; default: PUBLIC_BASE_URL's origin). */
  ALLOWED_ORIGINS: csv.optional(),
  /** Prefix of this service's queue names (`<prefix>.user-deleted`). */
  QUEUE_PREFIX: z
    .string()
    .regex(/^[a-z0-9_.-]+$/)
    .default('chat-service'),
  /** Where local attachments are written (one file per random id). */
  ATTACHMENTS_DIR: z.string().min(1).default('./data/attachments'),
  /** Largest accepted attachment ciphertext in bytes (default 25 MB). */
  ATTACHMENT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(25 * 1024 * 1024),
  /** Attachments are deleted after this many days. */
  ATTACHMENT_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
  /** When set (`cloudinary://key:secret@cloud`), attachments go to Cloudinary as raw, private uploads. */
  CLOUDINARY_URL: z
    .string()
    .regex(/^cloudinary:\/\/[^:]+:[^@]+@.+$/, 'must be cloudinary://key:secret@cloud')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  /**
   * Device registration (`POST /devices`) needs a recent login: the access token's `auth_time`
   * (the session's OPAQUE login, unchanged by refreshes) at most this many seconds ago. A stolen
   * or long-refreshed token cannot add a device.
   */
  FRESH_LOGIN_MAX_AGE_S: z.coerce.number().int().min(1).default(300),
  /** Most devices per user. */
  MAX_DEVICES: z.coerce.number().int().min(1).max(100).default(6),
  /** Most members of a group. */
  MAX_GROUP_MEMBERS: z.coerce.number().int().min(2).max(1000).default(256),
  /** Most one-time prekeys stored per device (uploads beyond it are refused). */
  MAX_PREKEYS_PER_DEVICE: z.coerce.number().int().min(100).default(2000),
  /** Most envelopes waiting in one device's mailbox (a send that would exceed it: `mailbox_full`). */
  MAILBOX_MAX_MESSAGES: z.coerce.number().int().min(1).default(10_000),
  /** Most ciphertext bytes waiting in one device's mailbox (default 100 MiB). */
  MAILBOX_MAX_BYTES: z.coerce.number().int().min(1024).default(100 * 1024 * 1024),
  /**
   * Messages a sender may send to one recipient per MAILBOX_REQUEST_WINDOW_S while that
   * recipient has not accepted the conversation (a message request), declined it or blocked the
   * sender (one per message, whatever the recipient's device count; dropped ones count too).
   */
  MAILBOX_REQUEST_MAX_MESSAGES: z.coerce.number().int().min(1).default(200),
  /** Envelope bytes (all the recipient's devices) a sender may send to such a recipient per window (default 5 MiB). */
  MAILBOX_REQUEST_MAX_BYTES: z.coerce.number().int().min(1024).default(5 * 1024 * 1024),
  /** The window of those budgets, in seconds (fixed, from the pair's first send; default 24 h). */
  MAILBOX_REQUEST_WINDOW_S: z.coerce.number().int().min(1).default(86_400),
  /** Undelivered envelopes expire after this many days. */
  MESSAGE_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
  /** How often the retention job runs (ms). */
  RETENTION_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(15 * 60 * 1000),
  /** Largest key backup blob in bytes (decoded). */
  BACKUP_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Largest Socket.IO message in bytes (maxHttpBufferSize). */
  SOCKET_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Bundle fetches (`GET /users/:id/keys`) per requester per minute (a client joining a big group fetches one per member). */
  RATE_PREKEY_PER_REQUESTER: z.coerce.number().int().min(1).default(600),
  /**
   * One-time prekeys handed out per target user per minute (all requesters together). Beyond
   * it bundles carry the signed prekey only (sessions still start): no one is ever refused
   * because of someone else's fetches.
   */
  RATE_PREKEY_PER_TARGET: z.coerce.number().int().min(1).default(60),
  /** Bundle fetches of one target by one requester per minute (over it: 429). */
  RATE_PREKEY_PER_PAIR: z.coerce.number().int().min(1).default(20),
  /**
   * Fetches of one target by one requester per hour that consume one-time prekeys (one per
   * target device each); later fetches in the hour get the signed prekey only. Default: one per
   * device the requester may have.
   */
  PREKEY_ONE_TIME_PER_PAIR_PER_HOUR: z.coerce.number().int().min(1).default(6),
  /** Below this many one-time prekeys a device is sent `prekeys:low` (at most once a minute). */
  PREKEY_LOW_THRESHOLD: z.coerce.number().int().min(0).default(20),
  /** Socket events per user per second (per process; see docs). */
  RATE_SOCKET_EVENTS_PER_SEC: z.coerce.number().int().min(1).default(200),
  /** Messages one user may send per minute, all devices and processes together (Redis; over it: `rate_limited`). */
  RATE_MESSAGES_PER_MIN: z.coerce.number().int().min(1).default(1200),
  /** Envelope ciphertext bytes one user may send per minute (default 60 MiB; over it: `rate_limited`). */
  RATE_MESSAGE_BYTES_PER_MIN: z.coerce.number().int().min(1024).default(60 * 1024 * 1024),
  /** Bytes of live (unexpired) attachments one user may hold (default 500 MiB; over it: 413 `quota_exceeded`). */
  ATTACHMENT_QUOTA_BYTES: z.coerce.number().int().min(1).default(500 * 1024 * 1024),
  /** Other REST requests per user per minute. */
  RATE_HTTP_PER_MIN: z.coerce.number().int().min(1).default(600),
  /** Reports (`POST /reports`) per user per hour. */
  RATE_REPORTS_PER_HOUR: z.coerce.number().int().min(1).default(20),
  /**
   * Message write batches in flight at once (each holds a pool connection). 2 gave the lowest
   * latency and nearly the best throughput on a 2-core host shared with PostgreSQL
   * (docs/chat-service.md); more only pay off when the database has cores to spare.
   */
  WRITE_BATCH_CONCURRENCY: z.coerce.number().int().min(1).max(50).default(2),
  /** Prefix of the session revocation list user-service writes (its REVOCATION_KEY_PREFIX; must match). */
  REVOCATION_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]+$/)
    .default(DEFAULT_REVOCATION_PREFIX),
  /** How often live sockets are checked against the revocation list, ms (one MGET per tick for all of them). */
  REVOCATION_CHECK_MS: z.coerce.number().int().min(100).max(5000).default(1000),
  /** PostgreSQL pool size. */
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(20),
});

/** chat-service configuration. URLs have no defaults: a missing one is a configuration error. */
export const configSchema = envSchema.transform((c) => ({
  ...c,
  ALLOWED_ORIGINS:
    c.ALLOWED_ORIGINS && c.ALLOWED_ORIGINS.length > 0
      ? c.ALLOWED_ORIGINS
      : [new URL(c.PUBLIC_BASE_URL).origin],
}));

/** Parsed chat-service configuration. */
export type Config = z.infer<typeof configSchema>;
