import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTestEnv, createUser, deviceSecretOf, type Instance, type TestEnv } from './support/harness.js';

// Issue 14: what a stolen access token (or one refreshed for hours) must not be able to do to an
// account: add a device, remove one, replace the key backup. And no device names on the server.

let env: TestEnv;
let inst: Instance;

beforeAll(async () => {
  env = await createTestEnv('chatguard');
  inst = await env.start();
});
afterAll(async () => {
  await env?.close();
});

const now = () => Math.floor(Date.now() / 1000);
const deviceCount = async (userId: string) =>
  ((await inst.app.ds.query(`SELECT count(*)::int AS n FROM chat.devices WHERE user_id = $1`, [userId])) as { n: number }[])[0]?.n;

describe('fresh login for device registration', () => {
  it('when the session logged in just now, then the token registers a device', async () => {
    const token = await env.mint.mint(randomUUID(), 900, { authTime: now() - 2 });
    const r = await api(inst.url, token, 'POST', '/devices', {});
    expect(r.status).toBe(201);
    expect(r.body.deviceId).toBe(1);
  });

  it('when the session logged in longer ago than FRESH_LOGIN_MAX_AGE_S (a token refreshed hours later, or stolen), then 401 fresh_login_required and no device appears', async () => {
    const userId = randomUUID();
    for (const authTime of [now() - 301, now() - 3 * 3600]) {
      // a perfectly valid token (not expired), only its session's login is old
      const token = await env.mint.mint(userId, 900, { authTime });
      const r = await api(inst.url, token, 'POST', '/devices', {});
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('fresh_login_required');
    }
    // a token without auth_time (issued before it existed) counts as not fresh
    const old = await env.mint.mint(userId, 900, { authTime: null });
    expect((await api(inst.url, old, 'POST', '/devices', {})).body.error.code).toBe('fresh_login_required');
    expect(await deviceCount(userId)).toBe(0);
    const accounts = (await inst.app.ds.query(`SELECT 1 FROM chat.accounts WHERE user_id = $1`, [userId])) as unknown[];
    expect(accounts).toEqual([]);
  });

  it('when FRESH_LOGIN_MAX_AGE_S is set, then it is the limit', async () => {
    const strict = await env.start({ FRESH_LOGIN_MAX_AGE_S: '30' });
    const userId = randomUUID();
    expect((await api(strict.url, await env.mint.mint(userId, 900, { authTime: now() - 60 }), 'POST', '/devices', {})).status).toBe(401);
    expect((await api(strict.url, await env.mint.mint(userId, 900, { authTime: now() - 10 }), 'POST', '/devices', {})).status).toBe(201);
  });
});

