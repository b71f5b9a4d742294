import type { EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import type { NotificationKind } from '@cipherchat/contracts';
import type { Config } from '../config.js';
import { decideSend, REQUESTED_KINDS, unsubscribeKindFor, type StoredPreferences } from '../domain/policy.js';
import { reasonFor, renderMail, type MailInput } from '../domain/templates.js';
import { recipientHash, signUnsubscribeToken } from '../domain/unsubscribe-token.js';
import type { Mailer } from '../mail/mailer.js';
import { alreadyLogged, countSentLastHour, lockRecipient, logMail } from '../store/sent-mail.repository.js';

/** Optional kinds, which share the per-recipient hourly limit. */
const LIMITED_KINDS: NotificationKind[] = ['welcome', 'new_login', 'digest'];

/** What sending needs, built once by the app. */
export interface Notifier {
  config: Config;
  mailer: Mailer;
  logger: Logger;
  /** Absolute logo URL (Cloudinary or local). */
  logoUrl: string;
  /** Counts mails by kind and outcome (`sent`, a suppress reason, or `smtp_error`). */
  mailCounter?: { inc(labels: { kind: string; outcome: string }): void };
}

/** One mail to consider sending. */
export interface MailRequest {
  /** Triggering event id (or digest id): with `kind`, the dedupe key of the sent log. */
  eventId: string;
  /** The user the mail is about (and to). */
  userId: string;
  /** Address. */
  to: string;
  /** Template data (its `kind` is the mail's kind). */
  input: MailInput;
  /** Verified state as known (undefined = user unknown here). */
  emailVerified: boolean | undefined;
  /** The user's preferences. */
  prefs: StoredPreferences;
}

/** Outcome of {@link deliver}. */
export type DeliverOutcome = 'sent' | 'suppressed' | 'duplicate';

/**
 * Builds the signed one-click unsubscribe URL for a user and mail kind.
 * @param config service config
 * @param userId the user
 * @param kind the mail's kind
 * @returns absolute URL
 */
export function unsubscribeUrl(config: Config, userId: string, kind: NotificationKind): string {
  const token = signUnsubscribeToken(config.UNSUBSCRIBE_SECRET, { userId, kind: unsubscribeKindFor(kind) });
  return `${config.PUBLIC_BASE_URL}/api/notifications/unsubscribe?token=${token}`;
}

/**
 * Sends one mail inside the caller's transaction, at most once per (event, kind):
 * lock the recipient, check the sent log, decide (verification, preferences, hourly limit),
 * render, hand to SMTP, then log. If SMTP fails this throws and the transaction (inbox row
 * included) rolls back, so the bus retries the whole event later. If the process dies after
 * the server accepted the mail but before the commit, the retry sends it again with the same
 * Message-ID: that crash window is the only way to get a duplicate (documented).
 * @param n the notifier
 * @param m the transaction's manager
 * @param req what to send
 * @returns sent, suppressed (by policy; logged) or duplicate (already logged)
 */
export async function deliver(n: Notifier, m: EntityManager, req: MailRequest): Promise<DeliverOutcome> {
  const { config } = n;
  const kind = req.input.kind;
  const hash = recipientHash(config.UNSUBSCRIBE_SECRET, req.to);
  await lockRecipient(m, hash);
  if (await alreadyLogged(m, req.eventId, kind)) return 'duplicate';

  const sentLastHour = REQUESTED_KINDS.has(kind) ? 0 : await countSentLastHour(m, hash, LIMITED_KINDS);
  const decision = decideSend({
    kind,
    emailVerified: req.emailVerified,
    prefs: req.prefs,
    sentLastHour,
    hourlyLimit: config.MAIL_RATE_LIMIT_PER_HOUR,
  });
  if (!decision.send) {
    await logMail(m, { eventId: req.eventId, kind, userId: req.userId, recipientHash: hash, messageId: null, status: 'suppressed', reason: decision.reason });
    n.mailCounter?.inc({ kind, outcome: decision.reason });
    n.logger.info({ eventId: req.eventId, kind, userId: req.userId, reason: decision.reason }, 'mail not sent');
    return 'suppressed';
  }

  const unsubscribe = unsubscribeUrl(config, req.userId, kind);
  const rendered = renderMail(req.input, { logoUrl: n.logoUrl, baseUrl: config.PUBLIC_BASE_URL, unsubscribeUrl: unsubscribe, reason: reasonFor(kind) });
  const domain = config.MAIL_FROM.address.split('@')[1] ?? 'localhost';
  const messageId = `<${req.eventId}.${kind}@${domain}>`;
  try {
    await n.mailer.send({
      to: req.to,
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      messageId,
      headers: {
        'List-Unsubscribe': `<${unsubscribe}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
    });
  } catch (err) {
    if (!isPermanentRecipientRejection(err)) {
      n.mailCounter?.inc({ kind, outcome: 'smtp_error' });
      throw err; // transient or config trouble: retry, then DLQ
    }
    n.mailCounter?.inc({ kind, outcome: 'recipient_rejected' });
    // The server said this address will never take mail (5xx to RCPT TO): retrying for minutes
    // changes nothing, so log it as not sent and move on.
    await logMail(m, { eventId: req.eventId, kind, userId: req.userId, recipientHash: hash, messageId: null, status: 'suppressed', reason: 'recipient_rejected' });
    n.logger.warn({ eventId: req.eventId, kind, userId: req.userId, responseCode: (err as SmtpError).responseCode }, 'mail refused by the server for this recipient; not retried');
    return 'suppressed';
  }
  await logMail(m, { eventId: req.eventId, kind, userId: req.userId, recipientHash: hash, messageId, status: 'sent' });
  n.mailCounter?.inc({ kind, outcome: 'sent' });
  n.logger.info({ eventId: req.eventId, kind, userId: req.userId, messageId }, 'mail sent');
  return 'sent';
}

/** The fields nodemailer sets on SMTP errors. */
interface SmtpError {
  responseCode?: number;
  command?: string;
}

/**
 * Whether an SMTP error is a permanent refusal of the recipient (5xx answer to RCPT TO).
 * Authentication failures (535), a full server (452) and connection errors are not: they are
 * retried and end in the DLQ if they persist.
 * @param err what nodemailer threw
 * @returns true for a permanent recipient rejection
 */
export function isPermanentRecipientRejection(err: unknown): boolean {
  const e = err as SmtpError;
  return e?.command === 'RCPT TO' && typeof e.responseCode === 'number' && e.responseCode >= 550 && e.responseCode < 560;
}
