import { describe, expect, it } from 'vitest';
import { applyControl, mergeViewsState, type GroupView, type GroupViewsState } from './groups-state.js';

const [owner, admin, member, me, dan] = ['owner-1', 'admin-1', 'member-1', 'me-1', 'dan-1'];
const view = (over: Partial<GroupView> = {}): GroupView => ({
  members: [
    { userId: owner, role: 'owner' },
    { userId: admin, role: 'admin' },
    { userId: member, role: 'member' },
    { userId: me, role: 'member' },
  ],
  title: 'Plans',
  origin: 'member',
  updatedAt: 1,
  ...over,
});
const ids = (v: GroupView) => v.members.map((m) => m.userId);

describe('group control rules (each client applies them to its own view)', () => {
  it('when an owner or admin adds, then the view grows; a plain member\'s add is refused', () => {
    const byAdmin = applyControl(view(), me, admin, { op: 'add', userIds: [dan] });
    expect(byAdmin.ok && ids(byAdmin.view)).toContain(dan);
    expect(byAdmin.ok && byAdmin.event).toMatchObject({ type: 'added', actorUserId: admin, userIds: [dan] });
    expect(applyControl(view(), me, member, { op: 'add', userIds: [dan] })).toEqual({ ok: false, reason: 'not_allowed' });
    // Someone outside my view cannot add either.
    expect(applyControl(view(), me, dan, { op: 'add', userIds: [dan] })).toEqual({ ok: false, reason: 'not_allowed' });
  });

  it('when members are removed, then owners remove anyone but owners, admins only plain members', () => {
    expect(applyControl(view(), me, owner, { op: 'remove', userIds: [admin] }).ok).toBe(true);
    expect(applyControl(view(), me, admin, { op: 'remove', userIds: [member] }).ok).toBe(true);
    expect(applyControl(view(), me, admin, { op: 'remove', userIds: [owner] }).ok).toBe(false);
    expect(applyControl(view(), me, member, { op: 'remove', userIds: [admin] }).ok).toBe(false);
    // A remove naming someone outside the view is refused as a whole.
    expect(applyControl(view(), me, owner, { op: 'remove', userIds: [member, dan] }).ok).toBe(false);
  });

  it('when someone renames or changes roles, then only owner/admin rename and only the owner changes roles', () => {
    const renamed = applyControl(view(), me, admin, { op: 'rename', title: 'New' });
    expect(renamed.ok && renamed.view.title).toBe('New');
    expect(applyControl(view(), me, member, { op: 'rename', title: 'Mine' }).ok).toBe(false);
    const promoted = applyControl(view(), me, owner, { op: 'role', userIds: [member], role: 'admin' });
    expect(promoted.ok && promoted.view.members.find((m) => m.userId === member)?.role).toBe('admin');
    expect(applyControl(view(), me, admin, { op: 'role', userIds: [member], role: 'admin' }).ok).toBe(false);
    expect(applyControl(view(), me, owner, { op: 'role', userIds: [owner], role: 'member' }).ok).toBe(false);
  });

  it('when a member leaves, then only they go; a leave from outside the view is refused', () => {
    const left = applyControl(view(), me, member, { op: 'leave' });
    expect(left.ok && ids(left.view)).toEqual([owner, admin, me]);
    expect(applyControl(view(), me, dan, { op: 'leave' }).ok).toBe(false);
  });

  it('when a create arrives, then a client with no view starts from its state only if the sender manages it and I am listed', () => {
    const state = { members: [{ userId: owner, role: 'owner' as const }, { userId: me, role: 'member' as const }], title: 'Hi' };
    const created = applyControl(undefined, me, owner, { op: 'create', state });
    expect(created.ok && created.view).toMatchObject({ title: 'Hi', origin: 'member' });
    expect(applyControl(undefined, me, me === owner ? dan : member, { op: 'create', state }).ok).toBe(false);
    expect(applyControl(undefined, dan, owner, { op: 'create', state })).toEqual({ ok: false, reason: 'not_listed' });
    // A forged create for a group I already have is ignored, whoever sends it.
    expect(applyControl(view(), me, owner, { op: 'create', state })).toEqual({ ok: false, reason: 'group_exists' });
    // Two owners in one state: refused.
    const twoOwners = { members: [...state.members, { userId: dan, role: 'owner' as const }], title: null };
    expect(applyControl(undefined, me, owner, { op: 'create', state: twoOwners }).ok).toBe(false);
  });

  it('when I was removed and am added again, then I start from the adder\'s state', () => {
    const gone = view({ members: view().members.filter((m) => m.userId !== me) });
    const state = { members: [...gone.members, { userId: me, role: 'member' as const }], title: 'Back' };
    const back = applyControl(gone, me, admin, { op: 'add', userIds: [me], state });
    expect(back.ok && back.view.title).toBe('Back');
    // Without being a member, nothing else applies.
    expect(applyControl(gone, me, owner, { op: 'rename', title: 'x' })).toEqual({ ok: false, reason: 'no_view' });
  });

  it('when two copies of the views merge (device and key backup), then the newest view per group wins', () => {
    const a: GroupViewsState = { v: 1, migrated: true, views: { g1: view({ title: 'new', updatedAt: 5 }) }, directs: { d1: dan } };
    const b: GroupViewsState = { v: 1, migrated: false, views: { g1: view({ title: 'old', updatedAt: 2 }), g2: view() }, directs: {} };
    const merged = mergeViewsState(b, a);
    expect(merged?.views.g1?.title).toBe('new');
    expect(merged?.views.g2).toBeDefined();
    expect(merged).toMatchObject({ migrated: true, directs: { d1: dan } });
  });
});
