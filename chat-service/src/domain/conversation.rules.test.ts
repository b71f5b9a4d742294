import { describe, expect, it } from 'vitest';
import { canManage, canRemoveMember, directKey } from './conversation.rules.js';

describe('conversation rules', () => {
  it('when the pair is given in either order, then the direct key is the same', () => {
    expect(directKey('b', 'a')).toBe(directKey('a', 'b'));
  });

  it('when members are removed, then owners remove anyone, admins remove members, everyone may leave', () => {
    expect(canRemoveMember('owner', 'admin', false)).toBe(true);
    expect(canRemoveMember('admin', 'member', false)).toBe(true);
    expect(canRemoveMember('admin', 'admin', false)).toBe(false);
    expect(canRemoveMember('admin', 'owner', false)).toBe(false);
    expect(canRemoveMember('member', 'member', false)).toBe(false);
    expect(canRemoveMember('member', 'member', true)).toBe(true);
  });

  it('when a plain member tries to manage, then it is refused', () => {
    expect(canManage('member')).toBe(false);
    expect(canManage('admin')).toBe(true);
  });
});
