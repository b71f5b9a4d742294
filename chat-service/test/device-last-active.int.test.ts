import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  connect,
  createTestEnv,
  createUser,
  deviceSecretOf,
  type Instance,
  type TestEnv,
} from './support/harness.js';

let env: TestEnv;
let inst: Instance;

beforeAll(async () => {
  env = await createTestEnv('chatlastactive');
  inst = await env.start({ MAX_DEVICES: '2' });
});
afterAll(async () => {
  await env?.close();
});

type Listed = {
  devices: Array<{ deviceId: number; lastActiveAt: string | null; createdAt: string }>;
};

const hourStart = (d = new Date()) => {
  const h = new Date(d);
  h.setUTCMinutes(0, 0, 0);
  return h.toISOString();
};

const row = async (userId: string, deviceId: number) =>
  (
    (await inst.app.ds.query(
      `SELECT xmin::text AS xmin, last_active_at FROM chat.devices WHERE user_id = $1 AND device_id = $2`,
      [userId, deviceId],
    )) as {
      xmin: string;
      last_active_at: Date | null;
    }[]
  )[0];

describe('last active', () => {
  it('when a device registers, connects days later and connects again, then the owner sees the hour of its last activity, written once an hour', async () => {
    const user = await createUser(inst, env.mint, 1);
    const before = hourStart();
    const listed = (await api<Listed>(inst.url, user.token, 'GET', '/devices')).body.devices;
    // coarse: the start of an hour, never the exact time
    expect(listed[0]?.lastActiveAt).toMatch(/T\d\d:00:00\.000Z$/);
    expect([before, hourStart()]).toContain(listed[0]?.lastActiveAt);

    await inst.app.ds.query(
      `UPDATE chat.devices SET last_active_at = now() - interval '3 days' WHERE user_id = $1`,
      [user.userId],
    );
    const s = await connect(inst.url, user.token, user.deviceId);
    s.close();
    const after = (await api<Listed>(inst.url, user.token, 'GET', '/devices')).body.devices[0]
      ?.lastActiveAt;
    expect(after).toMatch(/T\d\d:00:00\.000Z$/);
    expect(Date.now() - Date.parse(after as string)).toBeLessThan(3_600_000 + 60_000);

    // within the same hour another connection writes nothing (the row version stays)
    const first = await row(user.userId, user.deviceId);
    const again = await connect(inst.url, user.token, user.deviceId);
    again.close();
    expect(
      (await api(inst.url, user.token, 'GET', `/devices/${user.deviceId}/keys/count`)).status,
    ).toBe(200);
    expect((await row(user.userId, user.deviceId))?.xmin).toBe(first?.xmin);
  });

  it('when a wrong secret is presented, then last active does not move', async () => {
    const user = await createUser(inst, env.mint, 1);
    await inst.app.ds.query(
      `UPDATE chat.devices SET last_active_at = '2020-01-01T00:00:00Z' WHERE user_id = $1`,
      [user.userId],
    );
    await expect(
      connect(inst.url, user.token, user.deviceId, { deviceSecret: 'A'.repeat(43) }),
    ).rejects.toMatchObject({
      data: { code: 'invalid_device_credentials' },
    });
    expect(
      (
        await api(inst.url, user.token, 'GET', `/devices/${user.deviceId}/keys/count`, undefined, {
          deviceSecret: null,
        })
      ).status,
    ).toBe(403);
    expect((await row(user.userId, user.deviceId))?.last_active_at?.toISOString()).toBe(
      '2020-01-01T00:00:00.000Z',
    );
  });

  it("when someone lists devices, then only their own are listed: another user's last active is unreachable", async () => {
    const alice = await createUser(inst, env.mint, 1);
    const bob = await createUser(inst, env.mint, 2);
    const mine = (await api<Listed>(inst.url, alice.token, 'GET', '/devices')).body.devices;
    expect(mine.map((d) => d.deviceId)).toEqual([alice.deviceId]);
    const theirs = await api(inst.url, alice.token, 'GET', `/users/${bob.userId}/devices`);
    expect(theirs.status).toBe(404);
    expect(JSON.stringify(theirs.body)).not.toContain('lastActiveAt');
  });
});

