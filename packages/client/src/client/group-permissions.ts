import { canManage, canRemove, type GroupRole } from './groups-state.js';

/** What I may do in a group, by the same rules every member's client applies to my changes. */
export interface GroupPermissions {
  /** My role (undefined when I am no longer a member). */
  role: GroupRole | undefined;
  /** Rename the group (owner, admin). */
  rename: boolean;
  /** Add people (owner, admin). */
  add: boolean;
  /** Leave (any member). */
  leave: boolean;
  /** Remove this member (owner: anyone but the owner; admin: plain members). */
  remove(userId: string): boolean;
  /** Make this member an admin or a plain member (owner only; never the owner's own role). */
  setRole(userId: string): boolean;
}

/**
 * What I may do in a group, from its members and roles as my view lists them. A UI mirrors it
 * (buttons for refused actions are disabled); {@link Groups} and every other member's client
 * apply the same rules (groups-state.ts `applyControl`), so a change this says no to fails.
 * @param members the group's members and roles (my view)
 * @param me my user id
 * @returns my permissions
 */
export function groupPermissions(
  members: readonly { userId: string; role: GroupRole }[],
  me: string,
): GroupPermissions {
  const roleOf = (userId: string) => members.find((m) => m.userId === userId)?.role;
  const role = roleOf(me);
  return {
    role,
    rename: canManage(role),
    add: canManage(role),
    leave: role !== undefined,
    remove: (userId) => userId !== me && canRemove(role, roleOf(userId)),
    setRole: (userId) => {
      const target = roleOf(userId);
      return role === 'owner' && userId !== me && (target === 'admin' || target === 'member');
    },
  };
}
