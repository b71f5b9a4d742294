/**
 * Mail the stack sends, read from maildev: email verification and password reset.
 */
import type { Browser } from 'playwright-core';
import { escapeRegExp, logIn } from './app.js';
import { BASE_URL, MAILDEV_URL, inNewBrowser } from './browser.js';
import type { Person } from './browser.js';

/** One message as maildev's REST API lists it. */
interface MaildevEmail {
  subject: string;
  to: Array<{ address: string }>;
  text?: string;
  html?: string;
  date?: string;
}

/**
 * Waits for an email to an address whose body contains a link to `path` and returns that link,
 * rebased onto {@link BASE_URL} (the stack may advertise another public origin).
 * @param to recipient
 * @param path link path, e.g. `/verify-email`
 * @returns the link
 */
export async function waitForEmailLink(
  to: string,
  path: '/verify-email' | '/reset-password',
): Promise<string> {
  const deadline = Date.now() + 60_000;
  const re = new RegExp(`https?://[^\\s"'<>]+${escapeRegExp(path)}\\?token=[^\\s"'<>]+`);
  while (Date.now() < deadline) {
    const res = await fetch(`${MAILDEV_URL}/email`);
    if (res.ok) {
      const mails = (await res.json()) as MaildevEmail[];
      for (const mail of mails.slice().reverse()) {
        if (!mail.to.some((t) => t.address.toLowerCase() === to.toLowerCase())) continue;
        const found = re.exec(mail.text ?? '') ?? re.exec(mail.html ?? '');
        if (found) {
          const url = new URL(found[0].replace(/&amp;/g, '&'));
          return `${BASE_URL}${url.pathname}${url.search}`;
        }
      }
    }
    // maildev has no push API for tests; the outbox relay and SMTP take a moment.
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no email with a ${path} link reached ${to} within 60 s`);
}

/**
 * Follows the emailed verification link in another browser context and logs in there, as a
 * person would. The login matters: its `user.new_login` event reaches notification-service on
 * the same queue as a later password-reset request and says the address is verified, while the
 * verification's own `user.profile_updated` event travels on another queue and may arrive after
 * the reset request (which is then not mailed). The context is closed afterwards.
 * @param p the person
 * @param browser the browser
 */
export async function verifyEmail(p: Person, browser: Browser): Promise<void> {
  const link = await waitForEmailLink(p.email, '/verify-email');
  const verifier = await inNewBrowser(p, browser);
  const { page } = verifier;
  await page.goto(link);
  await page.getByText('Your email address is confirmed.').waitFor();
  await page.getByRole('button', { name: 'Continue' }).click();
  await logIn(verifier);
  await verifier.context.close();
}

/**
 * Resets a forgotten password through the mailed link in a new browser context and ends on the
 * login form. The address must be verified ({@link verifyEmail}).
 * @param p the person
 * @param browser the browser
 * @param newPassword the new password
 * @returns the person in the new context, with the new password
 */
export async function resetPassword(p: Person, browser: Browser, newPassword: string): Promise<Person> {
  const after = { ...(await inNewBrowser(p, browser)), password: newPassword };
  const { page } = after;
  await page.getByRole('button', { name: 'Forgot your password?' }).click();
  await page.getByRole('form', { name: 'Reset password' }).getByLabel('Email').fill(p.email);
  await page.getByRole('button', { name: 'Send reset link' }).click();
  await page.getByText('If an account exists for this address').waitFor();
  const link = await waitForEmailLink(p.email, '/reset-password');
  await page.goto(link);
  await page.getByLabel('New password', { exact: true }).fill(newPassword);
  await page.getByLabel('Confirm new password').fill(newPassword);
  await page.getByRole('button', { name: 'Set new password' }).click();
  await page.getByText('Your password is changed').waitFor({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Go to log in' }).click();
  await page.getByRole('tab', { name: 'Log in' }).click();
  return after;
}

/**
 * Waits for an email to an address with this subject and returns its plain-text body.
 * @param to recipient
 * @param subject exact subject
 * @returns the text part
 */
export async function waitForEmail(to: string, subject: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${MAILDEV_URL}/email`);
    if (res.ok) {
      const mails = (await res.json()) as MaildevEmail[];
      const found = mails.find(
        (m) =>
          m.subject === subject && m.to.some((t) => t.address.toLowerCase() === to.toLowerCase()),
      );
      if (found) return found.text ?? '';
    }
    // maildev has no push API for tests; the outbox relay and SMTP take a moment.
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no email "${subject}" reached ${to} within 60 s`);
}
