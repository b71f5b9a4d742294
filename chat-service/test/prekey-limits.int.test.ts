import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  connectDrained,
  createTestEnv,
  createUser,
  nextEvent,
  type Instance,
  type TestEnv,
  type TestUser,
} from './support/harness.js';

let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv('chatpk');
});
afterAll(async () => {
  await env?.close();
});

type Bundle = { devices: { deviceId: number; preKey?: { keyId: number } }[] };

async function fetchBundle(inst: Instance, token: string, target: string) {
  return api<Bundle>(inst.url, token, 'GET', `/users/${target}/keys`);
}

async function held(inst: Instance, user: TestUser): Promise<number> {
  return (await api(inst.url, user.token, 'GET', `/devices/${user.deviceId}/keys/count`)).body
    .count as number;
}

describe('bundle fetches under attack', () => {
  it('when one requester fetches the same target over the per-pair limit, then 429 for that pair only', async () => {
    const inst = await env.start({
      RATE_PREKEY_PER_PAIR: '3',
      RATE_PREKEY_PER_REQUESTER: '1000',
      RATE_PREKEY_PER_TARGET: '1000',
    });
    const target = await createUser(inst, env.mint);
    const other = await createUser(inst, env.mint);
    const drainer = await env.mint.mint(randomUUID());
    const statuses = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await fetchBundle(inst, drainer, target.userId)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const limited = await fetchBundle(inst, drainer, target.userId);
    expect(limited.body).toMatchObject({ error: { code: 'rate_limited' } });
    // the same requester may still fetch someone else; anyone else may still fetch the target
    expect((await fetchBundle(inst, drainer, other.userId)).status).toBe(200);
    const second = await fetchBundle(inst, await env.mint.mint(randomUUID()), target.userId);
    expect(second.status).toBe(200);
    expect(second.body.devices[0]?.preKey).toBeDefined();
  });

  it('when one requester fetches the same target again within the hour, then later bundles come without a one-time prekey', async () => {
    const inst = await env.start({
      PREKEY_ONE_TIME_PER_PAIR_PER_HOUR: '2',
      RATE_PREKEY_PER_PAIR: '1000',
      RATE_PREKEY_PER_TARGET: '1000',
    });
    const target = await createUser(inst, env.mint);
    expect(await held(inst, target)).toBe(5);
    const drainer = await env.mint.mint(randomUUID());
    const bundles = [];
    for (let i = 0; i < 6; i++) {
      const r = await fetchBundle(inst, drainer, target.userId);
      expect(r.status).toBe(200);
      bundles.push(r.body.devices[0]);
    }
    expect(bundles.map((b) => b?.preKey !== undefined)).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
    // the signed prekey is always there: a session can start on it
    for (const b of bundles)
      expect(b).toMatchObject({ deviceId: target.deviceId, signedPreKey: { keyId: 1 } });
    expect(await held(inst, target)).toBe(3);
    // another requester still gets one
    expect(
      (await fetchBundle(inst, await env.mint.mint(randomUUID()), target.userId)).body.devices[0]
        ?.preKey,
    ).toBeDefined();
    expect(await held(inst, target)).toBe(2);
  });

  it('when many requesters together exceed the per-target budget, then nobody gets 429: the rest get the signed prekey only', async () => {
    const inst = await env.start({
      RATE_PREKEY_PER_TARGET: '2',
      RATE_PREKEY_PER_PAIR: '1000',
      RATE_PREKEY_PER_REQUESTER: '1000',
    });
    const target = await createUser(inst, env.mint);
    const answers = [];
    for (let i = 0; i < 4; i++)
      answers.push(await fetchBundle(inst, await env.mint.mint(randomUUID()), target.userId));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(answers.map((a) => a.body.devices[0]?.preKey !== undefined)).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(await held(inst, target)).toBe(3);
  });

  it("when one account drains a victim's prekeys as fast as the API allows, then a second account still gets a full bundle", async () => {
    const inst = await env.start({});
    const victim = await createUser(inst, env.mint);
    // top up to 100 one-time prekeys, as the SDK keeps them
    const top = await api(
      inst.url,
      victim.token,
      'PUT',
      `/devices/${victim.deviceId}/keys`,
      victim.signal.upload(95),
    );
    expect(top.status).toBe(200);
    const drainer = await env.mint.mint(randomUUID());
    const statuses = await Promise.all(
      Array.from(
        { length: 60 },
        async () => (await fetchBundle(inst, drainer, victim.userId)).status,
      ),
    );
    // the default per-pair limit (20 a minute) answers the rest with 429
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(40);
    // only the pair's hourly budget (6) of one-time prekeys went
    expect(await held(inst, victim)).toBe(100 - 6);
    const friend = await createUser(inst, env.mint);
    const r = await fetchBundle(inst, friend.token, victim.userId);
    expect(r.status).toBe(200);
    expect(r.body.devices[0]?.preKey).toBeDefined();
  });

  it('when bad input is given, then a clear 4xx and nothing is consumed', async () => {
    const inst = await env.start({});
    const target = await createUser(inst, env.mint);
    const asker = await env.mint.mint(randomUUID());
    expect((await api(inst.url, asker, 'GET', '/users/not-a-uuid/keys')).status).toBe(400);
    expect((await api(inst.url, undefined, 'GET', `/users/${target.userId}/keys`)).status).toBe(
      401,
    );
    expect((await fetchBundle(inst, asker, randomUUID())).status).toBe(404);
    expect(await held(inst, target)).toBe(5);
  });
});

describe('prekeys:low', () => {
  it('when a fetch leaves a device below the threshold, then its socket is told the count once a minute', async () => {
    const inst = await env.start({ PREKEY_LOW_THRESHOLD: '4' });
    const target = await createUser(inst, env.mint, 2);
    const { socket } = await connectDrained(inst.url, target.token, target.deviceId);
    const { socket: other } = await connectDrained(
      inst.url,
      target.token,
      target.deviceIds[1] as number,
    );
    const warnings: unknown[] = [];
    const otherWarnings: unknown[] = [];
    socket.on('prekeys:low', (e) => warnings.push(e));
    other.on('prekeys:low', (e) => otherWarnings.push(e));
    try {
      // 5 → 4: at the threshold, no warning
      expect(
        (await fetchBundle(inst, await env.mint.mint(randomUUID()), target.userId)).status,
      ).toBe(200);
      // 4 → 3 on both devices: both warned
      const warned = nextEvent(socket, 'prekeys:low');
      expect(
        (await fetchBundle(inst, await env.mint.mint(randomUUID()), target.userId)).status,
      ).toBe(200);
      expect(await warned).toEqual({ count: 3 });
      // 3 → 2 within the minute: no second warning
      expect(
        (await fetchBundle(inst, await env.mint.mint(randomUUID()), target.userId)).status,
      ).toBe(200);
      await new Promise((r) => setTimeout(r, 500));
      expect(warnings).toEqual([{ count: 3 }]);
      expect(otherWarnings).toEqual([{ count: 3 }]);
    } finally {
      socket.close();
      other.close();
    }
  });
});
