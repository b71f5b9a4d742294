import express, { Router, type Response } from 'express';
import type { DataSource } from 'typeorm';
import type { Logger } from 'pino';
import { UnsubscribeQuery, type OptionalNotificationKind } from '@cipherchat/contracts';
import { withTransaction } from '@cipherchat/service-kit';
import { unsubscribe } from '../domain/policy.js';
import { escapeHtml } from '../domain/templates.js';
import { verifyUnsubscribeToken, type UnsubscribeClaim } from '../domain/unsubscribe-token.js';
import { getPreferences, savePreferences } from '../store/preferences.repository.js';
import { findUser } from '../store/user.repository.js';

const KIND_TEXT: Record<OptionalNotificationKind, string> = {
  welcome: 'welcome emails',
  new_login: 'new sign-in alerts',
  digest: 'unread-message digests',
  all: 'all optional emails (digests, sign-in alerts, welcome)',
};

function page(res: Response, status: number, title: string, inner: string): void {
  res
    .status(status)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      // the token is in the URL: keep it out of caches and Referer headers
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      'X-Content-Type-Options': 'nosniff',
    })
    .send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title>
<style>body{font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2328}
button{background:#2563eb;color:#fff;border:0;border-radius:6px;padding:.7rem 1.2rem;font-size:1rem;cursor:pointer}</style></head>
<body><h1>${escapeHtml(title)}</h1>${inner}</body></html>
`);
}

function readClaim(secret: string, query: unknown): UnsubscribeClaim | undefined {
  const q = UnsubscribeQuery.safeParse(query);
  return q.success ? verifyUnsubscribeToken(secret, q.data.token) : undefined;
}

/**
 * One-click unsubscribe (RFC 8058).
 *
 * - `GET /unsubscribe?token=` only shows a confirmation page with a button: link scanners and
 *   mail-security proxies fetch every URL in a mail, and a GET that unsubscribed would switch
 *   people off without their knowing.
 * - `POST /unsubscribe?token=` (the page's form, or the mailbox provider's one-click request with
 *   body `List-Unsubscribe=One-Click`) switches the kind off and answers 200.
 * The HMAC-signed token is the only credential: no login needed, nothing else accepted.
 * @param deps data source, secret, logger
 * @returns router to mount at /api/notifications
 */
export function unsubscribeRouter(deps: { ds: DataSource; secret: string; logger: Logger }): Router {
  const { ds, secret, logger } = deps;
  const router = Router();
  const invalid = (res: Response) =>
    page(res, 400, 'This unsubscribe link is not valid', '<p>The link is incomplete or was changed. Open it again from the email, or change your email settings in the app.</p>');

  router.get('/unsubscribe', (req, res) => {
    const claim = readClaim(secret, req.query);
    if (!claim) return invalid(res);
    const token = String(req.query.token);
    page(
      res,
      200,
      'Unsubscribe?',
      `<p>Stop receiving <strong>${escapeHtml(KIND_TEXT[claim.kind])}</strong> from CipherChat?</p>
<form method="post" action="/api/notifications/unsubscribe?token=${encodeURIComponent(token)}">
<input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>
<p style="color:#57606a;font-size:.9rem">Emails you ask for yourself (address confirmation, password reset) are always sent.</p>`,
    );
  });

  router.post('/unsubscribe', express.urlencoded({ extended: false, limit: '1kb', parameterLimit: 5 }), async (req, res) => {
    const claim = readClaim(secret, req.query);
    if (!claim) return invalid(res);
    await withTransaction(ds, async (m) => {
      // a forgotten (deleted) user stays forgotten: no preferences row is created for them
      if (!(await findUser(m, claim.userId))) return;
      const current = await getPreferences(m, claim.userId, true);
      await savePreferences(m, claim.userId, unsubscribe(current, claim.kind));
    });
    logger.info({ userId: claim.userId, kind: claim.kind }, 'unsubscribed');
    page(res, 200, 'You are unsubscribed', `<p>You will no longer receive ${escapeHtml(KIND_TEXT[claim.kind])}. You can turn them back on in the app\u2019s settings.</p>`);
  });
  return router;
}
