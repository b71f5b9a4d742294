import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  connect,
  createTestEnv,
  createUser,
  nextEvent,
  request,
  SignalIdentity,
  type Instance,
  type TestEnv,
  type TestUser,
} from './support/harness.js';

// Issue 15, played by someone I blocked: we used to talk (so the server counts us as knowing
// each other), I blocked them, and they put me in new conversations with their other accounts.
// A person I blocked must not vouch for me: what they start or add me to is a request, so their
// helpers get no presence of mine.

let env: TestEnv;
let inst: Instance;

beforeAll(async () => {
  env = await createTestEnv('chatblockadd');
  inst = await env.start();
});
afterAll(async () => {
  await env?.close();
});

const open = async (from: TestUser, kind: 'direct' | 'group', to: TestUser[]) => {
  const r = await api(inst.url, from.token, 'POST', '/conversations', {
    kind,
    memberIds: to.map((u) => u.userId),
  });
  expect(r.status).toBe(201);
  return r.body.id as string;
};
const myState = async (u: TestUser, id: string) =>
  (await api(inst.url, u.token, 'GET', `/conversations/${id}`)).body.myState as string;

describe('someone I blocked puts me in a conversation', () => {
  it('when a blocked former contact opens a group with me and a helper, then it is a request for me and the helper gets no presence of mine', async () => {
    const me = await createUser(inst, env.mint);
    const ex = await createUser(inst, env.mint);
    const helper = await createUser(inst, env.mint);
    const old = await open(ex, 'direct', [me]);
    expect((await api(inst.url, me.token, 'POST', `/conversations/${old}/accept`)).status).toBe(
      204,
    );
    expect((await api(inst.url, me.token, 'PUT', `/blocks/${ex.userId}`)).status).toBe(204);

    const group = await open(ex, 'group', [me, helper]);
    expect(
      (await api(inst.url, helper.token, 'POST', `/conversations/${group}/accept`)).status,
    ).toBe(204);
    expect(await myState(me, group)).toBe('request');

    const sm = await connect(inst.url, me.token, me.deviceId);
    const sh = await connect(inst.url, helper.token, helper.deviceId);
    try {
      expect(await request(sh, 'presence:get', { userIds: [me.userId] })).toEqual({
        ok: true,
        data: [],
      });
    } finally {
      sm.close();
      sh.close();
    }
  });

  it('when a blocked former contact adds me to an existing group, then it is a request for me', async () => {
    const me = await createUser(inst, env.mint);
    const ex = await createUser(inst, env.mint);
    const helper = await createUser(inst, env.mint);
    const old = await open(ex, 'direct', [me]);
    expect((await api(inst.url, me.token, 'POST', `/conversations/${old}/accept`)).status).toBe(
      204,
    );
    expect((await api(inst.url, me.token, 'PUT', `/blocks/${ex.userId}`)).status).toBe(204);

    const group = await open(ex, 'group', [helper]);
    const add = await api(inst.url, ex.token, 'POST', `/conversations/${group}/members`, {
      userIds: [me.userId],
    });
    expect(add.status).toBeLessThan(300);
    expect(await myState(me, group)).toBe('request');
  });

  it('when the person I put in a group has blocked me, then it is a request for them although we talked before', async () => {
    const me = await createUser(inst, env.mint);
    const ex = await createUser(inst, env.mint);
    const old = await open(ex, 'direct', [me]);
    expect((await api(inst.url, me.token, 'POST', `/conversations/${old}/accept`)).status).toBe(
      204,
    );
    // they blocked me: what I start with them is a request for them
    expect((await api(inst.url, ex.token, 'PUT', `/blocks/${me.userId}`)).status).toBe(204);
    const group = await open(me, 'group', [ex]);
    expect(await myState(ex, group)).toBe('request');
  });

  it('when my identity key changes, then someone I blocked is not told (a contact is)', async () => {
    const me = await createUser(inst, env.mint);
    const ex = await createUser(inst, env.mint);
    const friend = await createUser(inst, env.mint);
    await open(ex, 'direct', [me]);
    await open(friend, 'direct', [me]);
    expect((await api(inst.url, me.token, 'PUT', `/blocks/${ex.userId}`)).status).toBe(204);
    const se = await connect(inst.url, ex.token, ex.deviceId);
    const sf = await connect(inst.url, friend.token, friend.deviceId);
    let exHeard = false;
    se.on('identity:changed', () => (exHeard = true));
    const friendHeard = nextEvent<{ userId: string }>(sf, 'identity:changed');
    try {
      const up = await api(
        inst.url,
        me.token,
        'PUT',
        `/devices/${me.deviceId}/keys`,
        new SignalIdentity().upload(2),
      );
      expect(up.body.identityChanged).toBe(true);
      expect(await friendHeard).toEqual({ userId: me.userId });
      // a round trip on the blocked person's socket after the event went out: it would have come first
      expect(await request(se, 'presence:get', { userIds: [me.userId] })).toMatchObject({
        ok: true,
      });
      expect(exHeard).toBe(false);
    } finally {
      se.close();
      sf.close();
    }
  });
});
