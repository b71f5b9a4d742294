import type { ConversationRole } from '@cipherchat/contracts';

/**
 * The unique key of a direct conversation: both user ids, sorted, so (a, b) and (b, a) map to
 * the same row and a unique index makes "exactly one per pair" hold under concurrency.
 * @param a one user id
 * @param b the other
 * @returns `"<smaller>:<larger>"`
 */
export function directKey(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/**
 * Whether `actor` may remove `target` from a group. Owners remove anyone but themselves
 * through leave; admins remove plain members; anyone may remove themself (leave).
 * @param actor the caller's role
 * @param target the target's role
 * @param self whether the caller is the target
 * @returns true when allowed
 */
export function canRemoveMember(actor: ConversationRole, target: ConversationRole, self: boolean): boolean {
  if (self) return true;
  if (actor === 'owner') return true;
  if (actor === 'admin') return target === 'member';
  return false;
}

/**
 * Whether a role may add members to a group.
 * @param role the caller's role
 * @returns true for owner and admin
 */
export function canManage(role: ConversationRole): boolean {
  return role === 'owner' || role === 'admin';
}
