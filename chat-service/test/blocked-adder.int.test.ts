import { describe, expect, it } from 'vitest';
import {
  api,
  connect,
  nextEvent,
  request,
  SignalIdentity,
  type TestUser,
} from './support/harness.js';
import { People } from './support/people.js';

// Issue 15, played by someone I blocked: we used to talk (so the server counts us as knowing
// each other), I blocked them, and they put me in new conversations with their other accounts.
// A person I blocked must not vouch for me: what they start or add me to is a request, so their
// helpers get no presence of mine.

const people = People.use('chatblockadd');

/**
 * `me` and `ex` talked (both accepted), then `blocker` blocked the other one.
 * @param blocker which of the two blocks
 * @returns the two of them
 */
async function formerContacts(blocker: 'me' | 'ex'): Promise<{ me: TestUser; ex: TestUser }> {
  const { me, friend: ex } = await people.friends();
  const [who, whom] = blocker === 'me' ? [me, ex] : [ex, me];
  expect((await api(people.inst.url, who.token, 'PUT', `/blocks/${whom.userId}`)).status).toBe(204);
  return { me, ex };
}

describe('someone I blocked puts me in a conversation', () => {
  it('when a blocked former contact opens a group with me and a helper, then it is a request for me and the helper gets no presence of mine', async () => {
    const { me, ex } = await formerContacts('me');
    const helper = await people.user();

    const group = await people.open(ex, 'group', [me, helper]);
    expect(
      (await api(people.inst.url, helper.token, 'POST', `/conversations/${group}/accept`)).status,
    ).toBe(204);
    expect(await people.myState(me, group)).toBe('request');

    const sm = await connect(people.inst.url, me.token, me.deviceId);
    const sh = await connect(people.inst.url, helper.token, helper.deviceId);
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
    const { me, ex } = await formerContacts('me');
    const helper = await people.user();

    const group = await people.open(ex, 'group', [helper]);
    const add = await api(people.inst.url, ex.token, 'POST', `/conversations/${group}/members`, {
      userIds: [me.userId],
    });
    expect(add.status).toBeLessThan(300);
    expect(await people.myState(me, group)).toBe('request');
  });

  it('when the person I put in a group has blocked me, then it is a request for them although we talked before', async () => {
    // they blocked me: what I start with them is a request for them
    const { me, ex } = await formerContacts('ex');
    const group = await people.open(me, 'group', [ex]);
    expect(await people.myState(ex, group)).toBe('request');
  });

  it('when my identity key changes, then someone I blocked is not told (a contact is)', async () => {
    const { me, ex } = await formerContacts('me');
    const friend = await people.user();
    await people.open(friend, 'direct', [me]);
    const se = await connect(people.inst.url, ex.token, ex.deviceId);
    const sf = await connect(people.inst.url, friend.token, friend.deviceId);
    let exHeard = false;
    se.on('identity:changed', () => (exHeard = true));
    const friendHeard = nextEvent<{ userId: string }>(sf, 'identity:changed');
    try {
      const up = await api(
        people.inst.url,
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
