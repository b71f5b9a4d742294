import { describe, expect, it } from 'vitest';
import { connect, connectDrained, type TestUser } from './support/harness.js';
import { People, sendTo } from './support/people.js';

// Review 15 (F4): two of a stranger's groups with me that map to different writer lanes are
// written by two concurrent statements. Each locks the (sender, recipient) budget row FOR UPDATE
// before reading it, so the second reads what the first spent: the budget is never overspent.
// Made deterministic by holding the budget row locked until both statements wait on it.

const people = People.use('chatreview15os', {
  MAILBOX_REQUEST_MAX_MESSAGES: '2',
  MAILBOX_REQUEST_MAX_BYTES: '65536',
  WRITE_BATCH_CONCURRENCY: '2',
});

/** The writer's lane of a conversation (FNV-1a, as in message.writer.ts). */
function laneOf(id: string, lanes: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % lanes;
}

/** @returns what `u` gets when they come online */
async function whatArrives(u: TestUser): Promise<number> {
  const { socket, box } = await connectDrained(people.inst.url, u.token, u.deviceId);
  socket.close();
  return box.messages.length;
}

describe('request budget under concurrent sends', () => {
  it('when a stranger sends to two groups on two writer lanes at once with one message of the budget left, then I get one', async () => {
    const stranger = await people.user();
    const me = await people.user();
    const byLane = new Map<number, string>();
    while (byLane.size < 2) {
      const g = await people.open(stranger, 'group', [me]);
      if (!byLane.has(laneOf(g, 2))) byLane.set(laneOf(g, 2), g);
    }
    const ds = people.inst.app.ds;
    // one message of the budget left
    await ds.query(
      `INSERT INTO chat.request_budget (sender_user, recipient_user, window_start, messages, bytes) VALUES ($1, $2, now(), 1, 10)`,
      [stranger.userId, me.userId],
    );
    const hold = ds.createQueryRunner();
    await hold.connect();
    await hold.startTransaction();
    await hold.query(
      `SELECT 1 FROM chat.request_budget WHERE sender_user = $1 AND recipient_user = $2 FOR UPDATE`,
      [stranger.userId, me.userId],
    );
    const socket = await connect(people.inst.url, stranger.token, stranger.deviceId);
    const acks = Promise.all([...byLane.values()].map((g) => sendTo(socket, g, [me])));
    // both statements have started (and taken their snapshot) once both wait on a lock
    for (let i = 0; i < 100; i++) {
      const [w] = (await ds.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'WITH msg AS%'`,
      )) as { n: number }[];
      if ((w?.n ?? 0) >= 2) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await hold.commitTransaction();
    await hold.release();
    expect((await acks).map((a) => a.ok)).toEqual([true, true]);
    socket.close();
    // one left in the budget: the second statement read the first one's spending
    expect(await whatArrives(me)).toBe(1);
  });
});
