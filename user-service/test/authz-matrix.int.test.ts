import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CALLERS,
  compareWithTable,
  listMountedRoutes,
  type Caller,
} from '@cipherchat/service-kit/testing';
import type { App } from '../src/app.js';
import { SCHEMA } from '../src/store/schema.js';
import { call, createHarness, type Harness } from './support/harness.js';
import { answerOf, rows, type Row, type World } from './support/routes.js';
import { buildWorld, credsOf } from './support/world.js';

// Issue 15, deliverable 10: every route × {owner, another user, no token, revoked session,
// deleted account} with the expected answer, as one table (test/support/routes.ts).

let h: Harness;
let app: App;
let base: string;

beforeAll(async () => {
  h = await createHarness('matrix');
  ({ app, url: base } = await h.startApp({
    RATE_LIMIT_IP_POINTS: '100000',
    EMAIL_REQUESTS_PER_HOUR: '100000',
  }));
});
afterAll(async () => {
  await h?.close();
});

/** The account tables (not the audit log or the outbox, which record refusals by design). */
const ACCOUNT_TABLES = ['users', 'sessions', 'refresh_tokens', 'one_time_tokens'];

/** Per account table: row count and md5 of its rows. */
async function fingerprint(): Promise<Record<string, string>> {
  const sql = ACCOUNT_TABLES.map(
    (t) =>
      `SELECT '${t}' AS t, count(*) || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM "${SCHEMA}".${t} x`,
  ).join(' UNION ALL ');
  const out = (await app.ds.query(sql)) as { t: string; h: string }[];
  return Object.fromEntries(out.map((r) => [r.t, r.h]));
}

describe('the route table', () => {
  it('when the app is running, then every mounted route has a row and every row is a mounted route', () => {
    const mounted = listMountedRoutes(app.http);
    expect(mounted.length).toBeGreaterThan(20);
    expect(compareWithTable(mounted, rows)).toEqual({ unlisted: [], notMounted: [] });
  });
});

/**
 * Runs one cell and checks the answer, what the caller saw and, for a refusal, that nothing changed.
 * @param row the route
 * @param w the world
 * @param caller who calls
 */
async function cell(row: Row, w: World, caller: Caller): Promise<void> {
  const creds = await credsOf(w, caller);
  const expected = answerOf(row, caller);
  const req = await row.req(w, creds);
  const before = expected.status >= 400 ? await fingerprint() : undefined;
  const headers: Record<string, string> = {
    'x-client': 'cli',
    ...(creds.access ? { authorization: `Bearer ${creds.access}` } : {}),
  };
  const res = row.path.startsWith('/api/user')
    ? await call(base, row.method, req.path, req.body, headers)
    : await fetch(`${base}${req.path}`, { headers }).then(async (r) => ({
        status: r.status,
        body: undefined,
        raw: await r.text(),
      }));
  const where = `${row.method} ${row.path} as ${caller}`;
  expect(res.status, `${where}: ${res.raw.slice(0, 300)}`).toBe(expected.status);
  if (expected.code) expect(res.body?.error?.code, where).toBe(expected.code);
  if (before)
    expect(await fingerprint(), `${where} was refused but changed an account`).toEqual(before);
  // nobody but the owner sees the owner's address or tokens; no answer ever carries a password
  const theirs = caller === 'owner' || (caller === 'revoked' && expected.status < 400);
  if (!theirs)
    for (const s of [w.owner.acc.email, w.owner.refresh, w.owner.access, w.other.sessionId])
      expect(res.raw.includes(s), `${where} leaked an owner's value`).toBe(false);
  expect(res.raw.includes(w.owner.acc.password), `${where} leaked a password`).toBe(false);
}

describe('authorization matrix', () => {
  for (const row of rows) {
    it(`${row.method} ${row.path}: ${CALLERS.map((c) => `${c} → ${answerOf(row, c).status}`).join(', ')}`, async () => {
      // the owner may end sessions or the account: the other callers get a world of their own
      const shared = await buildWorld(base);
      for (const caller of ['anonymous', 'stranger'] as const) await cell(row, shared, caller);
      await cell(row, shared, 'owner');
      const w = row.method === 'GET' ? shared : await buildWorld(base);
      await cell(row, w, 'revoked');
      await cell(row, w, 'deleted');
    });
  }
});
