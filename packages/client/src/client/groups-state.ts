import { z } from 'zod';
import { DisappearTimer, type GroupControl, type GroupState } from '../messages/message.schema.js';

/** A member's role in a group, as the group's own (end-to-end) state says. */
export type GroupRole = 'owner' | 'admin' | 'member';

/** One client's own view of a group: who is in it, with which role, and its title. */
export const GroupView = z.strictObject({
  /** Members and their roles (me included while I am a member). */
  members: z.array(z.strictObject({ userId: z.string().min(1), role: z.enum(['owner', 'admin', 'member']) })).max(1000),
  /** The end-to-end title (the server keeps none). */
  title: z.string().max(128).nullable(),
  /**
   * `member`: built from control messages of members. `legacy`: adopted once from the server's
   * member list for a group that existed before control messages (documented residual risk).
   */
  origin: z.enum(['member', 'legacy']),
  /** Epoch milliseconds of the last change (the backup keeps the newest view per group). */
  updatedAt: z.number(),
  /** Disappearing-message timer of the group in seconds (absent or null: off); end to end only. */
  timerS: DisappearTimer.optional(),
});
/** One client's own view of a group. */
export type GroupView = z.infer<typeof GroupView>;

/** Everything the client keeps about membership, locally and in the key backup. */
export const GroupViewsState = z.strictObject({
  v: z.literal(1),
  /** Whether this account already adopted its pre-existing groups (never again afterwards). */
  migrated: z.boolean(),
  /** Group views by conversation id. */
  views: z.record(z.string(), GroupView),
  /** The other member of each direct conversation, pinned at first sight. */
  directs: z.record(z.string(), z.string()),
  /**
   * Disappearing-message timer of each direct conversation that has one set (kind `timer`):
   * seconds (null: off) and the setter's clock when set (the later setting wins a merge).
   */
  timers: z.record(z.string(), z.strictObject({ s: DisappearTimer, at: z.number() })).optional(),
});
/** Everything the client keeps about membership. */
export type GroupViewsState = z.infer<typeof GroupViewsState>;

/** A membership change as it appears in a chat's history ("Carol added Dan"). */
export type GroupEvent = {
  type: 'created' | 'added' | 'removed' | 'left' | 'renamed' | 'role' | 'timer';
  actorUserId: string;
  /** The new disappearing timer in seconds, null when turned off (timer). */
  timerS?: number | null | undefined;
  userIds?: string[] | undefined;
  title?: string | null | undefined;
  role?: 'admin' | 'member' | undefined;
};

/** Result of applying a control message to a view. */
export type ApplyResult = { ok: true; view: GroupView; event: GroupEvent } | { ok: false; reason: string };

/**
 * @param view a group view
 * @param userId a user
 * @returns the user's role in the view, if a member
 */
export function roleIn(view: GroupView | undefined, userId: string): GroupRole | undefined {
  return view?.members.find((m) => m.userId === userId)?.role;
}

/**
 * Whether a role may add members or rename the group (same rule as chat-service).
 * @param role the actor's role
 * @returns true for owner and admin
 */
export function canManage(role: GroupRole | undefined): boolean {
  return role === 'owner' || role === 'admin';
}

/**
 * Whether `actor` may remove `target`: owners remove anyone, admins plain members (same rule as
 * chat-service; leaving is its own op).
 * @param actor the actor's role
 * @param target the target's role
 * @returns true when allowed
 */
export function canRemove(actor: GroupRole | undefined, target: GroupRole | undefined): boolean {
  if (!target) return false;
  if (actor === 'owner') return target !== 'owner';
  return actor === 'admin' && target === 'member';
}

/**
 * A view from a whole `state` (ops `create` and `add`).
 * @param state the state the control carried
 * @param now clock
 * @returns the view
 */
export function viewFromState(state: GroupState, now = Date.now()): GroupView {
  const members = new Map<string, GroupRole>();
  for (const m of state.members) if (!members.has(m.userId)) members.set(m.userId, m.role);
  const view: GroupView = { members: [...members].map(([userId, role]) => ({ userId, role })), title: state.title, origin: 'member', updatedAt: now };
  return state.timerS ? { ...view, timerS: state.timerS } : view;
}

/**
 * @param view a view
 * @returns the `state` a control carries for it
 */
export function stateOf(view: GroupView): GroupState {
  const state: GroupState = { members: view.members.map((m) => ({ userId: m.userId, role: m.role })), title: view.title };
  // New members start with the group's disappearing timer.
  return view.timerS ? { ...state, timerS: view.timerS } : state;
}

/**
 * Applies one control message to my view of a group, if its sender may make that change in my
 * view. A client with no view (or that is no longer a member) starts from the `state` of a
 * `create` or `add` only when it lists me and its sender is owner or admin in it.
 * @param view my current view (undefined when I have none)
 * @param me my user id
 * @param sender the control's sender (authenticated by the Signal session)
 * @param control the control
 * @param now clock
 * @returns the new view and the history event, or why it was refused
 */
