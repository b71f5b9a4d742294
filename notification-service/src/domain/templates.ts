import type { DigestContent, NotificationKind } from '@cipherchat/contracts';

/** A rendered email: subject plus plain-text and HTML bodies. */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** What every mail's frame needs. */
export interface LayoutInput {
  /** Absolute https URL of the logo (Cloudinary or the product's own static file). */
  logoUrl: string;
  /** Public origin of the product, for "open CipherChat" links. */
  baseUrl: string;
  /** Signed one-click unsubscribe link, or undefined for mails that cannot be switched off. */
  unsubscribeUrl: string;
  /** One line telling the reader why they got this mail. */
  reason: string;
}

/** Per-kind inputs. */
export type MailInput =
  | { kind: 'verify_email'; displayName: string; verifyUrl: string; expiresAt: string }
  | { kind: 'password_reset'; displayName: string; resetUrl: string; expiresAt: string }
  | { kind: 'welcome'; displayName: string; username: string }
  | { kind: 'new_login'; displayName: string; userAgent: string; ip: string; at: string }
  | { kind: 'digest'; displayName: string; count: number; senders: string[]; content: DigestContent }
  /**
   * Someone tried to register with the reader's address: the owner's reset link, as user-service
   * created it (never a verification link: the account may be a squatter's, see
   * {@link registrationAttempt}). `unconfirmed`: the account's address was never verified.
   */
  | { kind: 'registration_attempt'; displayName: string; url: string; expiresAt: string; unconfirmed: boolean };

const PRODUCT = 'CipherChat';

/**
 * Escapes text for HTML element content and double-quoted attributes.
 * @param value untrusted text
 * @returns safe HTML
 */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/**
 * Makes user-controlled text fit for one line of a mail: no control characters (no header or
 * line injection), collapsed whitespace, bounded length.
 * @param value untrusted text (display names, user agents)
 * @param max longest result
 * @returns one clean line
 */
export function oneLine(value: string, max = 64): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').replace(/\s+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/**
 * Formats an ISO time for people: `2026-11-22 05:50 UTC` (mails can't know the reader's zone).
 * @param iso ISO 8601 timestamp
 * @returns readable UTC time
 */
