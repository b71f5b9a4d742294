import { describe, expect, it } from 'vitest';
import { api, connectDrained, type TestUser } from './support/harness.js';
import { People } from './support/people.js';

// Issue 15, second attacker review: the request budget must not tell a blocked contact about
// the block, must not let one guarded member of a group refuse everyone's messages, and a
// dropped envelope must not mark its recipient for an email digest.

/** Two messages per (sender, recipient) and window while the recipient has not accepted. */
const people = People.use('chatheldbudget', {
  MAILBOX_REQUEST_MAX_MESSAGES: '2',
  MAILBOX_REQUEST_MAX_BYTES: '65536',
});

/** @returns what `u` gets when they come online: every envelope waiting for their device */
async function whatArrives(u: TestUser): Promise<number> {
  const { socket, box } = await connectDrained(people.inst.url, u.token, u.deviceId);
  socket.close();
  return box.messages.length;
}

/** @returns whether `u` is marked for a digest email of what waits for them */
async function digestPending(u: TestUser): Promise<boolean> {
  const [row] = (await people.inst.app.ds.query(
    `SELECT pending_queued FROM chat.accounts WHERE user_id = $1`,
    [u.userId],
  )) as { pending_queued: boolean }[];
  return row?.pending_queued ?? false;
}

const sends = (from: TestUser, conversationId: string, to: TestUser[], n: number) =>
  people.sends(from, conversationId, to, n);

describe('held envelopes and the request budget', () => {
  it('when I block a contact in an accepted chat, then every one of their sends is acked like before and I get none of them', async () => {
    const { me, friend, id } = await people.friends();
    const blocked = await api(people.inst.url, me.token, 'PUT', `/blocks/${friend.userId}`);
    expect(blocked.status).toBe(204);
    // past the request budget: a refusal would tell them about the block
    expect(await sends(friend, id, [me], 5)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(await whatArrives(me)).toBe(0);
    const spent = await people.count(
      `SELECT count(*)::int AS n FROM chat.request_budget WHERE sender_user = $1 AND recipient_user = $2`,
      [friend.userId, me.userId],
    );
    expect(spent).toBe(0);
  });

  it('when one member of a group has not accepted, then their budget spent drops their envelopes only: the others get every message and the sender no refusal', async () => {
    const owner = await people.user();
    const friend = await people.user();
    const stranger = await people.user();
    // friend knows the owner (an accepted direct chat); the stranger does not
    const direct = await people.open(owner, 'direct', [friend]);
    expect(
      (await api(people.inst.url, friend.token, 'POST', `/conversations/${direct}/accept`)).status,
    ).toBe(204);
    const group = await people.open(owner, 'group', [friend, stranger]);
    expect(await people.myState(friend, group)).toBe('accepted');
    expect(await people.myState(stranger, group)).toBe('request');
    expect(await sends(owner, group, [friend, stranger], 3)).toEqual(['ok', 'ok', 'ok']);
    expect(await whatArrives(friend)).toBe(3);
    expect(await whatArrives(stranger)).toBe(2);
    // a direct request still refuses past the budget (the sender has nothing else to learn)
    const other = await people.user();
    const req = await people.open(owner, 'direct', [other]);
    expect(await sends(owner, req, [other], 3)).toEqual(['ok', 'ok', 'mailbox_full']);
  });

  it('when a recipient offline blocked the sender or is over budget in a group, then their dropped envelopes mark no digest; one stored does', async () => {
    const { me, friend, id } = await people.friends();
    expect((await api(people.inst.url, me.token, 'PUT', `/blocks/${friend.userId}`)).status).toBe(
      204,
    );
    expect(await sends(friend, id, [me], 1)).toEqual(['ok']);
    expect(await digestPending(me)).toBe(false);

    const owner = await people.user();
    const stranger = await people.user();
    const group = await people.open(owner, 'group', [stranger]);
    // the owner's budget with the stranger is spent (as by two messages the stranger has read)
    await people.inst.app.ds.query(
      `INSERT INTO chat.request_budget (sender_user, recipient_user, window_start, messages, bytes)
       VALUES ($1, $2, now(), 2, 100)`,
      [owner.userId, stranger.userId],
    );
    expect(await sends(owner, group, [stranger], 1)).toEqual(['ok']);
    expect(await digestPending(stranger)).toBe(false);
    expect(await whatArrives(stranger)).toBe(0);

    // the control: a contact's message that is stored marks the digest
    const other = await people.friends();
    expect(await sends(other.friend, other.id, [other.me], 1)).toEqual(['ok']);
    expect(await digestPending(other.me)).toBe(true);
  });
});