describe('device proof for account-changing routes', () => {
  /** A user with two devices and a thief holding a valid token of that user, but no device secret. */
  async function victimAndThief() {
    const user = await createUser(inst, env.mint, 2);
    const [d1, d2] = user.deviceIds as [number, number];
    const stranger = await createUser(inst, env.mint);
    const strangerProof = { deviceId: stranger.deviceId, secret: deviceSecretOf(stranger.userId, stranger.deviceId) as string };
    return { user, d1, d2, s1: deviceSecretOf(user.userId, d1) as string, stolen: await env.mint.mint(user.userId), strangerProof };
  }

  it('when a stolen token removes a device without a valid device proof, then 403 invalid_device_credentials and the device stays', async () => {
    const { user, d1, d2, s1, stolen, strangerProof } = await victimAndThief();
    const attempts = [
      null, // no headers at all
      { deviceId: d1, secret: randomBytes(32).toString('base64url') }, // wrong secret
      { deviceId: d2, secret: s1 }, // the right secret for another device of the account
      strangerProof, // a real device secret of another user
      { deviceId: 'one', secret: s1 },
      { deviceId: '', secret: s1 },
    ];
    for (const proof of attempts) {
      const r = await api(inst.url, stolen, 'DELETE', `/devices/${d2}`, undefined, { proof });
      expect(r.status, JSON.stringify(proof)).toBe(403);
      expect(r.body.error.code).toBe('invalid_device_credentials');
    }
    // only the secret, no device id
    const noId = await fetch(`${inst.url}/api/chat/devices/${d2}`, { method: 'DELETE', headers: { authorization: `Bearer ${stolen}`, 'x-device-secret': s1 } });
    expect(noId.status).toBe(403);
    expect(await deviceCount(user.userId)).toBe(2);
  });

  it('when a device proves itself, then it may remove another device of the account, or itself', async () => {
    const { user, d1, d2, s1 } = await victimAndThief();
    expect((await api(inst.url, user.token, 'DELETE', `/devices/${d2}`, undefined, { proof: { deviceId: d1, secret: s1 } })).status).toBe(204);
    expect(await deviceCount(user.userId)).toBe(1);
    expect((await api(inst.url, user.token, 'DELETE', `/devices/${d1}`, undefined, { proof: { deviceId: d1, secret: s1 } })).status).toBe(204);
    expect(await deviceCount(user.userId)).toBe(0);
  });

  it('when a stolen token replaces the key backup without a valid device proof, then 403 and the stored backup is unchanged', async () => {
    const { user, d1, d2, s1, stolen, strangerProof } = await victimAndThief();
    const blob = randomBytes(48).toString('base64');
    expect((await api(inst.url, user.token, 'PUT', '/backup', { version: 1, blob }, { proof: { deviceId: d1, secret: s1 } })).status).toBe(200);
    for (const proof of [null, { deviceId: d2, secret: s1 }, strangerProof, { deviceId: d1, secret: randomBytes(32).toString('base64url') }]) {
      const r = await api(inst.url, stolen, 'PUT', '/backup', { version: 2, blob: randomBytes(48).toString('base64') }, { proof });
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('invalid_device_credentials');
    }
    // reading stays token-only: a new device must restore before it has a device
    expect((await api(inst.url, stolen, 'GET', '/backup')).body).toEqual({ version: 1, blob });
    const [row] = (await inst.app.ds.query(`SELECT version FROM chat.backups WHERE user_id = $1`, [user.userId])) as { version: number }[];
    expect(row?.version).toBe(1);
  });

  it('when a device without keys yet proves itself, then it may write the backup (a new device publishes before its keys)', async () => {
    const token = await env.mint.mint(randomUUID());
    const d = await api(inst.url, token, 'POST', '/devices', {});
    const proof = { deviceId: d.body.deviceId as number, secret: d.body.deviceSecret as string };
    expect((await api(inst.url, token, 'PUT', '/backup', { version: 1, blob: randomBytes(16).toString('base64') }, { proof })).status).toBe(200);
  });
});

describe('device names are not stored', () => {
  it('when a client registers with a name, then the server keeps none and lists every device with an empty name', async () => {
    const userId = randomUUID();
    const token = await env.mint.mint(userId);
    const r = await api(inst.url, token, 'POST', '/devices', { name: "Alice's iPhone" });
    expect(r.status).toBe(201);
    expect((await api(inst.url, token, 'GET', '/devices')).body.devices).toEqual([
      { deviceId: r.body.deviceId, name: '', hasKeys: false, createdAt: expect.any(String), lastActiveAt: expect.stringMatching(/T\d\d:00:00\.000Z$/) },
    ]);
    const named = (await inst.app.ds.query(`SELECT count(*)::int AS n FROM chat.devices WHERE name <> ''`)) as { n: number }[];
    expect(named[0]?.n).toBe(0);
    // a hostile database that still holds a name does not leak it either
    await inst.app.ds.query(`UPDATE chat.devices SET name = 'legacy name' WHERE user_id = $1`, [userId]);
    expect(JSON.stringify((await api(inst.url, token, 'GET', '/devices')).body)).not.toContain('legacy');
  });
});
