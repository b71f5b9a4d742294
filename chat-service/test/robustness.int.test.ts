import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import { api, connect, createTestEnv, createUser, fakeBody, inbox, nextEvent, request, type Instance, type TestEnv } from './support/harness.js';

let env: TestEnv;
let inst: Instance;

beforeAll(async () => {
  env = await createTestEnv('chatfuzz');
  inst = await env.start({ RATE_SOCKET_EVENTS_PER_SEC: '100000', RATE_HTTP_PER_MIN: '100000', SOCKET_MAX_BYTES: '65536' });
});
afterAll(async () => {
  await env?.close();
});

const clientErrors = new Set([400, 403, 404, 409, 413, 415, 422]);

describe('malformed REST bodies', () => {
  it('when any JSON value is sent to any write route, then the answer is a clear 4xx error body, never a 500', async () => {
    const u = await createUser(inst, env.mint);
    const conv = await api(inst.url, u.token, 'POST', '/conversations', { kind: 'group', memberIds: [randomUUID()] });
    const routes: [string, string][] = [
      ['POST', '/devices'],
      ['PUT', `/devices/${u.deviceId}/keys`],
      ['PUT', '/backup'],
      ['POST', '/conversations'],
      ['PATCH', `/conversations/${conv.body.id}`],
      ['POST', `/conversations/${conv.body.id}/members`],
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.anything({ withNullPrototype: false }), async ([method, p], body) => {
        const r = await api(inst.url, u.token, method, p, body === undefined ? null : body);
        if (r.status < 300) return; // a random value can be valid (e.g. a device name)
        expect(clientErrors.has(r.status)).toBe(true);
        expect(typeof r.body.error.code).toBe('string');
        expect(typeof r.body.error.message).toBe('string');
      }),
      { numRuns: 300 },
    );
    for (const text of ['{', '{"a":', 'null', '[]', '"x"', '{"version":1e999}']) {
      const r = await api(inst.url, u.token, 'PUT', '/backup', text);
      expect(clientErrors.has(r.status)).toBe(true);
    }
    expect((await fetch(`${inst.url}/health`)).status).toBe(200);
  });

  it('when key uploads are built from near-valid parts, then the server never accepts a malformed key', async () => {
    const u = await createUser(inst, env.mint);
    const valid = u.signal.upload(2);
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          registrationId: fc.oneof(fc.integer(), fc.constant(valid.registrationId)),
          identityKey: fc.oneof(fc.base64String(), fc.constant(valid.identityKey)),
          spk: fc.oneof(fc.base64String(), fc.constant(valid.signedPreKey.publicKey)),
          sig: fc.oneof(fc.base64String(), fc.constant(valid.signedPreKey.signature)),
        }),
        async ({ registrationId, identityKey, spk, sig }) => {
          const body = { registrationId, identityKey, signedPreKey: { keyId: 1, publicKey: spk, signature: sig }, preKeys: [] };
          const r = await api(inst.url, u.token, 'PUT', `/devices/${u.deviceId}/keys`, body);
          const allValid =
            identityKey === valid.identityKey && spk === valid.signedPreKey.publicKey && sig === valid.signedPreKey.signature && registrationId >= 1 && registrationId <= 16380;
          if (allValid) expect(r.status).toBe(200);
          else expect([400, 422]).toContain(r.status);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('malformed socket payloads', () => {
  it("when a client sends garbage on every event, then it gets error acks, stays connected, and another user's connection is untouched", async () => {
    const attacker = await createUser(inst, env.mint);
    const alice = await createUser(inst, env.mint);
    const bob = await createUser(inst, env.mint);
    const conv = await api(inst.url, alice.token, 'POST', '/conversations', { kind: 'direct', memberIds: [bob.userId] });
    const sAtt = (await connect(inst.url, attacker.token, attacker.deviceId)) as unknown as Socket;
    const sa = await connect(inst.url, alice.token, alice.deviceId);
    const sb = await connect(inst.url, bob.token, bob.deviceId);
    let bobDisconnected = false;
    sb.on('disconnect', () => (bobDisconnected = true));
    const events = ['message:send', 'message:ack', 'presence:get', 'mailbox:sync'];

    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...events), fc.anything(), async (event, payload) => {
        const ack = (await sAtt.timeout(5_000).emitWithAck(event, payload).catch(() => 'no-ack')) as { ok: boolean; error?: { code: string } } | 'no-ack';
        expect(ack).not.toBe('no-ack');
        if (ack !== 'no-ack' && !ack.ok) expect(['validation_error', 'not_member']).toContain(ack.error?.code);
      }),
      { numRuns: 300 },
    );
    // an unknown event is ignored (no ack ever comes)
    expect(await sAtt.timeout(300).emitWithAck('unknown:event', {}).catch(() => 'no-ack')).toBe('no-ack');
    // without an ack callback the payload is dropped silently
    for (const e of events) sAtt.emit(e, { conversationId: 42 });
    sAtt.emit('message:send');
    sAtt.emit('message:send', null, null, null);
    // a structurally valid send with a forged sender field is refused by the strict schema
    const forged = await sAtt.emitWithAck('message:send', {
      conversationId: conv.body.id,
      clientMessageId: 'f1',
      senderUserId: alice.userId,
      envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 1, body: fakeBody() }],
    });
    expect(forged).toMatchObject({ ok: false, error: { code: 'validation_error' } });
    expect(sAtt.connected).toBe(true);

    const box = inbox(sb);
    const ok = await request(sa, 'message:send', {
      conversationId: conv.body.id,
      clientMessageId: 'after-fuzz',
      envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 1, body: fakeBody() }],
    });
    expect(ok.ok).toBe(true);
    await box.waitFor(1);
    expect(bobDisconnected).toBe(false);
    sAtt.close();
    sa.close();
    sb.close();
  });

  it('when message:send payloads are near-valid (real conversation, random envelopes), then the answer is ok, stale_devices or validation_error, never an internal error', async () => {
    const alice = await createUser(inst, env.mint, 2);
    const bob = await createUser(inst, env.mint);
    const conv = await api(inst.url, alice.token, 'POST', '/conversations', { kind: 'direct', memberIds: [bob.userId] });
    const sa = (await connect(inst.url, alice.token, alice.deviceIds[0] as number)) as unknown as Socket;
    const envelope = fc.record({
      userId: fc.oneof(fc.constantFrom(bob.userId, alice.userId), fc.uuid()),
      deviceId: fc.oneof(fc.constantFrom(...alice.deviceIds, bob.deviceId), fc.integer({ min: -5, max: 2 ** 31 + 5 })),
      type: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer()),
      body: fc.oneof(fc.base64String({ minLength: 4, maxLength: 200 }), fc.string({ maxLength: 20 })),
    });
    const codes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.array(envelope, { minLength: 0, maxLength: 6 }),
        fc.oneof(fc.constant(conv.body.id), fc.uuid()),
        fc.string({ minLength: 0, maxLength: 70 }),
        async (envelopes, conversationId, clientMessageId) => {
          const ack = (await sa.timeout(5_000).emitWithAck('message:send', { conversationId, clientMessageId, envelopes })) as {
            ok: boolean;
            error?: { code: string };
          };
          if (!ack.ok) codes.add(ack.error?.code ?? 'none');
          expect(ack.ok || ['validation_error', 'stale_devices', 'not_member', 'conflict'].includes(ack.error?.code ?? '')).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
    expect(codes.has('internal_error')).toBe(false);
    expect(sa.connected).toBe(true);
    sa.close();
  });

  it('when a payload is larger than SOCKET_MAX_BYTES, then only that connection is closed', async () => {
    const attacker = await createUser(inst, env.mint);
    const alice = await createUser(inst, env.mint);
    const bob = await createUser(inst, env.mint);
    const conv = await api(inst.url, alice.token, 'POST', '/conversations', { kind: 'direct', memberIds: [bob.userId] });
    const sAtt = await connect(inst.url, attacker.token, attacker.deviceId);
    const sb = await connect(inst.url, bob.token, bob.deviceId);
    const gone = nextEvent(sAtt, 'disconnect');
    sAtt.emit('message:send', { blob: 'A'.repeat(200_000) } as never, () => undefined);
    await gone;
    const sa = await connect(inst.url, alice.token, alice.deviceId);
    const box = inbox(sb);
    expect(
      (
        await request(sa, 'message:send', {
          conversationId: conv.body.id,
          clientMessageId: 'after-big',
          envelopes: [{ userId: bob.userId, deviceId: bob.deviceId, type: 1, body: fakeBody() }],
        })
      ).ok,
    ).toBe(true);
    await box.waitFor(1);
    expect(sb.connected).toBe(true);
    sa.close();
    sb.close();
  });

  it('when one user floods socket events past the limit, then they get rate_limited and others are served', async () => {
    const limited = await env.start({ RATE_SOCKET_EVENTS_PER_SEC: '5' });
    const flooder = await createUser(limited, env.mint);
    const other = await createUser(limited, env.mint);
    const sf = await connect(limited.url, flooder.token, flooder.deviceId);
    const so = await connect(limited.url, other.token, other.deviceId);
    const acks = await Promise.all(Array.from({ length: 20 }, () => request(sf, 'presence:get', { userIds: [other.userId] })));
    expect(acks.filter((a) => !a.ok && a.error.code === 'rate_limited').length).toBeGreaterThan(0);
    expect((await request(so, 'presence:get', { userIds: [flooder.userId] })).ok).toBe(true);
    sf.close();
    so.close();
  });
});
