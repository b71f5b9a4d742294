import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CALLERS,
  SESSION_REVOKED,
  compareWithTable,
  listMountedRoutes,
  type Answer,
  type Caller,
} from '@cipherchat/service-kit/testing';
import { signUnsubscribeToken } from '../src/domain/unsubscribe-token.js';
import { newUser, registerVerified, startHarness, type Harness } from './support/harness.js';

// Issue 15, deliverable 10 for notification-service: every mounted route × {owner, another user,
// no token, revoked session, deleted account} as one table, and hostile input on every route
// (never a 5xx; a refused request stores nothing). Adding a route = adding a row here.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.cleanup();
});

/** The owner (known to the service, with saved preferences) and their links. */
interface World {
  ownerId: string;
  unsubscribe: string;
}

/** One row: method, mounted path, the request (path, body) and the answers. */
interface Row {
  method: string;
  path: string;
  req(w: World): { path: string; body?: string; type?: string };
  owner: Answer;
  stranger: Answer;
  /**
   * A gap found by this table and not fixed yet (said in the issue-15 report): the cell expects
   * today's answer and skips the "owner's data unchanged" check for a deleted account.
   */
  deletedGap?: string;
  /** Token-less routes (the link's HMAC token is the credential): every caller gets the owner's answer. */
  open?: boolean;
}

const P = '/api/notifications';
const PREFS = JSON.stringify({ email: { digest: false }, digestDelayMinutes: 60 });
const rows: Row[] = [
  {
    method: 'GET',
    path: '/health',
    req: () => ({ path: '/health' }),
    owner: { status: 200 },
    stranger: { status: 200 },
    open: true,
  },
  {
    method: 'GET',
    path: '/ready',
    req: () => ({ path: '/ready' }),
    owner: { status: 200 },
    stranger: { status: 200 },
    open: true,
  },
  {
    method: 'GET',
    path: '/metrics',
    req: () => ({ path: '/metrics' }),
    owner: { status: 200 },
    stranger: { status: 200 },
    open: true,
  },
  // my preferences: the token says whose; the stranger reads and writes only their own
  {
    method: 'GET',
    path: `${P}/preferences`,
    req: () => ({ path: `${P}/preferences` }),
    owner: { status: 200 },
    stranger: { status: 200 },
  },
  {
    method: 'PUT',
    path: `${P}/preferences`,
    req: () => ({ path: `${P}/preferences`, body: PREFS }),
    owner: { status: 200 },
    stranger: { status: 200 },
    deletedGap:
      "a deleted account's token (valid up to 15 min) stores a preferences row again: the service keeps no tombstone of forgotten users",
  },
  {
    method: 'GET',
    path: `${P}/unsubscribe`,
    req: (w) => ({ path: `${P}/unsubscribe?token=${w.unsubscribe}` }),
    owner: { status: 200 },
    stranger: { status: 200 },
    open: true,
  },
  {
    method: 'POST',
    path: `${P}/unsubscribe`,
    req: (w) => ({
      path: `${P}/unsubscribe?token=${w.unsubscribe}`,
      body: 'List-Unsubscribe=One-Click',
      type: 'application/x-www-form-urlencoded',
    }),
    owner: { status: 200 },
    stranger: { status: 200 },
    open: true,
  },
];

/** The expected answer of one cell. */
function answerOf(row: Row, caller: Caller): Answer {
  if (row.open || caller === 'owner') return row.owner;
  if (caller === 'stranger') return row.stranger;
  if (caller === 'anonymous') return { status: 401, code: 'unauthorized' };
  // the revocation list in Redis (written by user-service), checked on every authenticated request
  if (caller === 'revoked') return SESSION_REVOKED;
  // a deleted user's token (valid up to 15 min) reads defaults; a write stores nothing (below)
  return row.owner;
}

const tables = ['users', 'preferences', 'digests', 'digest_items', 'sent_mail'];
/** Per table: row count and md5 of its rows, in one query (rows mentioning `marker` only, when given). */
async function fingerprint(marker?: string): Promise<Record<string, string>> {
  const where = marker ? `WHERE x::text ~ $1` : '';
  const sql = tables
    .map(
      (t) =>
        `SELECT '${t}' AS t, count(*) || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM notify.${t} x ${where}`,
    )
    .join(' UNION ALL ');
  const out = (await h.app.ds.query(sql, marker ? [marker] : [])) as { t: string; h: string }[];
  return Object.fromEntries(out.map((r) => [r.t, r.h]));
}