export function formatUtc(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * The digest headline: "3 new messages from Alice", "5 new messages from Alice and Bob",
 * "9 new messages from Alice, Bob and 2 others", or, generic, "You have new messages".
 * Never message content: the server doesn't have it, and the mail must not hint at it.
 * @param count number of unread messages
 * @param senders display names of senders, most messages first
 * @param content preference
 * @returns the sentence
 */
export function digestHeadline(count: number, senders: readonly string[], content: DigestContent): string {
  if (content === 'generic') return 'You have new messages';
  const noun = count === 1 ? 'new message' : 'new messages';
  const names = senders.map((s) => oneLine(s)).filter((s) => s !== '');
  if (names.length === 0) return `${count} ${noun}`;
  let from: string;
  if (names.length === 1) from = names[0]!;
  else if (names.length === 2) from = `${names[0]} and ${names[1]}`;
  else if (names.length === 3) from = `${names[0]}, ${names[1]} and ${names[2]}`;
  else from = `${names[0]}, ${names[1]} and ${names.length - 2} others`;
  return `${count} ${noun} from ${from}`;
}

interface Body {
  subject: string;
  greeting: string;
  paragraphs: string[];
  action?: { label: string; url: string };
  /** A second, plain link after the action (e.g. "Log in"). */
  more?: { label: string; url: string };
  after?: string[];
}

function body(input: MailInput, baseUrl: string): Body {
  const hello = `Hello ${oneLine(input.displayName) || 'there'},`;
  switch (input.kind) {
    case 'verify_email':
      return {
        subject: `Confirm your email address for ${PRODUCT}`,
        greeting: hello,
        paragraphs: [`Please confirm that this is your address, so ${PRODUCT} can reach you about your account.`],
        action: { label: 'Confirm my address', url: input.verifyUrl },
        after: [
          `The link works once and expires at ${formatUtc(input.expiresAt)}.`,
          `If you did not sign up for ${PRODUCT}, ignore this mail: nothing happens without the link.`,
        ],
      };
    case 'password_reset':
      return {
        subject: `Reset your ${PRODUCT} password`,
        greeting: hello,
        paragraphs: [
          'Someone (hopefully you) asked to reset the password of your account. Use the link below to choose a new one.',
          'Before you do, know what happens to your encrypted messages: your password also protects the backup of your encryption keys. ' +
            'After a reset, your message history and your contacts\u2019 trust in your keys survive only if you still have the recovery key ' +
            'shown to you once when you signed up: you will be asked for it. Without it, your account starts a new identity, ' +
            'your old messages can no longer be read on new devices, and your contacts will see that your safety number changed.',
        ],
        action: { label: 'Reset my password', url: input.resetUrl },
        after: [
          `The link works once and expires at ${formatUtc(input.expiresAt)}. Resetting signs you out everywhere.`,
          'If you did not ask for this, ignore this mail: your password stays as it is.',
        ],
      };
    case 'registration_attempt':
      return registrationAttempt(input, hello, baseUrl);
    case 'welcome':
      return {
        subject: `Welcome to ${PRODUCT}`,
        greeting: hello,
        paragraphs: [
          // the handle is unknown when the sign-in event beat user.registered here
          `Your address is confirmed and your account${oneLine(input.username, 32) ? ` @${oneLine(input.username, 32)}` : ''} is ready.`,
          `Messages are end-to-end encrypted: only you and the people you talk to can read them, not even the ${PRODUCT} server. ` +
            'Keep your recovery key somewhere safe: it is the only way to restore your message history if you forget your password.',
        ],
        action: { label: `Open ${PRODUCT}`, url: `${baseUrl}/` },
      };
    case 'new_login':
      return {
        subject: `New sign-in to your ${PRODUCT} account`,
        greeting: hello,
        paragraphs: [
          'Your account was just signed in to:',
          `Device: ${oneLine(input.userAgent, 200) || 'unknown'}`,
          `Time: ${formatUtc(input.at)}`,
          `IP address: ${oneLine(input.ip, 64) || 'unknown'}`,
        ],
        action: { label: 'Review my devices', url: `${baseUrl}/settings` },
        after: ['If this was you, there is nothing to do. If not, reset your password now and sign out of your other devices.'],
      };
    case 'digest': {
      const headline = digestHeadline(input.count, input.senders, input.content);
      return {
        subject: input.content === 'generic' ? `You have new messages on ${PRODUCT}` : `${headline} on ${PRODUCT}`,
        greeting: hello,
        paragraphs: [`${headline} while you were away.`, `Open ${PRODUCT} to read them: they are end-to-end encrypted, so they are not in this mail.`],
        action: { label: `Open ${PRODUCT}`, url: `${baseUrl}/` },
      };
    }
  }
}

/**
 * "Someone tried to create an account with your address": nothing changed; log in if it was
 * you, or choose a new password with the reset link. It carries no secret but that link. An
 * unconfirmed account may be a squatter's (a stranger signed up first with this address): the
 * reset link lets the mailbox's owner take it over (the reset confirms the address and signs the
 * squatter out); a verification link would have confirmed the squatter's account instead.
 * @param input the attempt's data
 * @param hello greeting line
 * @param baseUrl public origin (log-in link)
 * @returns the body
 */
function registrationAttempt(input: Extract<MailInput, { kind: 'registration_attempt' }>, hello: string, baseUrl: string): Body {
  const paragraphs = input.unconfirmed
    ? [
        `Someone just tried to create a new ${PRODUCT} account with this email address. An account with this address already exists, so no new account was created.`,
        'That account was never confirmed: perhaps you signed up earlier, or someone else signed up with your address. ' +
          'If you want it, choose a password with the link below: the account becomes yours, its address is confirmed, ' +
          'and whoever set the old password is signed out and cannot log in any more. You can then change its name.',
      ]
    : [
        `Someone just tried to create a new ${PRODUCT} account with this email address. An account with this address already exists, so no new account was created.`,
        'If it was you: you already have an account, just log in. If you forgot your password, choose a new one with the link below ' +
          '(your message history survives a reset only if you still have your recovery key).',
      ];
  return {
    subject: `Someone tried to create a ${PRODUCT} account with your address`,
    greeting: hello,
    paragraphs,
    action: { label: input.unconfirmed ? 'Choose my password' : 'Reset my password', url: input.url },
    more: { label: 'Log in', url: `${baseUrl}/` },
    after: [
      `The link works once and expires at ${formatUtc(input.expiresAt)}.`,
      input.unconfirmed
        ? 'If it was not you and you want no account, do nothing: without the link nothing changes.'
        : 'If it was not you, nothing changed and you need to do nothing: your account and your password stay as they are. ' +
          'Someone may have mistyped their own address.',
    ],
  };
}

/**
 * Renders one mail: subject, plain text and HTML, with the logo, the call to action and
 * the unsubscribe footer. Every user-controlled value is escaped in HTML and flattened to
 * one line in both parts.
 * @param input kind and its data
 * @param layout logo, links, reason
 * @returns subject, text and html
 */
export function renderMail(input: MailInput, layout: LayoutInput): RenderedMail {
  const b = body(input, layout.baseUrl);
  const text = [
    b.greeting,
    '',
    ...b.paragraphs.flatMap((p) => [p, '']),
    ...(b.action ? [`${b.action.label}: ${b.action.url}`, ''] : []),
    ...(b.more ? [`${b.more.label}: ${b.more.url}`, ''] : []),
    ...(b.after ?? []).flatMap((p) => [p, '']),
    '-- ',
    `${PRODUCT} · ${layout.baseUrl}`,
    layout.reason,
    `Unsubscribe: ${layout.unsubscribeUrl}`,
    '',
  ].join('\n');

  const p = (t: string) => `<p style="margin:0 0 16px;line-height:1.5">${escapeHtml(t)}</p>`;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${escapeHtml(b.subject)}</title></head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1f2328">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7;padding:24px 0"><tr><td align="center">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;width:100%;background:#ffffff;border-radius:8px;padding:32px">
<tr><td style="padding-bottom:24px"><img src="${escapeHtml(layout.logoUrl)}" width="48" height="48" alt="${PRODUCT}" style="display:block;border:0"></td></tr>
<tr><td>
${p(b.greeting)}
${b.paragraphs.map(p).join('\n')}
${
  b.action
    ? `<p style="margin:24px 0"><a href="${escapeHtml(b.action.url)}" style="background:#2563eb;color:#ffffff;text-decoration:none;padding:12px 20px;border-radius:6px;display:inline-block">${escapeHtml(b.action.label)}</a></p>
<p style="margin:0 0 16px;font-size:13px;color:#57606a">Or paste this link into your browser: <span style="word-break:break-all">${escapeHtml(b.action.url)}</span></p>`
    : ''
}
${b.more ? `<p style="margin:0 0 16px;line-height:1.5">${escapeHtml(b.more.label)}: <a href="${escapeHtml(b.more.url)}">${escapeHtml(b.more.url)}</a></p>` : ''}
${(b.after ?? []).map(p).join('\n')}
</td></tr>
<tr><td style="border-top:1px solid #d0d7de;padding-top:16px;font-size:12px;color:#57606a">
${escapeHtml(layout.reason)} <a href="${escapeHtml(layout.unsubscribeUrl)}" style="color:#57606a">Unsubscribe</a>
</td></tr>
</table></td></tr></table>
</body></html>
`;
  return { subject: oneLine(b.subject, 200), text, html };
}

/**
 * Why the reader got a mail of this kind (footer line).
 * @param kind the mail's kind
 * @returns one sentence
 */
export function reasonFor(kind: NotificationKind): string {
  switch (kind) {
    case 'verify_email':
      return `You get this because this address was used to sign up for ${PRODUCT}.`;
    case 'password_reset':
      return `You get this because a password reset was requested for your ${PRODUCT} account.`;
    case 'welcome':
      return `You get this once, because you confirmed your ${PRODUCT} address.`;
    case 'new_login':
      return `You get sign-in alerts for your ${PRODUCT} account; you can turn them off in settings.`;
    case 'registration_attempt':
      return `You get this because someone tried to sign up for ${PRODUCT} with this address, which already has an account.`;
    case 'digest':
      return `You get a digest when messages wait unread; change how often or turn it off in settings.`;
  }
}
