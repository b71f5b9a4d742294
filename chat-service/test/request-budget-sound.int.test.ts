import { describe, expect, it } from 'vitest';
import { api, connect, connectDrained, type TestUser } from './support/harness.js';
import { People, sendTo } from './support/people.js';

// Review 15: what the adversarial review checked and found sound, kept as regression tests.

/** Two messages per (sender, recipient) and window while the recipient has not accepted. */
const people = People.use('chatreview15ok', {
  MAILBOX_REQUEST_MAX_MESSAGES: '2',
  MAILBOX_REQUEST_MAX_BYTES: '65536',
});

/** @returns what `u` gets when they come online */
async function whatArrives(u: TestUser): Promise<number> {
  const { socket, box } = await connectDrained(people.inst.url, u.token, u.deviceId);
  socket.close();
  return box.messages.length;
}

describe('request budgets and held sends: what was found sound', () => {
  it('when a stranger opens a direct request and three groups with me, then one budget covers them all: I get two messages, the direct chat is refused after', async () => {
    const stranger = await people.user();
    const me = await people.user();
    const direct = await people.open(stranger, 'direct', [me]);
    const groups = [];
    for (let i = 0; i < 3; i++) groups.push(await people.open(stranger, 'group', [me]));
    const socket = await connect(people.inst.url, stranger.token, stranger.deviceId);
    const answers: string[] = [];
    for (const id of [direct, ...groups, direct]) {
      const ack = await sendTo(socket, id, [me]);
      answers.push(ack.ok ? 'ok' : ack.error.code);
    }
    socket.close();
    // groups never refuse (that member's envelope is dropped), the direct request does
    expect(answers).toEqual(['ok', 'ok', 'ok', 'ok', 'mailbox_full']);
    expect(await whatArrives(me)).toBe(2);
  });

  it('when I blocked a contact, then the ack of their send has the very shape of a stored one', async () => {
    const a = await people.friends();
    const b = await people.friends();
    expect(
      (await api(people.inst.url, b.me.token, 'PUT', `/blocks/${b.friend.userId}`)).status,
    ).toBe(204);
    const ackOf = async (from: TestUser, id: string, to: TestUser) => {
      const s = await connect(people.inst.url, from.token, from.deviceId);
      try {
        return await sendTo(s, id, [to]);
      } finally {
        s.close();
      }
    };
    const stored = await ackOf(a.friend, a.id, a.me);
    const held = await ackOf(b.friend, b.id, b.me);
    const shape = (x: unknown): unknown =>
      x && typeof x === 'object'
        ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, shape(v)]))
        : typeof x;
    expect(shape(held)).toEqual(shape(stored));
    expect(held.ok).toBe(true);
    expect(await whatArrives(b.me)).toBe(0);
  });
});
