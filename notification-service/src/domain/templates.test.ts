import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { digestHeadline, escapeHtml, oneLine, renderMail } from './templates.js';

const layout = { logoUrl: 'https://res.cloudinary.com/demo/image/upload/logo.png', baseUrl: 'https://chat.example', unsubscribeUrl: 'https://chat.example/api/notifications/unsubscribe?token=a.b', reason: 'Because.' };

describe('mail templates', () => {
  it('when counting digest messages, then the headline names senders or nobody, never content', () => {
    expect(digestHeadline(3, ['Alice'], 'sender')).toBe('3 new messages from Alice');
    expect(digestHeadline(1, ['Alice'], 'sender')).toBe('1 new message from Alice');
    expect(digestHeadline(5, ['Alice', 'Bob'], 'sender')).toBe('5 new messages from Alice and Bob');
    expect(digestHeadline(6, ['A', 'B', 'C'], 'sender')).toBe('6 new messages from A, B and C');
    expect(digestHeadline(9, ['A', 'B', 'C', 'D', 'E'], 'sender')).toBe('9 new messages from A, B and 3 others');
    expect(digestHeadline(4, [], 'sender')).toBe('4 new messages');
    expect(digestHeadline(4, ['Alice'], 'generic')).toBe('You have new messages');
  });

  it('when any display name is rendered, then it appears in the HTML only escaped and the subject has no line breaks', () => {
    const render = (name: string) => renderMail({ kind: 'digest', displayName: name, count: 2, senders: [name], content: 'sender' }, layout);
    const reference = render('Zq').html;
    fc.assert(
      // "Zq" marks where the name landed, so the rest of the page can be compared exactly
      fc.property(fc.string({ maxLength: 50 }), (s) => {
        const name = `Zq${s}`;
        const mail = render(name);
        expect(mail.subject).not.toMatch(/[\r\n]/);
        // every occurrence is the escaped, one-line form; replacing it gives the page rendered for "Zq"
        expect(mail.html.split(escapeHtml(oneLine(name))).join('Zq')).toBe(reference);
      }),
    );
  });

  it('when a mail is rendered, then both parts carry the action link, the logo is in the HTML and the unsubscribe link is in both', () => {
    const mail = renderMail({ kind: 'verify_email', displayName: 'Ann', verifyUrl: 'https://chat.example/verify-email?token=t&x=1', expiresAt: '2026-11-23T05:00:00.000Z' }, layout);
    expect(mail.text).toContain('Confirm my address: https://chat.example/verify-email?token=t&x=1');
    expect(mail.html).toContain('href="https://chat.example/verify-email?token=t&amp;x=1"');
    expect(mail.html).toContain(`src="${layout.logoUrl}"`);
    expect(mail.text).toContain(`Unsubscribe: ${layout.unsubscribeUrl}`);
    expect(mail.html).toContain(`href="${layout.unsubscribeUrl}"`);
    expect(mail.text).toContain('2026-11-23 05:00 UTC');
  });

  it('when a user agent carries control characters, then the alert shows one clean line', () => {
    const mail = renderMail({ kind: 'new_login', displayName: 'Ann', userAgent: 'evil\r\nBcc: x@y\u0000', ip: '1.2.3.4', at: '2026-11-22T05:00:00Z' }, layout);
    expect(mail.text).toContain('Device: evil Bcc: x@y');
    expect(mail.text).not.toContain('\r');
  });

  it('when a password reset mail is rendered, then it explains the recovery key and the safety-number change', () => {
    const mail = renderMail({ kind: 'password_reset', displayName: 'Ann', resetUrl: 'https://chat.example/reset-password?token=t', expiresAt: '2026-11-22T06:00:00Z' }, layout);
    expect(mail.text).toMatch(/recovery key/);
    expect(mail.text).toMatch(/new identity/);
    expect(mail.text).toMatch(/safety number changed/);
  });

  it('when a registration attempt mail is rendered, then it says nothing changed and carries the owner link, a log-in link, and the HTML escapes both', () => {
    const url = 'https://chat.example/reset-password?token=t&x=1';
    const mail = renderMail({ kind: 'registration_attempt', displayName: 'Ann', url, expiresAt: '2026-11-22T06:00:00Z', unconfirmed: false }, layout);
    expect(mail.subject).toBe('Someone tried to create a CipherChat account with your address');
    expect(mail.text).toContain(`Reset my password: ${url}`);
    expect(mail.text).toContain('Log in: https://chat.example/');
    expect(mail.text).toMatch(/nothing changed and you need to do nothing/);
    expect(mail.html).toContain('href="https://chat.example/reset-password?token=t&amp;x=1"');
    // an unconfirmed account (perhaps a squatter's): the same reset link, worded as taking it over
    const unconfirmed = renderMail({ kind: 'registration_attempt', displayName: 'Ann', url, expiresAt: '2026-11-22T06:00:00Z', unconfirmed: true }, layout);
    expect(unconfirmed.text).toContain(`Choose my password: ${url}`);
    expect(unconfirmed.text).toMatch(/never confirmed/);
    expect(unconfirmed.text).toMatch(/the account becomes yours, its address is confirmed/);
    expect(unconfirmed.text).not.toMatch(/verify-email|Confirm my address/);
  });
});
