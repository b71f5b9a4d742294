import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CALLERS,
  compareWithTable,
  listMountedRoutes,
  type Caller,
} from '@cipherchat/service-kit/testing';
import { createTestEnv, type Instance, type TestEnv } from './support/harness.js';
import { answerOf, rows, type Row } from './support/routes.js';
import { buildWorld, fingerprint, send, tokenOf } from './support/world.js';

// Issue 15, deliverable 10: every route × {owner, another user, no token, revoked session,
// deleted account} with the expected answer, as one table (test/support/routes.ts).

let env: TestEnv;
let inst: Instance;

beforeAll(async () => {
  env = await createTestEnv('chatmatrix');
  inst = await env.start({ RATE_HTTP_PER_MIN: '100000' });
});
afterAll(async () => {
  await env?.close();
});

describe('the route table', () => {
  it('when the app is running, then every mounted route has a row and every row is a mounted route', () => {
    const mounted = listMountedRoutes(inst.app.http);
    expect(mounted.length).toBeGreaterThan(15);
    expect(compareWithTable(mounted, rows)).toEqual({ unlisted: [], notMounted: [] });
  });
});

/**
 * Runs one cell on a fresh world and checks the answer, what the caller saw and what was stored.
 * @param row the route
 * @param caller who calls
 */
async function cell(row: Row, caller: Caller): Promise<void> {
  const w = await buildWorld(inst, env.mint);
  const token = await tokenOf(inst, w, caller);
  const expected = answerOf(row, caller);
  const refused = expected.status >= 400;
  // the owner's token, or (until revocation is enforced) another session of the owner
  const ownerLike = caller === 'owner' || (caller === 'revoked' && !refused);
  // a refused request changes nothing at all; another caller's accepted one leaves the owner's data alone
  const before = ownerLike ? undefined : await fingerprint(inst, refused ? [] : w.markers);
  const res = await send(inst, row, token, row.req(w));
  const where = `${row.method} ${row.path} as ${caller}`;
  expect(res.status, `${where}: ${res.text.slice(0, 300)}`).toBe(expected.status);
  if (expected.code) expect(res.body?.error?.code, where).toBe(expected.code);
  if (refused) expect(typeof res.body?.error?.message, where).toBe('string');
  if (before) {
    const after = await fingerprint(inst, refused ? [] : w.markers);
    for (const t of refused ? [] : (row.changes ?? [])) {
      delete before[t];
      delete after[t];
    }
    expect(after, `${where}: stored data changed`).toEqual(before);
  }
  // nobody but the owner sees the owner's conversations, attachments, backup or device secrets
  if (!ownerLike) {
    for (const s of w.secrets)
      expect(res.text.includes(s), `${where} leaked an owner's value`).toBe(false);
  }
}

describe('authorization matrix', () => {
  for (const row of rows) {
    it(`${row.method} ${row.path}: ${CALLERS.map((c) => `${c} → ${answerOf(row, c).status}`).join(', ')}`, async () => {
      for (const caller of CALLERS) await cell(row, caller);
    });
  }
});
