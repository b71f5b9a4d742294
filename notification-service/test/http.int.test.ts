import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationPreferences } from '@cipherchat/contracts';
import { signUnsubscribeToken } from '../src/domain/unsubscribe-token.js';
import { newUser, registerVerified, startHarness, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ DIGEST_DELAY_MINUTES: '15', ALLOWED_ORIGINS: 'http://chat.test' });
});
afterAll(async () => {
  await h?.cleanup();
});

const prefsUrl = () => `${h.baseUrl}/api/notifications/preferences`;
const bearer = async (userId: string) => ({ authorization: `Bearer ${await h.tokens.mint(userId)}` });

describe('GET/PUT /api/notifications/preferences', () => {
  it('when not signed in or the token is forged, then 401 and nothing changes', async () => {
    expect((await fetch(prefsUrl())).status).toBe(401);
    const res = await fetch(prefsUrl(), { headers: { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });

  it('when a user reads and changes preferences, then they get the defaults, then their own values, and nobody else is affected', async () => {
    const me = randomUUID();
    const other = randomUUID();
    const first = await fetch(prefsUrl(), { headers: await bearer(me) });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ email: { welcome: true, newLogin: true, digest: true }, digestDelayMinutes: 15, digestContent: 'sender', updatedAt: null });

    const put = await fetch(prefsUrl(), {
      method: 'PUT',
      headers: { ...(await bearer(me)), 'content-type': 'application/json' },
      body: JSON.stringify({ email: { newLogin: false }, digestDelayMinutes: 60, digestContent: 'generic' }),
    });
    expect(put.status).toBe(200);
    const saved = (await put.json()) as NotificationPreferences;
    expect(saved).toMatchObject({ email: { welcome: true, newLogin: false, digest: true }, digestDelayMinutes: 60, digestContent: 'generic' });
    expect(saved.updatedAt).toMatch(/^\d{4}-/);
    expect(await (await fetch(prefsUrl(), { headers: await bearer(me) })).json()).toEqual(saved);
    expect(await (await fetch(prefsUrl(), { headers: await bearer(other) })).json()).toMatchObject({ email: { newLogin: true }, updatedAt: null });
  });

  it('when a cookie-authenticated PUT comes from another origin, then 403 and nothing changes', async () => {
    const me = randomUUID();
    const token = await h.tokens.mint(me);
    const res = await fetch(prefsUrl(), {
      method: 'PUT',
      headers: { cookie: `cc_access=${token}`, origin: 'https://evil.example', 'content-type': 'application/json' },
      body: JSON.stringify({ digestContent: 'generic' }),
    });
    expect(res.status).toBe(403);
    const ok = await fetch(prefsUrl(), {
      method: 'PUT',
      headers: { cookie: `cc_access=${token}`, origin: 'http://chat.test', 'content-type': 'application/json' },
      body: JSON.stringify({ digestContent: 'generic' }),
    });
    expect(ok.status).toBe(200);
  });

  it('when the body is malformed (any shape), then 400 validation_error and the stored preferences stay as they were', async () => {
    const me = randomUUID();
    const headers = { ...(await bearer(me)), 'content-type': 'application/json' };
    await fetch(prefsUrl(), { method: 'PUT', headers, body: JSON.stringify({ digestDelayMinutes: 30 }) });
    const before = await (await fetch(prefsUrl(), { headers })).json();
    const bad = fc.oneof(
      fc.record({ digestDelayMinutes: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 1441 }), fc.double({ noInteger: true, min: 1.01, max: 99 }), fc.string()) }),
      fc.record({ digestContent: fc.string().filter((s) => s !== 'sender' && s !== 'generic') }),
      fc.record({ email: fc.record({ digest: fc.oneof(fc.string(), fc.integer(), fc.constant(null)) }) }),
      fc.record({ [`x${'y'}`]: fc.anything() }),
      fc.constant({}),
      fc.array(fc.anything()),
    );
    await fc.assert(
      fc.asyncProperty(bad, async (body) => {
        const res = await fetch(prefsUrl(), { method: 'PUT', headers, body: JSON.stringify(body) });
        expect(res.status).toBe(400);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('validation_error');
      }),
      { numRuns: 40 },
    );
    const notJson = await fetch(prefsUrl(), { method: 'PUT', headers, body: '{"digestContent":' });
    expect(notJson.status).toBe(400);
    expect(await (await fetch(prefsUrl(), { headers })).json()).toEqual(before);
  });
});

describe('unsubscribe', () => {
  const unsubUrl = (token: string) => `${h.baseUrl}/api/notifications/unsubscribe?token=${encodeURIComponent(token)}`;

  it('when the link is opened (GET, e.g. by a link scanner), then a confirmation page is shown and nothing changes; the POST unsubscribes', async () => {
    const u = newUser();
    await registerVerified(h, u);
    const welcome = (await h.inbox.waitFor((m) => m.to === u.email && m.subject.startsWith('Welcome')))[0]!;
    const link = /^<(.+)>$/.exec(welcome.header('list-unsubscribe') ?? '')![1]!;
    const token = new URL(link).searchParams.get('token')!;

    const page = await fetch(unsubUrl(token));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await page.text();
    expect(html).toContain('<form method="post"');
    expect(html).toContain('welcome emails');
    const prefs = async () => (await (await fetch(prefsUrl(), { headers: await bearer(u.userId) })).json()) as NotificationPreferences;
    expect((await prefs()).email.welcome).toBe(true);

    // RFC 8058 one-click POST, as a mailbox provider sends it
    const post = await fetch(unsubUrl(token), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(post.status).toBe(200);
    expect(await post.text()).toContain('You are unsubscribed');
    expect((await prefs()).email).toEqual({ welcome: false, newLogin: true, digest: true });
  });

  it('when a verification mail link (kind all) is used, then every optional kind is switched off', async () => {
    const u = newUser();
    await registerVerified(h, u);
    const token = signUnsubscribeToken(h.config.UNSUBSCRIBE_SECRET, { userId: u.userId, kind: 'all' });
    expect((await fetch(unsubUrl(token), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' })).status).toBe(200);
    const prefs = (await (await fetch(prefsUrl(), { headers: await bearer(u.userId) })).json()) as NotificationPreferences;
    expect(prefs.email).toEqual({ welcome: false, newLogin: false, digest: false });
  });

  it('when the token is forged, tampered with, signed with another secret or missing, then 400 and nothing changes', async () => {
    const u = newUser();
    await registerVerified(h, u);
    const good = signUnsubscribeToken(h.config.UNSUBSCRIBE_SECRET, { userId: u.userId, kind: 'digest' });
    const otherUser = signUnsubscribeToken(h.config.UNSUBSCRIBE_SECRET, { userId: randomUUID(), kind: 'digest' });
    const [body, mac] = good.split('.');
    const tampered = [
      `${Buffer.from(`${u.userId}:all`).toString('base64url')}.${mac}`, // kind swapped
      `${body}.${otherUser.split('.')[1]}`, // someone else's MAC
      signUnsubscribeToken('another-secret-another-secret-another-secret', { userId: u.userId, kind: 'digest' }),
      `${body}.`,
      'garbage',
      '',
    ];
    for (const t of tampered) {
      const res = await fetch(unsubUrl(t), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
      expect(res.status, t).toBe(400);
    }
    expect((await fetch(`${h.baseUrl}/api/notifications/unsubscribe`)).status).toBe(400);
    const prefs = (await (await fetch(prefsUrl(), { headers: await bearer(u.userId) })).json()) as NotificationPreferences;
    expect(prefs.email).toEqual({ welcome: true, newLogin: true, digest: true });
  });
});
