import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  connect,
  createTestEnv,
  createUser,
  type ClientSocket,
  type Instance,
  type TestEnv,
} from './support/harness.js';

// Issue 15, deliverable 7: a logged-out or revoked session loses its socket and its token within
// seconds. user-service writes the revocation list (service-kit's RevocationList); this file
// drives the same list and checks what chat-service does with it, across two processes.

let env: TestEnv;
let a: Instance;
let b: Instance;

beforeAll(async () => {
  env = await createTestEnv('chatrevoke');
  const prefix = { REVOCATION_KEY_PREFIX: `${env.env.REDIS_PREFIX}:revoked:` };
  a = await env.start(prefix);
  b = await env.start(prefix);
});
afterAll(async () => {
  await env?.close();
});

const sidOf = (token: string) =>
  (
    JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      sid: string;
    }
  ).sid;
const codeOf = (p: Promise<ClientSocket>) =>
  p.then(
    (s) => (s.close(), 'connected'),
    (e: { data?: { code?: string } }) => e.data?.code,
  );

/** Resolves with the ms from now until the server revoked and dropped the socket (both seen). */
function revokedAfter(
  socket: ClientSocket,
): Promise<{ ms: number; event: boolean; reason: string }> {
  const t0 = Date.now();
  let event = false;
  socket.on('session:revoked', () => {
    event = true;
  });
  return new Promise((resolve) =>
    socket.once('disconnect', (reason) => resolve({ ms: Date.now() - t0, event, reason })),
  );
}

describe('revocation in seconds', () => {
  it('when one session is revoked, then its socket gets session:revoked and is closed within 5 s, its token is refused at REST and handshake, and the other session of the same user is untouched', async () => {
    const user = await createUser(a, env.mint, 2);
    const [d1, d2] = user.deviceIds as [number, number];
    const phone = user.token;
    const laptop = await env.mint.mint(user.userId);
    const onA = await connect(a.url, phone, d1);
    const onB = await connect(b.url, phone, d1);
    const other = await connect(b.url, laptop, d2);
    const otherEvents: string[] = [];
    other.onAny((name: string) => otherEvents.push(name));
    const closedA = revokedAfter(onA);
    const closedB = revokedAfter(onB);

    await a.app.ctx.revocations.revokeSessions([sidOf(phone)]);
    for (const closed of [await closedA, await closedB]) {
      expect(closed.ms).toBeLessThan(5_000);
      expect(closed.event).toBe(true);
      expect(closed.reason).toBe('io server disconnect');
    }
    const rest = await api(a.url, phone, 'GET', '/conversations');
    expect([rest.status, rest.body.error.code]).toEqual([401, 'session_revoked']);
    expect(await codeOf(connect(b.url, phone, d1))).toBe('session_revoked');

    // the laptop's session: still connected after more than two sweeps, its token still works
    await new Promise((r) => setTimeout(r, 2_500));
    expect(other.connected).toBe(true);
    expect(otherEvents).not.toContain('session:revoked');
    expect((await api(b.url, laptop, 'GET', '/conversations')).status).toBe(200);
    expect(await codeOf(connect(a.url, laptop, d2))).toBe('connected');
    other.close();
  });

  it('when a whole user is revoked (account deletion), then every socket of theirs is closed and every token refused; another user is untouched', async () => {
    const user = await createUser(a, env.mint, 2);
    const bystander = await createUser(b, env.mint);
    const [d1, d2] = user.deviceIds as [number, number];
    const second = await env.mint.mint(user.userId);
    const s1 = await connect(a.url, user.token, d1);
    const s2 = await connect(b.url, second, d2);
    const sb = await connect(a.url, bystander.token, bystander.deviceId);
    const closed = [revokedAfter(s1), revokedAfter(s2)];
    await b.app.ctx.revocations.revokeUser(user.userId);
    for (const c of await Promise.all(closed))
      expect([c.ms < 5_000, c.event]).toEqual([true, true]);
    for (const t of [user.token, second, await env.mint.mint(user.userId)]) {
      expect((await api(b.url, t, 'GET', '/devices')).body.error.code).toBe('session_revoked');
    }
    expect((await api(b.url, bystander.token, 'GET', '/devices')).status).toBe(200);
    expect(sb.connected).toBe(true);
    sb.close();
  });

  it('when nothing is revoked, then the sweep costs one MGET per tick for all sockets, not one command per socket', async () => {
    const users = await Promise.all([0, 1, 2].map(() => createUser(a, env.mint)));
    const sockets = await Promise.all(users.map((u) => connect(a.url, u.token, u.deviceId)));
    const monitor = a.app.ctx.redis.duplicate();
    const commands: string[] = [];
    await monitor.monitor().then((m) =>
      m.on('monitor', (_time: string, args: string[]) => {
        if (String(args[1] ?? '').startsWith(`${env.env.REDIS_PREFIX}:revoked:`))
          commands.push(String(args[0]).toLowerCase());
      }),
    );
    await new Promise((r) => setTimeout(r, 2_200));
    await monitor.quit();
    // the process with sockets sweeps about twice in 2.2 s (the other has none: no command); one MGET each
    expect(commands.length).toBeGreaterThan(0);
    expect(new Set(commands)).toEqual(new Set(['mget']));
    expect(commands.length).toBeLessThanOrEqual(6);
    for (const s of sockets) s.close();
  });
});