export function applyControl(view: GroupView | undefined, me: string, sender: string, control: GroupControl, now = Date.now()): ApplyResult {
  const member = view ? roleIn(view, me) !== undefined : false;
  const actor = roleIn(view, sender);
  const ids = [...new Set(control.userIds ?? [])];
  const changed = (next: Omit<GroupView, 'updatedAt' | 'origin'>, event: Omit<GroupEvent, 'actorUserId'>): ApplyResult => ({
    ok: true,
    view: { ...next, origin: view?.origin ?? 'member', updatedAt: now },
    event: { ...event, actorUserId: sender },
  });
  if (control.op === 'create' || (control.op === 'add' && !member)) {
    if (member) return { ok: false, reason: 'group_exists' };
    if (!control.state) return { ok: false, reason: 'no_state' };
    const fresh = viewFromState(control.state, now);
    if (!canManage(roleIn(fresh, sender))) return { ok: false, reason: 'not_allowed' };
    if (roleIn(fresh, me) === undefined) return { ok: false, reason: 'not_listed' };
    if (fresh.members.filter((m) => m.role === 'owner').length > 1) return { ok: false, reason: 'invalid_state' };
    const type = control.op === 'create' ? 'created' : 'added';
    return { ok: true, view: fresh, event: { type, actorUserId: sender, ...(type === 'added' ? { userIds: ids } : {}), title: fresh.title } };
  }
  if (!view || !member) return { ok: false, reason: 'no_view' };
  switch (control.op) {
    case 'add': {
      if (!canManage(actor)) return { ok: false, reason: 'not_allowed' };
      const fresh = ids.filter((id) => roleIn(view, id) === undefined);
      if (fresh.length === 0) return { ok: false, reason: 'nothing_to_do' };
      return changed({ ...view, members: [...view.members, ...fresh.map((userId) => ({ userId, role: 'member' as const }))] }, { type: 'added', userIds: fresh });
    }
    case 'remove': {
      if (ids.length === 0 || !ids.every((id) => canRemove(actor, roleIn(view, id)))) return { ok: false, reason: 'not_allowed' };
      return changed({ ...view, members: view.members.filter((m) => !ids.includes(m.userId)) }, { type: 'removed', userIds: ids });
    }
    case 'leave': {
      if (!actor) return { ok: false, reason: 'not_allowed' };
      // Like chat-service, an owner who leaves hands nothing on: admins keep managing the group.
      const members = view.members.filter((m) => m.userId !== sender);
      return changed({ ...view, members }, { type: 'left' });
    }
    case 'rename': {
      if (!canManage(actor) || control.title === undefined) return { ok: false, reason: 'not_allowed' };
      return changed({ ...view, title: control.title }, { type: 'renamed', title: control.title });
    }
    case 'role': {
      const role = control.role;
      if (actor !== 'owner' || !role || ids.length === 0 || !ids.every((id) => { const r = roleIn(view, id); return r === 'admin' || r === 'member'; })) {
        return { ok: false, reason: 'not_allowed' };
      }
      return changed({ ...view, members: view.members.map((m) => (ids.includes(m.userId) ? { ...m, role } : m)) }, { type: 'role', userIds: ids, role });
    }
    case 'timer': {
      // Like a rename: owners and admins set the group's disappearing timer.
      if (!canManage(actor) || control.timerS === undefined) return { ok: false, reason: 'not_allowed' };
      const { timerS: _old, ...rest } = view;
      return changed(control.timerS ? { ...rest, timerS: control.timerS } : rest, { type: 'timer', timerS: control.timerS });
    }
  }
  return { ok: false, reason: 'not_allowed' };
}

/**
 * Merges two copies of the state (local and key backup): the newest view per group wins,
 * direct pins are united (the first copy wins a clash), and adoption happened if either says so.
 * @param a the copy that wins ties
 * @param b the other copy
 * @returns the merged state
 */
export function mergeViewsState(a: GroupViewsState | undefined, b: GroupViewsState | undefined): GroupViewsState | undefined {
  if (!a || !b) return a ?? b;
  const views: Record<string, GroupView> = { ...b.views };
  for (const [id, v] of Object.entries(a.views)) {
    const other = views[id];
    if (!other || other.updatedAt <= v.updatedAt) views[id] = v;
  }
  const timers = { ...b.timers };
  for (const [id, t] of Object.entries(a.timers ?? {})) {
    const other = timers[id];
    if (!other || other.at <= t.at) timers[id] = t;
  }
  const merged: GroupViewsState = { v: 1, migrated: a.migrated || b.migrated, views, directs: { ...b.directs, ...a.directs } };
  return Object.keys(timers).length > 0 ? { ...merged, timers } : merged;
}
