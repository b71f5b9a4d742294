import { z } from 'zod';
import { DEFAULT_REVOCATION_PREFIX, commonEnv } from '@cipherchat/service-kit';

/** A private ES256 JWK as user-service signs with it (`d` present, `kid` required). */
export const PrivateEs256Jwk = z.object({
  /** Key type: elliptic curve. */
  kty: z.literal('EC'),
  /** Curve P-256 (ES256). */
  crv: z.literal('P-256'),
  /** Public x coordinate (base64url). */
  x: z.string().min(1),
  /** Public y coordinate (base64url). */
  y: z.string().min(1),
  /** Private scalar (base64url). Never logged, never published. */
  d: z.string().min(1),
  /** Key id, carried in every token's header so verifiers pick the right key. */
  kid: z.string().min(1).max(64),
});
/** A private ES256 JWK. */
export type PrivateEs256Jwk = z.infer<typeof PrivateEs256Jwk>;

const jsonKeys = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array of private ES256 JWKs' });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .array(PrivateEs256Jwk)
      .min(1, 'needs at least one key (the first signs)')
      .refine(
        (keys) => new Set(keys.map((k) => k.kid)).size === keys.length,
        'every key needs a distinct kid',
      ),
  );

const boolFromEnv = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const commaList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((o) => o.trim().replace(/\/$/, ''))
      .filter(Boolean),
  )
  .pipe(z.array(z.url({ message: 'each origin must be a URL' })).min(1));

/** user-service environment: every variable, parsed and checked at start-up. */
export const configSchema = z
  .object({
    ...commonEnv,
    /** HTTP port. */
    PORT: z.coerce.number().int().min(0).max(65535).default(3001),
    /** redis:// URL: login states and rate limits live there (shared by every replica). */
    REDIS_URL: z.url({ protocol: /^rediss?$/, message: 'must be a redis:// URL' }),
    /** Prefix of every Redis key (tests give each run its own). */
    REDIS_KEY_PREFIX: z
      .string()
      .regex(/^[\w:.-]+$/)
      .default('user-service:'),
    /** JSON array of private ES256 JWKs; the first signs, all are published in the JWKS. */
    JWT_PRIVATE_KEYS: jsonKeys,
    /** `opaque.server.createSetup()` output. Losing it breaks every login. */
    OPAQUE_SERVER_SETUP: z
      .string()
      .regex(/^[A-Za-z0-9_-]{100,400}$/, 'must be the output of opaque.server.createSetup()'),
    /** Base URL of the web client, for links in emails. */
    PUBLIC_BASE_URL: z.url().transform((u) => u.replace(/\/$/, '')),
    /** Origins allowed to make cookie-authenticated state-changing requests (default PUBLIC_BASE_URL's origin). */
    ALLOWED_ORIGINS: commaList.optional(),
    /** Whether cookies carry `Secure` (browsers accept it on http://localhost too). */
    COOKIE_SECURE: boolFromEnv.default(true),
    /** Access token lifetime in seconds (15 min). */
    ACCESS_TOKEN_TTL_S: z.coerce.number().int().min(10).max(3600).default(900),
    /** Refresh token (session) lifetime in seconds (30 days). */
    REFRESH_TOKEN_TTL_S: z.coerce
      .number()
      .int()
      .min(60)
      .default(30 * 24 * 3600),
    /** Email verification link lifetime in seconds (48 h). */
    VERIFY_TOKEN_TTL_S: z.coerce
      .number()
      .int()
      .min(60)
      .default(48 * 3600),
    /** Password reset link lifetime in seconds (1 h). */
    RESET_TOKEN_TTL_S: z.coerce.number().int().min(60).default(3600),
    /** How long a login may sit between start and finish, in seconds. */
    LOGIN_STATE_TTL_S: z.coerce.number().int().min(5).max(600).default(60),
    /** Password change and account deletion need a login (not a refresh) this recent, seconds. */
    REAUTH_WINDOW_S: z.coerce.number().int().min(30).default(900),
    /** Requests per IP per window on the auth routes. */
    RATE_LIMIT_IP_POINTS: z.coerce.number().int().min(1).default(60),
    /** Window of the per-IP limit, seconds. */
    RATE_LIMIT_IP_WINDOW_S: z.coerce.number().int().min(1).default(60),
    /** Failed proofs (wrong password) from one client IP (IPv6: its /64) before that IP is locked out of the account. */
    LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(10),
    /** Failed proofs from all IPs together before the whole account is locked (a reset lifts it). */
    LOGIN_ACCOUNT_MAX_FAILURES: z.coerce.number().int().min(1).default(100),
    /** Window in which failures add up, seconds. */
    LOGIN_FAILURE_WINDOW_S: z.coerce.number().int().min(1).default(3600),
    /** First lockout, seconds; doubles with every further lockout. */
    LOCKOUT_BASE_S: z.coerce.number().int().min(1).default(60),
    /** Longest lockout, seconds. */
    LOCKOUT_MAX_S: z.coerce.number().int().min(1).default(3600),
    /** Prefix of the session revocation list in Redis; chat-service reads the same keys (its REVOCATION_KEY_PREFIX). */
    REVOCATION_KEY_PREFIX: z
      .string()
      .regex(/^[\w:.-]+$/)
      .default(DEFAULT_REVOCATION_PREFIX),
    /**
     * Directory searches (`GET /api/user/users`) per account per minute. A person typing gets
     * one search per pause (the web client debounces), a few per name, and pages rarely; 30
     * lets someone look up several people in a burst. A scraper walking three-character prefixes
     * and pages needs tens of thousands: at 30 a minute that takes days per account.
     */
    RATE_DIRECTORY_PER_MIN: z.coerce.number().int().min(1).default(30),
    /** Password reset / verification mails per address per hour. */
    EMAIL_REQUESTS_PER_HOUR: z.coerce.number().int().min(1).default(5),
  })
  .transform((c) => ({
    ...c,
    ALLOWED_ORIGINS: c.ALLOWED_ORIGINS ?? [new URL(c.PUBLIC_BASE_URL).origin],
  }));

/** The parsed user-service configuration. */
export type Config = z.infer<typeof configSchema>;
