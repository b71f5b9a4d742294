import type { DigestContent, NotificationKind, NotificationPreferences, OptionalNotificationKind } from '@cipherchat/contracts';

/**
 * Kinds that carry the owner's way in (a verification or reset link): never switched off, never
 * rate limited here (user-service throttles them per address). `registration_attempt` is not
 * asked for by the reader, but it carries the same link and is throttled by the same budget.
 */
export const REQUESTED_KINDS: ReadonlySet<NotificationKind> = new Set(['verify_email', 'password_reset', 'registration_attempt']);

/** A user's stored preferences (null delay = the service default). */
export interface StoredPreferences {
  welcome: boolean;
  newLogin: boolean;
  digest: boolean;
  digestDelayMinutes: number | null;
  digestContent: DigestContent;
  updatedAt: Date | null;
}

/** Preferences of a user who never changed anything. */
export const DEFAULT_PREFERENCES: StoredPreferences = Object.freeze({
  welcome: true,
  newLogin: true,
  digest: true,
  digestDelayMinutes: null,
  digestContent: 'sender',
  updatedAt: null,
});

/**
 * The preferences as the API shows them (the default delay filled in).
 * @param prefs stored preferences
 * @param defaultDelayMinutes DIGEST_DELAY_MINUTES
 * @returns the API shape
 */
export function presentPreferences(prefs: StoredPreferences, defaultDelayMinutes: number): NotificationPreferences {
  return {
    email: { welcome: prefs.welcome, newLogin: prefs.newLogin, digest: prefs.digest },
    // the API promises whole minutes >= 1; a fractional default only exists in tests
    digestDelayMinutes: prefs.digestDelayMinutes ?? Math.max(1, Math.round(defaultDelayMinutes)),
    digestContent: prefs.digestContent,
    updatedAt: prefs.updatedAt ? prefs.updatedAt.toISOString() : null,
  };
}

/**
 * Whether the user wants this kind of mail at all.
 * @param kind the mail's kind
 * @param prefs the user's preferences
 * @returns false when switched off
 */
export function isEnabled(kind: NotificationKind, prefs: StoredPreferences): boolean {
  switch (kind) {
    case 'welcome':
      return prefs.welcome;
    case 'new_login':
      return prefs.newLogin;
    case 'digest':
      return prefs.digest;
    default:
      return true;
  }
}

/**
 * Which preference the unsubscribe link of a mail switches off. Mails the user asked for
 * (verification, reset) carry an "all optional mail" link: RFC 8058 wants a working link on
 * every message, and the mails themselves can't be switched off.
 * @param kind the mail's kind
 * @returns the kind the token names
 */
export function unsubscribeKindFor(kind: NotificationKind): OptionalNotificationKind {
  return kind === 'welcome' || kind === 'new_login' || kind === 'digest' ? kind : 'all';
}

/**
 * Applies an unsubscribe to preferences.
 * @param prefs current preferences
 * @param kind what to switch off
 * @returns the new preferences
 */
export function unsubscribe(prefs: StoredPreferences, kind: OptionalNotificationKind): StoredPreferences {
  return {
    ...prefs,
    welcome: kind === 'welcome' || kind === 'all' ? false : prefs.welcome,
    newLogin: kind === 'new_login' || kind === 'all' ? false : prefs.newLogin,
    digest: kind === 'digest' || kind === 'all' ? false : prefs.digest,
  };
}

/** Why a mail was not sent. */
export type SuppressReason = 'unverified' | 'disabled' | 'rate_limited' | 'unknown_user';

/** Facts the send decision needs. */
export interface SendFacts {
  kind: NotificationKind;
  /** Whether the address is verified: true/false from our users table, undefined when we don't know the user yet. */
  emailVerified: boolean | undefined;
  prefs: StoredPreferences;
  /** Optional mails sent to this recipient in the last hour. */
  sentLastHour: number;
  /** MAIL_RATE_LIMIT_PER_HOUR. */
  hourlyLimit: number;
}

/**
 * The one place that says whether a mail goes out.
 *
 * - An unverified address gets nothing but mails someone just asked for with that address
 *   (verification, reset, "someone tried to sign up"), which user-service throttles per address;
 *   a stranger's typo must not turn into a stream of optional mail to someone else. A reset (also
 *   inside a registration attempt) must reach an unverified address: it is how the mailbox's
 *   owner takes back an account a squatter signed up with their address. An unknown user (our
 *   copy lags user-service) only blocks optional mail.
 * - Mails the user just asked for (verify, reset) ignore preferences and the hourly limit:
 *   user-service throttles those requests itself.
 * @param facts kind, verification, preferences, recent volume
 * @returns send, or the reason not to
 */
export function decideSend(facts: SendFacts): { send: true } | { send: false; reason: SuppressReason } {
  const { kind } = facts;
  if (kind === 'verify_email' || kind === 'password_reset' || kind === 'registration_attempt') return { send: true };
  if (facts.emailVerified === undefined) return { send: false, reason: 'unknown_user' };
  if (!facts.emailVerified) return { send: false, reason: 'unverified' };
  if (!isEnabled(kind, facts.prefs)) return { send: false, reason: 'disabled' };
  if (facts.sentLastHour >= facts.hourlyLimit) return { send: false, reason: 'rate_limited' };
  return { send: true };
}

/**
 * Delay before the next try of a failed digest: doubles per attempt, capped.
 * @param attempts failures so far (>= 1)
 * @param baseMs first delay
 * @param maxMs cap
 * @returns milliseconds
 */
export function backoffMs(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempts - 1), maxMs);
}
