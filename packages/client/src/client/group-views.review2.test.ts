import { describe, expect, it } from 'vitest';
import type { GroupControl, PlaintextMessage } from '../messages/message.schema.js';
import { createMemoryStore } from '../storage/kv-protocol-store.js';
import type { Conversation } from '../transport/chat-endpoints.js';
import type { EmitFn } from './client-types.js';
import { GroupViews } from './group-views.js';
import { applyControl, type GroupView } from './groups-state.js';
import type { Session } from './session.js';
import { SessionSlot } from './session.js';

// Second review of issue 14: a malicious member or a hostile server against group state.
const ME = '00000000-0000-4000-8000-000000000001';
const OWNER = '00000000-0000-4000-8000-000000000002';
const ADMIN = '00000000-0000-4000-8000-000000000003';
const MALLORY = '00000000-0000-4000-8000-000000000004';
const EVE = '00000000-0000-4000-8000-000000000005';

const base = (): GroupView => ({
  members: [
    { userId: OWNER, role: 'owner' },
    { userId: ADMIN, role: 'admin' },
    { userId: MALLORY, role: 'member' },
    { userId: ME, role: 'member' },
  ],
  title: 'Plans',
  origin: 'member',
  updatedAt: 1,
});

async function setUp() {
  const store = createMemoryStore();
  const session = new SessionSlot();
  session.current = { user: { id: ME }, store, backup: { schedule: () => undefined } } as unknown as Session;
  const refused: unknown[] = [];
  const emit = ((name: string, payload: unknown) => {
    if (name === 'groupChangeRefused') refused.push(payload);
  }) as EmitFn;
  const views = new GroupViews({ session, emit });
  await views.load(store, { exists: false });
  await views.put('g1', base());
  let n = 0;
  const deliver = (sender: string, group: GroupControl, id = `c${(n += 1)}`) => {
    const plain: PlaintextMessage = { v: 1, kind: 'group', id, conversationId: 'g1', sentAt: 1, group };
    return views.receive({ senderUserId: sender, senderDeviceId: 1, serverTimestamp: '2026-01-01T00:00:00.000Z', messageId: `s-${id}` }, plain);
  };
  return { views, refused, deliver };
}

const listed = (members: string[]): Conversation => ({
  id: 'g1', kind: 'group', title: null, memberIds: members,
  members: members.map((userId) => ({ userId, role: 'member', joinedAt: '2026-01-01T00:00:00.000Z' })),
  createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z',
} as unknown as Conversation);

describe('review 2: group state under a malicious member', () => {
  it('when a plain member sends a create or an add whose state makes them owner, then my existing view is unchanged', async () => {
    const { views, refused, deliver } = await setUp();
    const state = { members: [{ userId: MALLORY, role: 'owner' as const }, { userId: ME, role: 'member' as const }, { userId: EVE, role: 'member' as const }], title: 'Mine' };
    await deliver(MALLORY, { op: 'create', state });
    await deliver(MALLORY, { op: 'add', userIds: [EVE], state });
    expect(views.view('g1')).toEqual(base());
    expect(refused).toMatchObject([{ op: 'create', reason: 'group_exists' }, { op: 'add', reason: 'not_allowed' }]);
  });

  it('when members try to escalate or remove the owner, then every such change is refused', () => {
    const v = base();
    expect(applyControl(v, ME, MALLORY, { op: 'role', userIds: [MALLORY], role: 'admin' }).ok).toBe(false);
    expect(applyControl(v, ME, ADMIN, { op: 'role', userIds: [ADMIN], role: 'admin' }).ok).toBe(false);
    expect(applyControl(v, ME, ADMIN, { op: 'remove', userIds: [OWNER] }).ok).toBe(false);
    // One allowed target does not carry a forbidden one.
    expect(applyControl(v, ME, ADMIN, { op: 'remove', userIds: [MALLORY, OWNER] }).ok).toBe(false);
    expect(applyControl(v, ME, MALLORY, { op: 'remove', userIds: [ME] }).ok).toBe(false);
    expect(applyControl(v, ME, MALLORY, { op: 'rename', title: 'x' }).ok).toBe(false);
    // A leave only ever removes its sender, whatever ids it names.
    const left = applyControl(v, ME, MALLORY, { op: 'leave', userIds: [OWNER] });
    expect(left.ok && left.view.members.map((m) => m.userId)).toEqual([OWNER, ADMIN, ME]);
  });

  it('when an old add is delivered again after a removal, then it is applied once only (dedupe by plaintext id)', async () => {
    const { views, deliver } = await setUp();
    await deliver(ADMIN, { op: 'add', userIds: [EVE] }, 'add-eve');
    expect(views.view('g1')?.members.map((m) => m.userId)).toContain(EVE);
    await deliver(ADMIN, { op: 'remove', userIds: [EVE] }, 'remove-eve');
    await deliver(ADMIN, { op: 'add', userIds: [EVE] }, 'add-eve');
    expect(views.view('g1')?.members.map((m) => m.userId)).not.toContain(EVE);
  });

  it('when the server still lists a member my view removed, then nothing (message, receipt, typing) is sent', async () => {
    const { views, deliver } = await setUp();
    await deliver(OWNER, { op: 'remove', userIds: [MALLORY] });
    await expect(views.audience(listed([OWNER, ADMIN, MALLORY, ME]), ME)).rejects.toMatchObject({
      code: 'unexpected_member', details: { userIds: [MALLORY] },
    });
    expect(await views.audience(listed([OWNER, ADMIN, ME]), ME)).toEqual([ME, OWNER, ADMIN]);
  });

  it('when I was removed, then receipts and typing (no `to`) are not sent to the group at all', async () => {
    const { views, deliver } = await setUp();
    await deliver(OWNER, { op: 'remove', userIds: [ME] });
    await expect(views.audience(listed([OWNER, ADMIN, MALLORY, ME]), ME)).rejects.toMatchObject({ code: 'not_member' });
  });
});