describe('logging out removes this device', () => {
  it('when a device removes itself with its own proof, then it, its prekeys and its mailbox are gone and a new device fits under the limit', async () => {
    const user = await createUser(inst, env.mint, 2);
    const [d1, d2] = user.deviceIds as [number, number];
    const s1 = deviceSecretOf(user.userId, d1) as string;
    // at the limit (2): a third device is refused
    const full = await api(inst.url, user.token, 'POST', '/devices', {});
    expect(full.status).toBe(409);
    expect(full.body).toMatchObject({ error: { code: 'too_many_devices', details: { max: 2 } } });

    // bad input: 4xx, nothing changes
    expect(
      (
        await api(inst.url, user.token, 'DELETE', '/devices/abc', undefined, {
          proof: { deviceId: d1, secret: s1 },
        })
      ).status,
    ).toBe(400);
    // no proof, or a wrong one: 403 and the device stays
    expect(
      (await api(inst.url, user.token, 'DELETE', `/devices/${d1}`, undefined, { proof: null }))
        .status,
    ).toBe(403);
    expect(
      (
        await api(inst.url, user.token, 'DELETE', `/devices/${d1}`, undefined, {
          proof: { deviceId: d1, secret: 'A'.repeat(43) },
        })
      ).status,
    ).toBe(403);
    expect(
      (await api<Listed>(inst.url, user.token, 'GET', '/devices')).body.devices.map(
        (d) => d.deviceId,
      ),
    ).toEqual([d1, d2]);

    // log out: the device removes itself with its own proof
    expect(
      (
        await api(inst.url, user.token, 'DELETE', `/devices/${d1}`, undefined, {
          proof: { deviceId: d1, secret: s1 },
        })
      ).status,
    ).toBe(204);
    const left = (await inst.app.ds.query(
      `SELECT (SELECT count(*) FROM chat.one_time_prekeys WHERE user_id = $1 AND device_id = $2)::int AS prekeys,
              (SELECT count(*) FROM chat.mailbox WHERE recipient_user = $1 AND recipient_device = $2)::int AS mailbox`,
      [user.userId, d1],
    )) as { prekeys: number; mailbox: number }[];
    expect(left[0]).toEqual({ prekeys: 0, mailbox: 0 });
    expect(
      (await api<Listed>(inst.url, user.token, 'GET', '/devices')).body.devices.map(
        (d) => d.deviceId,
      ),
    ).toEqual([d2]);
    // its secret proves nothing any more
    expect(
      (
        await api(inst.url, user.token, 'DELETE', `/devices/${d2}`, undefined, {
          proof: { deviceId: d1, secret: s1 },
        })
      ).status,
    ).toBe(403);
    // the slot is free again
    expect((await api(inst.url, user.token, 'POST', '/devices', {})).status).toBe(201);
  });

  it("when someone names another user's device with their own proof, then it is not found and stays", async () => {
    const alice = await createUser(inst, env.mint, 1);
    const bob = await createUser(inst, env.mint, 1);
    const proof = {
      deviceId: alice.deviceId,
      secret: deviceSecretOf(alice.userId, alice.deviceId) as string,
    };
    // Bob's device id is the same small integer, but the route only ever names the caller's devices
    expect(
      (
        await api(inst.url, alice.token, 'DELETE', `/devices/${bob.deviceId + 5}`, undefined, {
          proof,
        })
      ).status,
    ).toBe(404);
    expect(
      (await api(inst.url, bob.token, 'DELETE', `/devices/${alice.deviceId}`, undefined, { proof }))
        .status,
    ).toBe(403);
    expect((await api<Listed>(inst.url, alice.token, 'GET', '/devices')).body.devices).toHaveLength(
      1,
    );
    expect((await api<Listed>(inst.url, bob.token, 'GET', '/devices')).body.devices).toHaveLength(
      1,
    );
  });
});
