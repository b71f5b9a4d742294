import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrivateKey } from '@signalapp/libsignal-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, connect, createTestEnv, createUser, nextEvent, request, SignalIdentity, type Instance, type TestEnv } from './support/harness.js';

let env: TestEnv;
let inst: Instance;

beforeAll(async () => {
  env = await createTestEnv('chatkeys');
  inst = await env.start({
    RATE_PREKEY_PER_REQUESTER: '100000',
    RATE_PREKEY_PER_TARGET: '100000',
    RATE_PREKEY_PER_PAIR: '100000',
    PREKEY_ONE_TIME_PER_PAIR_PER_HOUR: '100000',
    MAX_DEVICES: '3',
  });
});
afterAll(async () => {
  await env?.close();
});

describe('devices', () => {
  it('when a user registers devices, then ids are small integers and the limit answers 409 too_many_devices', async () => {
    const token = await env.mint.mint(randomUUID());
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const r = await api(inst.url, token, 'POST', '/devices', { name: `d${i}` });
      expect(r.status).toBe(201);
      ids.push(r.body.deviceId);
    }
    expect(ids).toEqual([1, 2, 3]);
    const over = await api(inst.url, token, 'POST', '/devices', { name: 'one too many' });
    expect(over.status).toBe(409);
    expect(over.body.error.code).toBe('too_many_devices');
    // removing one frees a slot; ids are never reused
    expect((await api(inst.url, token, 'DELETE', '/devices/2')).status).toBe(204);
    expect((await api(inst.url, token, 'POST', '/devices', { name: 'again' })).body).toEqual({ deviceId: 4, deviceSecret: expect.any(String) });
    expect((await api(inst.url, token, 'DELETE', '/devices/2')).status).toBe(404);
  });

  it('when a device is removed, then its sockets are disconnected and it can no longer connect', async () => {
    const user = await createUser(inst, env.mint, 2);
    const s = await connect(inst.url, user.token, user.deviceIds[1] as number);
    const gone = nextEvent(s, 'disconnect');
    expect((await api(inst.url, user.token, 'DELETE', `/devices/${user.deviceIds[1]}`)).status).toBe(204);
    await gone;
    await expect(connect(inst.url, user.token, user.deviceIds[1] as number)).rejects.toMatchObject({ data: { code: 'unknown_device' } });
  });

  it('when there is no token, then every route answers 401', async () => {
    for (const [m, p] of [
      ['POST', '/devices'],
      ['GET', `/users/${randomUUID()}/keys`],
      ['GET', '/backup'],
      ['GET', '/conversations'],
    ] as const) {
      expect((await api(inst.url, undefined, m, p, m === 'POST' ? {} : undefined)).status).toBe(401);
    }
  });
});

