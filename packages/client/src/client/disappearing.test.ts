import { describe, expect, it } from 'vitest';
import {
  applyControl,
  mergeViewsState,
  stateOf,
  viewFromState,
  type GroupView,
  type GroupViewsState,
} from './groups-state.js';

const [owner, admin, member] = ['owner-1', 'admin-1', 'member-1'];
const view = (over: Partial<GroupView> = {}): GroupView => ({
  members: [
    { userId: owner, role: 'owner' },
    { userId: admin, role: 'admin' },
    { userId: member, role: 'member' },
  ],
  title: 'Plans',
  origin: 'member',
  updatedAt: 1,
  ...over,
});

describe('disappearing timer in the end-to-end group state', () => {
  it('when an admin sets a timer, then the view carries it; a plain member is refused; null turns it off', () => {
    const set = applyControl(view(), member, admin, { op: 'timer', timerS: 3600 });
    expect(set.ok && set.view.timerS).toBe(3600);
    expect(set.ok && set.event).toMatchObject({ type: 'timer', actorUserId: admin, timerS: 3600 });
    expect(applyControl(view(), owner, member, { op: 'timer', timerS: 300 })).toEqual({
      ok: false,
      reason: 'not_allowed',
    });
    const off = applyControl(view({ timerS: 300 }), member, owner, { op: 'timer', timerS: null });
    expect(off.ok && 'timerS' in off.view).toBe(false);
    expect(off.ok && off.event.timerS).toBeNull();
  });

  it('when a group is handed on as state, then the timer goes with it (a new member starts with it)', () => {
    const state = stateOf(view({ timerS: 86_400 }));
    expect(state.timerS).toBe(86_400);
    expect(viewFromState(state).timerS).toBe(86_400);
    expect('timerS' in stateOf(view())).toBe(false);
  });

  it('when two copies of the state meet (local and key backup), then the later direct-chat timer wins', () => {
    const base: GroupViewsState = { v: 1, migrated: true, views: {}, directs: {} };
    const local = { ...base, timers: { a: { s: 300, at: 10 }, b: { s: null, at: 5 } } };
    const backup = { ...base, timers: { a: { s: 3600, at: 20 }, c: { s: 60, at: 1 } } };
    expect(mergeViewsState(local, backup)?.timers).toEqual({
      a: { s: 3600, at: 20 },
      b: { s: null, at: 5 },
      c: { s: 60, at: 1 },
    });
    expect(mergeViewsState(base, base)?.timers).toBeUndefined();
  });
});
