import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostileDb, type HostileDb } from './hostile-server/hostile-db.js';
import { useCli } from './support/cli.js';
import { account } from './support/stack.js';

/** Issue 17: chat-cli logs in once and keeps its session; `logout` removes its device. */

const cli = useCli('chat-cli-session');
let db: HostileDb;
beforeAll(async () => {
  db = await hostileDb(cli.stack);
});
afterAll(async () => {
  await db?.close();
});

/** Runs `chat-cli --json …`: exit code, stdout lines as JSON, stderr. */
async function json(args: string[], password = '') {
  const { code, out, err } = await cli.run(['--json', ...args], password);
  return {
    code,
    lines: out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>),
    err,
  };
}

const newLogins = (userId: string) =>
  cli.stack.busMessages.filter(
    (m) => m.routingKey === 'user.new_login.v1' && m.body.includes(userId),
  ).length;
const count = async (sql: string, userId: string) =>
  (await db.query<{ n: number }>(sql, [userId]))[0]?.n;
const devices = (userId: string) =>
  count(`SELECT count(*)::int AS n FROM chat.devices WHERE user_id = $1`, userId);
const liveSessions = (userId: string) =>
  count(
    `SELECT count(*)::int AS n FROM users.sessions WHERE user_id = $1 AND revoked_at IS NULL`,
    userId,
  );
const sessionFiles = async () =>
  (await readdir(cli.stateDir)).filter((f) => f.startsWith('session-'));

describe('chat-cli session', () => {
  it('prints its version from package.json, also as JSON', async () => {
    const { version } = JSON.parse(
      await readFile(path.resolve(import.meta.dirname, '../package.json'), 'utf8'),
    ) as { version: string };
    expect((await cli.runOk(['--version'], '')).trim()).toBe(`chat-cli ${version}`);
    expect((await json(['--version'])).lines).toEqual([{ version }]);
  });

  it(
    'when Alice logs in once, then two later commands without a password reuse that session: one session, one device, no second "new sign-in"',
    { timeout: 240_000 },
    async () => {
      const a = account('alice');
      const home = cli.stack.client('alice home');
      await home.signUp(a);
      const bob = cli.stack.client('bob');
      await bob.signUp(account('bob'));
      await home.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
      await cli.stack
        .waitForBus((m) => m.routingKey === 'user.new_login.v1' && m.body.includes(home.user.id))
        .catch(() => undefined);
      const loginsBefore = newLogins(home.user.id);
      const sessionsBefore = (await liveSessions(home.user.id)) as number;

      const login = await json(['login', '--email', a.email], a.password);
      expect(login.code, login.err).toBe(0);
      expect(login.lines[0]).toMatchObject({
        user: { id: home.user.id },
        identity: 'restored',
        deviceId: expect.any(Number),
      });
      await cli.stack.waitForBus(
        (m) =>
          m.routingKey === 'user.new_login.v1' &&
          m.body.includes(home.user.id) &&
          newLogins(home.user.id) > loginsBefore,
      );
      const afterLogin = newLogins(home.user.id);
      expect(afterLogin).toBe(loginsBefore + 1);
      expect(await liveSessions(home.user.id)).toBe(sessionsBefore + 1);
      expect(await devices(home.user.id)).toBe(2);

      // no password from here on (CHAT_PASSWORD empty), and no --email: the only saved session
      const got = bob.next('message', (m) => m.text === 'one session');
      const sent = await json(['send', bob.user.username, 'one', 'session']);
      expect(sent.code, sent.err).toBe(0);
      await got;
      const sn = await json(['safety-number', bob.user.username, '--email', a.email]);
      expect(sn.code, sn.err).toBe(0);
      expect(sn.lines[0]).toMatchObject({
        userId: bob.user.id,
        safetyNumber: expect.stringMatching(/^\d{60}$/),
      });

      expect(await liveSessions(home.user.id)).toBe(sessionsBefore + 1);
      expect(await devices(home.user.id)).toBe(2);
      expect(newLogins(home.user.id)).toBe(afterLogin);
      // the session file is private and holds no token (those stay in the sealed state)
      const [file] = await sessionFiles();
      expect(file).toBeDefined();
      const full = path.join(cli.stateDir, file as string);
      expect((await stat(full)).mode & 0o777).toBe(0o600);
      const text = await readFile(full, 'utf8');
      expect(text).not.toMatch(/refresh|accessToken/i);
      expect(
        await readFile(path.join(cli.stateDir, `${home.user.id}.state`), 'utf8'),
      ).not.toContain('one session');

      // logout removes this terminal's device, ends the session and wipes the local state
      const out = await json(['logout']);
      expect(out.code, out.err).toBe(0);
      expect(out.lines[0]).toMatchObject({ loggedOut: true, deviceRemoved: true });
      expect(await devices(home.user.id)).toBe(1);
      expect(await liveSessions(home.user.id)).toBe(sessionsBefore);
      expect(await sessionFiles()).toEqual([]);
      expect((await readdir(cli.stateDir)).filter((f) => f.startsWith(home.user.id))).toEqual([]);
      // later commands need a login again
      const after = await json(['send', bob.user.username, 'nope', '--email', a.email]);
      expect(after.code).toBe(1);
      expect(JSON.parse(after.err.trim().split('\n').pop() as string)).toMatchObject({
        error: { code: 'login_required' },
      });
      expect((await json(['logout'])).lines[0]).toMatchObject({ loggedOut: false });
      await home.logOut();
      await bob.logOut();
    },
  );

  it(
    'when Alice logs out with --keep-device, then her device stays and the next login reuses it and its state',
    { timeout: 240_000 },
    async () => {
      const a = account('alice');
      const home = cli.stack.client('alice home');
      await home.signUp(a);
      const first = await json(['login', '--email', a.email], a.password);
      expect(first.code, first.err).toBe(0);
      const deviceId = first.lines[0]?.deviceId;
      const kept = await json(['logout', '--email', a.email, '--keep-device']);
      expect(kept.lines[0]).toMatchObject({ loggedOut: true, deviceRemoved: false });
      expect(await devices(home.user.id)).toBe(2);
      const again = await json(['login', '--email', a.email], a.password);
      expect(again.lines[0]).toMatchObject({ identity: 'local', deviceId });
      expect(await devices(home.user.id)).toBe(2);
      // a second login over a saved session ends the earlier one (no pile of sessions)
      const sessions = await liveSessions(home.user.id);
      await json(['login', '--email', a.email], a.password);
      expect(await liveSessions(home.user.id)).toBe(sessions);
      expect((await json(['logout', '--email', a.email])).lines[0]).toMatchObject({
        deviceRemoved: true,
      });
      expect(await devices(home.user.id)).toBe(1);
      await home.logOut();
    },
  );
});
