import { describe, expect, it } from 'vitest';
import { ApiClient } from './api-client.js';

const BOB = '5b0e6c1e-8f3a-4c1b-9d2e-0a1b2c3d4e5f';
const CONV = '6c1f7d2f-9a4b-4d2c-8e3f-1b2c3d4e5f60';
const PROOF = { deviceId: 2, deviceSecret: 's'.repeat(43) };

/** An API client over a recording fetch that answers each call with `answer(method, path)`. */
function recording(answer: (method: string, path: string) => Response) {
  const calls: string[] = [];
  const bodies: unknown[] = [];
  /** `X-Device-Id:X-Device-Secret` of each call (`-` when absent). */
  const proofs: string[] = [];
  const api = new ApiClient({
    baseUrl: 'http://x',
    fetch: async (input, init) => {
      const url = new URL(String(input));
      const method = init?.method ?? 'GET';
      calls.push(`${method} ${url.pathname}`);
      const h = new Headers(init?.headers);
      proofs.push(`${h.get('x-device-id') ?? '-'}:${h.get('x-device-secret') ?? '-'}`);
      bodies.push(init?.body ? JSON.parse(String(init.body)) : undefined);
      return answer(method, url.pathname);
    },
  });
  return { api, calls, bodies, proofs };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('requests, blocks, reports and privacy endpoints', () => {
  it('when each call is made, then it goes to the contract route with the contract body', async () => {
    const t = recording((method, path) => {
      if (path.endsWith('/privacy'))
        return json(200, { readReceipts: false, typing: true, lastSeen: false });
      if (method === 'GET' && path.endsWith('/blocks')) return json(200, { userIds: [BOB] });
      if (path.endsWith('/reports')) return new Response(null, { status: 202 });
      return new Response(null, { status: 204 });
    });
    await t.api.chat.acceptRequest(CONV, PROOF);
    await t.api.chat.declineRequest(CONV, PROOF);
    await t.api.chat.block(BOB, PROOF);
    await t.api.chat.unblock(BOB, PROOF);
    expect(await t.api.chat.blockedUsers()).toEqual([BOB]);
    await t.api.chat.report(
      { userId: BOB, conversationId: CONV, reason: 'spam', note: 'ads', block: true },
      PROOF,
    );
    expect(await t.api.chat.privacy()).toEqual({
      readReceipts: false,
      typing: true,
      lastSeen: false,
    });
    await t.api.chat.setPrivacy({ readReceipts: true, typing: false, lastSeen: true }, PROOF);
    expect(t.calls).toEqual([
      `POST /api/chat/conversations/${CONV}/accept`,
      `POST /api/chat/conversations/${CONV}/decline`,
      `PUT /api/chat/blocks/${BOB}`,
      `DELETE /api/chat/blocks/${BOB}`,
      'GET /api/chat/blocks',
      'POST /api/chat/reports',
      'GET /api/chat/privacy',
      'PUT /api/chat/privacy',
    ]);
    expect(t.bodies[5]).toEqual({
      userId: BOB,
      conversationId: CONV,
      reason: 'spam',
      note: 'ads',
      block: true,
    });
    expect(t.bodies[7]).toEqual({ readReceipts: true, typing: false, lastSeen: true });
    // what lowers the account's guard carries the device's proof (a report that blocks too);
    // reading does not
    const p = `2:${PROOF.deviceSecret}`;
    expect(t.proofs).toEqual([p, p, p, p, '-:-', p, '-:-', p]);
  });

  it('when a conversation is created or members are added, then the call carries the device proof', async () => {
    const at = new Date(0).toISOString();
    const conversation = {
      id: CONV,
      kind: 'group',
      title: null,
      members: [{ userId: BOB, role: 'member', joinedAt: at }],
      myState: 'accepted',
      createdAt: at,
      updatedAt: at,
    };
    const t = recording(() => json(200, conversation));
    await t.api.chat.createConversation({ kind: 'group', memberIds: [BOB] }, PROOF);
    await t.api.chat.addMembers(CONV, [BOB], PROOF);
    expect(t.calls).toEqual([
      'POST /api/chat/conversations',
      `POST /api/chat/conversations/${CONV}/members`,
    ]);
    expect(t.proofs).toEqual([`2:${PROOF.deviceSecret}`, `2:${PROOF.deviceSecret}`]);
  });

  it('when a hostile server answers privacy or blocks out of shape, then the SDK refuses the answer', async () => {
    const t = recording((_m, path) =>
      path.endsWith('/privacy')
        ? json(200, { readReceipts: 'yes' })
        : json(200, { userIds: ['not-a-uuid'] }),
    );
    await expect(t.api.chat.privacy()).rejects.toMatchObject({ code: 'bad_response' });
    await expect(t.api.chat.blockedUsers()).rejects.toMatchObject({ code: 'bad_response' });
  });
});
