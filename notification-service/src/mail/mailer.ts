import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import type { MailFrom } from '../config.js';

/** One outgoing message, already rendered. */
export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Deterministic `<...@domain>` id: a resend after a crash carries the same id, so clients dedupe. */
  messageId: string;
  /** Extra headers (List-Unsubscribe, List-Unsubscribe-Post). */
  headers: Record<string, string>;
}

/** Sends rendered mail. Throws when the server does not accept it (the caller retries). */
export interface Mailer {
  /**
   * @param mail the message
   * @returns the Message-ID the server accepted
   */
  send(mail: OutgoingMail): Promise<string>;
  /** Releases sockets. */
  close(): void;
}

/** Options of {@link createSmtpMailer}. */
export interface SmtpMailerOptions {
  /** smtp:// or smtps:// URL, credentials in the userinfo part. */
  url: string;
  from: MailFrom;
  /** Give up on one conversation after this many ms. */
  timeoutMs: number;
  /** Verify the server certificate for TLS/STARTTLS. */
  rejectUnauthorized: boolean;
}

/**
 * Builds the nodemailer transport options from SMTP_URL. Parsed by hand (rather than handing
 * nodemailer the string) so timeouts and TLS policy come from config, and credentials are
 * URL-decoded the same way everywhere.
 * @param options URL, timeouts, TLS policy
 * @returns transport options
 */
export function smtpTransportOptions(options: Omit<SmtpMailerOptions, 'from'>): SMTPPool.Options {
  const u = new URL(options.url);
  const secure = u.protocol === 'smtps:';
  const user = decodeURIComponent(u.username);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : secure ? 465 : 587,
    secure,
    auth: user ? { user, pass: decodeURIComponent(u.password) } : undefined,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
    tls: { rejectUnauthorized: options.rejectUnauthorized },
    // pooled: handlers and the digest scheduler share a few open connections (a broken one is
    // dropped and the failed send retried by the bus, so a restarted server is picked up)
    pool: true,
    maxConnections: 5,
    maxMessages: 100,
  };
}

/**
 * Creates the SMTP mailer.
 * @param options server, sender, timeouts
 * @returns a Mailer
 */
export function createSmtpMailer(options: SmtpMailerOptions): Mailer {
  const transport: Transporter<SMTPPool.SentMessageInfo> = nodemailer.createTransport(smtpTransportOptions(options));
  return {
    async send(mail) {
      const info = await transport.sendMail({
        from: { name: options.from.name, address: options.from.address },
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
        headers: mail.headers,
      });
      if (info.rejected.length > 0) throw new Error(`SMTP server rejected the recipient`);
      return info.messageId;
    },
    close() {
      transport.close();
    },
  };
}
