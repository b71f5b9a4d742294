import { describe, expect, it } from 'vitest';
import { localSession, storedText } from '../testing/local-session.js';
import { HistoryPages } from './history.js';
import type { Receipts } from './receipts.js';

describe('client.messages (HistoryPages)', () => {
  it('when 520 of 700 messages are unread, then the summary says so, pages walk back, and markAllRead reads them all', async () => {
    const { store, session } = localSession('alice');
    const marked: string[][] = [];
    // What Receipts.markRead does to the store; the receipt itself is its own unit's business.
    const receipts = {
      markRead: async (conversationId: string, ids: string[]) => {
        marked.push(ids);
        for (const id of ids) {
          const m = await store.getMessage(id);
          if (m && m.conversationId === conversationId)
            await store.putMessage({ ...m, status: 'read' });
        }
      },
    } as unknown as Receipts;
    const pages = new HistoryPages({ session, receipts });
    for (let i = 0; i < 700; i++) {
      await store.putMessage(
        storedText({
          id: `m${String(i).padStart(4, '0')}`,
          conversationId: 'c',
          senderUserId: 'bob',
          sentAt: 10_000 + i,
          status: i < 180 ? 'read' : 'received',
          ...(i === 650 ? { mentions: ['alice'] } : {}),
        }),
      );
    }
    const summary = await pages.summary('c');
    expect(summary).toMatchObject({ unread: 520, unreadMentions: 1 });
    expect(summary.last?.id).toBe('m0699');

    const latest = await pages.latest('c', 30);
    expect(latest.map((m) => m.id)).toEqual(Array.from({ length: 30 }, (_, k) => `m0${670 + k}`));
    const older = await pages.before('c', latest[0]!, 30);
    expect(older.at(-1)?.id).toBe('m0669');
    expect(await pages.page('c', { before: { sentAt: 10_000, id: 'm0000' } })).toEqual([]);

    expect(await pages.markAllRead('c')).toHaveLength(520);
    expect(marked[0]?.[0]).toBe('m0180');
    expect(await pages.summary('c')).toMatchObject({ unread: 0, unreadMentions: 0 });
    expect(await pages.markAllRead('c')).toEqual([]);
    expect(marked).toHaveLength(1);
  });
});