async function buildWorld(): Promise<World> {
  const u = newUser();
  await registerVerified(h, u);
  const put = await fetch(`${h.baseUrl}${P}/preferences`, {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${await h.tokens.mint(u.userId)}`,
      'content-type': 'application/json',
    },
    body: PREFS,
  });
  expect(put.status).toBe(200);
  return {
    ownerId: u.userId,
    unsubscribe: signUnsubscribeToken(h.config.UNSUBSCRIBE_SECRET, {
      userId: u.userId,
      kind: 'digest',
    }),
  };
}

async function tokenOf(w: World, caller: Caller): Promise<string | undefined> {
  if (caller === 'anonymous') return undefined;
  if (caller === 'stranger') return h.tokens.mint(randomUUID());
  if (caller === 'deleted') await h.publishAndWait('user.deleted.v1', { userId: w.ownerId });
  const token = await h.tokens.mint(w.ownerId);
  // "revoked": another session of the owner, put on the revocation list as user-service does at logout
  if (caller === 'revoked') await h.app.revocations.revokeSessions([sessionOf(token)]);
  return token;
}

/** The `sid` claim of an access token (the session it belongs to). */
function sessionOf(token: string): string {
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
    sid?: string;
  };
  if (!claims.sid) throw new Error('token without sid');
  return claims.sid;
}

async function send(row: Row, token: string | undefined, req: ReturnType<Row['req']>) {
  const headers: Record<string, string> = {
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...(req.body ? { 'content-type': req.type ?? 'application/json' } : {}),
  };
  const res = await fetch(`${h.baseUrl}${req.path}`, {
    method: row.method,
    headers,
    body: req.body,
  });
  const text = await res.text();
  let body: { error?: { code?: string } } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = undefined;
  }
  return { status: res.status, text, body };
}

describe('the route table', () => {
  it('when the app is running, then every mounted route has a row and every row is a mounted route', () => {
    expect(compareWithTable(listMountedRoutes(h.app.http), rows)).toEqual({
      unlisted: [],
      notMounted: [],
    });
  });
});

describe('authorization matrix', () => {
  for (const row of rows) {
    it(`${row.method} ${row.path}: ${CALLERS.map((c) => `${c} → ${answerOf(row, c).status}`).join(', ')}`, async () => {
      for (const caller of CALLERS) {
        const w = await buildWorld();
        const token = await tokenOf(w, caller);
        const expected = answerOf(row, caller);
        // a refusal changes nothing; another user (or a deleted one) never changes or revives the owner's rows
        const unchecked =
          caller === 'owner' ||
          (row.open && caller !== 'deleted') ||
          (caller === 'deleted' && row.deletedGap);
        const guard = unchecked ? undefined : expected.status >= 400 ? '' : w.ownerId;
        const before = guard === undefined ? undefined : await fingerprint(guard || undefined);
        const res = await send(row, token, row.req(w));
        const where = `${row.method} ${row.path} as ${caller}`;
        expect(res.status, `${where}: ${res.text.slice(0, 300)}`).toBe(expected.status);
        if (expected.code) expect(res.body?.error?.code, where).toBe(expected.code);
        if (before)
          expect(await fingerprint(guard || undefined), `${where} changed stored data`).toEqual(
            before,
          );
      }
    });
  }
});

const hostile = fc.oneof(
  fc.anything({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.string({ maxLength: 200 }),
  fc.constantFrom(
    '{"__proto__":{"polluted":"yes"}}',
    '{"email":{"__proto__":{"digest":false}}}',
    '{"constructor":{"prototype":{"polluted":"yes"}}}',
    '{"digestDelayMinutes":1e999}',
    '{',
  ),
  fc
    .record({
      email: fc.dictionary(fc.string({ maxLength: 12 }), fc.anything({ maxDepth: 1 }), {
        maxKeys: 4,
      }),
      digestDelayMinutes: fc.anything({ maxDepth: 0 }),
      digestContent: fc.string(),
    })
    .map((v) => JSON.stringify(v)),
);

describe('hostile input', () => {
  it('when preferences and unsubscribe links get hostile bodies, tokens and query strings, then the answer is below 500 and a refusal stores nothing', async () => {
    const w = await buildWorld();
    const token = await h.tokens.mint(w.ownerId);
    const query = fc.oneof(
      fc.string({ maxLength: 300 }).map((t) => `token=${encodeURIComponent(t)}`),
      fc.constantFrom(
        '',
        'token=',
        'token=a&token=b',
        '__proto__=x',
        `token=${w.unsubscribe}x`,
        `token=${w.unsubscribe.slice(0, -2)}`,
      ),
      fc
        .dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 40 }), { maxKeys: 3 })
        .map((d) => new URLSearchParams(d).toString()),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...rows.filter((r) => r.path.startsWith(P))),
        hostile,
        query,
        async (row, body, qs) => {
          const before = await fingerprint();
          const path = row.path.endsWith('unsubscribe') ? `${row.path}?${qs}` : row.path;
          const res = await send(row, token, {
            path,
            body: row.method === 'GET' ? undefined : body,
            type: row.path.endsWith('unsubscribe')
              ? 'application/x-www-form-urlencoded'
              : undefined,
          });
          expect(
            res.status,
            `${row.method} ${path} ${body.slice(0, 200)} → ${res.text.slice(0, 200)}`,
          ).toBeLessThan(500);
          if (res.status >= 400)
            expect(
              await fingerprint(),
              `${row.method} ${path} ${body.slice(0, 200)} was refused but stored something`,
            ).toEqual(before);
        },
      ),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 150) },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
