import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../storage/kv-protocol-store.js';
import type { Conversation } from '../transport/chat-endpoints.js';
import type { EmitFn } from './client-types.js';
import { GroupViews, META_GROUP_VIEWS } from './group-views.js';
import type { Session } from './session.js';
import { SessionSlot } from './session.js';

const ME = '00000000-0000-4000-8000-000000000001';
const BOB = '00000000-0000-4000-8000-000000000002';
const MALLORY = '00000000-0000-4000-8000-000000000003';

async function setUp() {
  const store = createMemoryStore();
  const session = new SessionSlot();
  let scheduled = 0;
  session.current = { user: { id: ME }, store, backup: { schedule: () => (scheduled += 1) } } as unknown as Session;
  const events: unknown[] = [];
  const emit = ((...args: unknown[]) => {
    events.push(args);
  }) as EmitFn;
  const views = new GroupViews({ session, emit });
  return { store, views, events, scheduled: () => scheduled };
}

const group = (id: string, members: string[], title: string | null = null): Conversation => ({
  id,
  kind: 'group',
  title,
  members: members.map((userId, i) => ({ userId, role: i === 0 ? 'owner' : 'member', joinedAt: '2026-01-01T00:00:00.000Z' })),
  memberIds: members,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
} as unknown as Conversation);

describe('group views', () => {
  it('when an account\'s backup predates group views, then its existing groups are adopted once as legacy, and never again', async () => {
    const { store, views, scheduled } = await setUp();
    await views.load(store, { exists: true });
    expect(views.legacyAdoptionPending).toBe(true);
    expect(await views.adoptLegacy([group('g1', [BOB, ME], 'Old title')])).toEqual(['g1']);
    expect(views.view('g1')).toMatchObject({ origin: 'legacy', title: 'Old title' });
    expect(scheduled()).toBeGreaterThan(0);
    // A later group the server lists is not adopted: it waits for a member's state.
    expect(await views.adoptLegacy([group('g2', [MALLORY, ME])])).toEqual([]);
    await expect(views.audience(group('g2', [MALLORY, ME]), ME)).rejects.toMatchObject({ code: 'group_state_pending' });
    // The flag is stored, so the next session does not adopt either.
    const again = new GroupViews({ session: (views as unknown as { deps: { session: SessionSlot } }).deps.session, emit: () => undefined });
    await again.load(store, { exists: true });
    expect(again.legacyAdoptionPending).toBe(false);
  });

  it('when a new account (no backup yet) starts, then nothing is ever adopted from the server', async () => {
    const { store, views } = await setUp();
    await views.load(store, { exists: false });
    expect(views.legacyAdoptionPending).toBe(false);
    expect(await views.adoptLegacy([group('g1', [MALLORY, ME])])).toEqual([]);
  });

  it('when a new device starts from a backup with views, then it uses them and adopts nothing', async () => {
    const { store, views } = await setUp();
    const backupGroups = {
      v: 1,
      migrated: true,
      views: { g1: { members: [{ userId: ME, role: 'owner' }, { userId: BOB, role: 'member' }], title: 'Ours', origin: 'member', updatedAt: 3 } },
      directs: {},
    };
    await views.load(store, { exists: true, groups: backupGroups });
    expect(views.legacyAdoptionPending).toBe(false);
    expect(await views.audience(group('g1', [ME, BOB]), ME)).toEqual([ME, BOB]);
    await expect(views.audience(group('g1', [ME, BOB, MALLORY]), ME)).rejects.toMatchObject({
      code: 'unexpected_member',
      details: { conversationId: 'g1', userIds: [MALLORY] },
    });
    // A member of my view whom the server no longer lists is simply not addressed.
    expect(await views.audience(group('g1', [ME]), ME)).toEqual([ME]);
    expect(await store.getMeta(META_GROUP_VIEWS)).toMatchObject({ views: { g1: { title: 'Ours' } } });
  });
});