describe('keys', () => {
  it('when a signed prekey is signed by another key or tampered with, then 422 invalid_signature and nothing is stored', async () => {
    const user = await createUser(inst, env.mint);
    const before = await api(inst.url, user.token, 'GET', `/devices/${user.deviceId}/keys/count`);
    const forged = user.signal.upload(3);
    const mallory = PrivateKey.generate();
    forged.signedPreKey.signature = Buffer.from(mallory.sign(Buffer.from(forged.signedPreKey.publicKey, 'base64'))).toString('base64');
    const r1 = await api(inst.url, user.token, 'PUT', `/devices/${user.deviceId}/keys`, forged);
    expect(r1.status).toBe(422);
    expect(r1.body.error.code).toBe('invalid_signature');

    const tampered = user.signal.upload(3);
    const sig = Buffer.from(tampered.signedPreKey.signature, 'base64');
    sig[10] = (sig[10] as number) ^ 0xff;
    tampered.signedPreKey.signature = sig.toString('base64');
    expect((await api(inst.url, user.token, 'PUT', `/devices/${user.deviceId}/keys`, tampered)).status).toBe(422);

    // a genuine signature over a different key than the one uploaded
    const swapped = user.signal.upload(3);
    swapped.signedPreKey.publicKey = user.signal.upload(0).signedPreKey.publicKey;
    expect((await api(inst.url, user.token, 'PUT', `/devices/${user.deviceId}/keys`, swapped)).body.error.code).toBe('invalid_signature');

    expect(await api(inst.url, user.token, 'GET', `/devices/${user.deviceId}/keys/count`)).toEqual(before);
  });

  it('when keys are malformed, then 400 validation_error lists the problem', async () => {
    const user = await createUser(inst, env.mint);
    const body = user.signal.upload(1);
    const badKey = { ...body, identityKey: Buffer.alloc(33, 1).toString('base64') }; // wrong type byte
    const r = await api(inst.url, user.token, 'PUT', `/devices/${user.deviceId}/keys`, badKey);
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('validation_error');
    const tooMany = user.signal.upload(101);
    expect((await api(inst.url, user.token, 'PUT', `/devices/${user.deviceId}/keys`, tooMany)).status).toBe(400);
    expect((await api(inst.url, user.token, 'PUT', `/devices/abc/keys`, body)).status).toBe(400);
  });

  it("when a user uploads keys for, or counts the prekeys of, a device that is not theirs, then 403 and the owner's keys are untouched", async () => {
    const owner = await createUser(inst, env.mint, 2);
    const intruder = await createUser(inst, env.mint);
    const before = await api(inst.url, owner.token, 'GET', `/users/${owner.userId}/devices`);
    const r = await api(inst.url, intruder.token, 'PUT', `/devices/${owner.deviceIds[1]}/keys`, intruder.signal.upload(2));
    expect(r.status).toBe(403);
    expect((await api(inst.url, intruder.token, 'GET', `/devices/${owner.deviceIds[1]}/keys/count`)).status).toBe(403);
    const rows = await inst.app.ds.query(`SELECT encode(identity_key, 'base64') AS k FROM chat.accounts WHERE user_id = $1`, [owner.userId]);
    expect(rows[0].k).toBe(owner.signal.identityKey);
    expect(await api(inst.url, owner.token, 'GET', `/users/${owner.userId}/devices`)).toEqual(before);
    const intruderRows = await inst.app.ds.query(`SELECT device_id FROM chat.devices WHERE user_id = $1`, [intruder.userId]);
    expect(intruderRows).toEqual([{ device_id: intruder.deviceId }]);
  });

  it('when a bundle is fetched, then one prekey per device is consumed and the bundle verifies', async () => {
    const target = await createUser(inst, env.mint, 2);
    const asker = await createUser(inst, env.mint);
    const count = async (d: number) => (await api(inst.url, target.token, 'GET', `/devices/${d}/keys/count`)).body.count;
    expect(await count(target.deviceIds[0] as number)).toBe(5);
    const r = await api(inst.url, asker.token, 'GET', `/users/${target.userId}/keys`);
    expect(r.status).toBe(200);
    expect(r.body.identityKey).toBe(target.signal.identityKey);
    expect(r.body.devices.map((d: { deviceId: number }) => d.deviceId)).toEqual(target.deviceIds);
    for (const d of r.body.devices) expect(d.preKey).toBeDefined();
    expect(await count(target.deviceIds[0] as number)).toBe(4);
    expect(await count(target.deviceIds[1] as number)).toBe(4);
    expect((await api(inst.url, asker.token, 'GET', `/users/${randomUUID()}/keys`)).status).toBe(404);
    // the device list is only for people who share a conversation (issue 15): not for the asker yet
    expect((await api(inst.url, asker.token, 'GET', `/users/${target.userId}/devices`)).body.error.code).toBe('not_found');
  });

  it('when 1,000 bundle fetches run concurrently, then no one-time prekey is handed out twice', async () => {
    const target = await createUser(inst, env.mint);
    // 1,050 prekeys over 11 uploads of at most 100 each (the per-request cap)
    for (let i = 0; i < 11; i++) {
      const body = target.signal.upload(i === 10 ? 50 : 100);
      const r = await api(inst.url, target.token, 'PUT', `/devices/${target.deviceId}/keys`, body);
      expect(r.status).toBe(200);
    }
    expect((await api(inst.url, target.token, 'GET', `/devices/${target.deviceId}/keys/count`)).body.count).toBe(1055);
    const askers = await Promise.all(Array.from({ length: 20 }, () => env.mint.mint(randomUUID())));
    // All 1,000 at once: fetch opens a connection per request, and the rate limits of this
    // instance are raised in beforeAll. A burst of 1,000 connects overflows Node's default listen
    // backlog (511; the kernel then drops handshakes and some requests fail with ECONNRESET), so
    // the same app is served on a listener with room for all of them.
    const burst = http.createServer(inst.app.server.listeners('request')[0] as http.RequestListener);
    await new Promise<void>((resolve) => burst.listen(0, '127.0.0.1', 1024, resolve));
    const burstUrl = `http://127.0.0.1:${(burst.address() as AddressInfo).port}`;
    let got: number[];
    try {
      got = await Promise.all(
        Array.from({ length: 1000 }, async (_, i) => {
          const r = await api(burstUrl, askers[i % askers.length], 'GET', `/users/${target.userId}/keys`);
          expect(r.status).toBe(200);
          return r.body.devices[0].preKey.keyId as number;
        }),
      );
    } finally {
      burst.closeAllConnections();
      await new Promise((resolve) => burst.close(resolve));
    }
    expect(got).toHaveLength(1000);
    expect(new Set(got).size).toBe(1000);
    expect((await api(inst.url, target.token, 'GET', `/devices/${target.deviceId}/keys/count`)).body.count).toBe(55);
  }, 120_000);

  it('when the identity key changes, then it is recorded, the other devices lose their keys and contacts get identity:changed', async () => {
    const user = await createUser(inst, env.mint, 2);
    const contact = await createUser(inst, env.mint);
    const stranger = await createUser(inst, env.mint);
    await api(inst.url, user.token, 'POST', '/conversations', { kind: 'direct', memberIds: [contact.userId] });
    const sc = await connect(inst.url, contact.token, contact.deviceId);
    const ss = await connect(inst.url, stranger.token, stranger.deviceId);
    let strangerHeard = false;
    ss.on('identity:changed', () => (strangerHeard = true));
    const heard = nextEvent<{ userId: string }>(sc, 'identity:changed');
    const fresh = new SignalIdentity();
    const r = await api(inst.url, user.token, 'PUT', `/devices/${user.deviceIds[0]}/keys`, fresh.upload(2));
    expect(r.status).toBe(200);
    expect(r.body.identityChanged).toBe(true);
    expect(await heard).toEqual({ userId: user.userId });
    const changes = await inst.app.ds.query(`SELECT encode(new_identity_key, 'base64') AS k FROM chat.identity_changes WHERE user_id = $1`, [user.userId]);
    expect(changes).toEqual([{ k: fresh.identityKey }]);
    expect((await api(inst.url, contact.token, 'GET', `/users/${user.userId}/devices`)).body).toEqual({ deviceIds: [user.deviceIds[0]] });
    // the same identity again is not a change
    expect((await api(inst.url, user.token, 'PUT', `/devices/${user.deviceIds[1]}/keys`, fresh.upload(1))).body.identityChanged).toBe(false);
    // A round trip on the stranger's socket after the event was emitted (before the upload
    // answered): had it been sent to the stranger, it would have arrived before this ack.
    expect(await request(ss, 'presence:get', { userIds: [user.userId] })).toMatchObject({ ok: true });
    expect(strangerHeard).toBe(false);
    sc.close();
    ss.close();
  });
});

describe('prekey rate limits', () => {
  it('when one requester fetches too often, then 429 with Retry-After', async () => {
    const limited = await env.start({ RATE_PREKEY_PER_REQUESTER: '3', RATE_PREKEY_PER_TARGET: '1000' });
    const target = await createUser(limited, env.mint);
    const asker = await env.mint.mint(randomUUID());
    const answers = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${limited.url}/api/chat/users/${target.userId}/keys`, { headers: { authorization: `Bearer ${asker}` } });
      answers.push({ status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { error?: { code: string } } });
    }
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429, 429]);
    for (const limitedAnswer of answers.slice(3)) {
      expect(limitedAnswer.body.error?.code).toBe('rate_limited');
      // whole seconds until the window (one minute) frees a slot
      expect(limitedAnswer.retryAfter).toMatch(/^\d+$/);
      expect(Number(limitedAnswer.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(limitedAnswer.retryAfter)).toBeLessThanOrEqual(60);
    }
    expect(answers.slice(0, 3).every((a) => a.retryAfter === null)).toBe(true);
  });
});
