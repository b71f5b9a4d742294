import { describe, expect, it } from 'vitest';
import type { StoredMessage } from '../messages/message.schema.js';
import { groupPermissions } from './group-permissions.js';
import { applyReceipt, receiptSummary } from './receipt-state.js';

const ME = 'me';
const out: StoredMessage = {
  id: 'm1',
  conversationId: 'g1',
  senderUserId: ME,
  senderDeviceId: 1,
  direction: 'out',
  kind: 'text',
  text: 'hi',
  sentAt: 1,
  status: 'sent',
};
const receipt = (type: 'delivered' | 'read', fromUserId: string, conversationId = 'g1') => ({
  type,
  fromUserId,
  conversationId,
});

describe('applyReceipt', () => {
  it('when two members read my message, then both are in readBy and deliveredTo, in arrival order', () => {
    const a = applyReceipt(out, receipt('delivered', 'bob'), ME);
    expect(a).toMatchObject({ status: 'delivered', deliveredTo: ['bob'] });
    expect(a?.readBy).toBeUndefined();
    const b = applyReceipt(a!, receipt('read', 'carol'), ME);
    expect(b).toMatchObject({ status: 'read', deliveredTo: ['bob', 'carol'], readBy: ['carol'] });
    const c = applyReceipt(b!, receipt('read', 'bob'), ME);
    expect(c).toMatchObject({
      status: 'read',
      deliveredTo: ['bob', 'carol'],
      readBy: ['carol', 'bob'],
    });
  });

  it('when the same receipt comes again, or a late "delivered" after "read", then nothing changes', () => {
    const read = applyReceipt(out, receipt('read', 'bob'), ME)!;
    expect(applyReceipt(read, receipt('read', 'bob'), ME)).toBeUndefined();
    expect(applyReceipt(read, receipt('delivered', 'bob'), ME)).toBeUndefined();
  });

  it('when my own device sends a receipt, then it never counts as a member (but marks my incoming message read)', () => {
    expect(applyReceipt(out, receipt('read', ME), ME)).toBeUndefined();
    const incoming: StoredMessage = {
      ...out,
      direction: 'in',
      senderUserId: 'bob',
      status: 'received',
    };
    expect(applyReceipt(incoming, receipt('read', ME), ME)).toMatchObject({ status: 'read' });
    expect(applyReceipt(incoming, receipt('read', ME), ME)?.readBy).toBeUndefined();
    expect(applyReceipt(incoming, receipt('delivered', ME), ME)).toBeUndefined();
  });

  it("when a receipt names another conversation, or someone else's message, then nothing changes", () => {
    expect(applyReceipt(out, receipt('read', 'bob', 'other'), ME)).toBeUndefined();
    const incoming: StoredMessage = {
      ...out,
      direction: 'in',
      senderUserId: 'carol',
      status: 'received',
    };
    expect(applyReceipt(incoming, receipt('read', 'bob'), ME)).toBeUndefined();
  });
});

describe('receiptSummary', () => {
  it('when two of four members read it and one more has it, then it says 2 read and 3 delivered of 4', () => {
    const s = receiptSummary({ readBy: ['b', 'c'], deliveredTo: ['d'] }, ['b', 'c', 'd', 'e']);
    expect(s).toEqual({ readBy: ['b', 'c'], deliveredTo: ['d', 'b', 'c'], total: 4 });
  });

  it('when someone who read it has left since, then they still count (the total grows)', () => {
    expect(receiptSummary({ readBy: ['gone'] }, ['b']).total).toBe(2);
  });
});

describe('groupPermissions', () => {
  const members = [
    { userId: 'o', role: 'owner' as const },
    { userId: 'a', role: 'admin' as const },
    { userId: 'a2', role: 'admin' as const },
    { userId: 'm', role: 'member' as const },
  ];
  it('when I own the group, then I may rename, add, remove anyone else and change roles of others', () => {
    const p = groupPermissions(members, 'o');
    expect([
      p.rename,
      p.add,
      p.leave,
      p.remove('a'),
      p.remove('m'),
      p.setRole('a'),
      p.setRole('m'),
    ]).toEqual(Array(7).fill(true));
    expect([p.remove('o'), p.setRole('o')]).toEqual([false, false]);
  });
  it('when I am an admin, then I may rename, add and remove plain members, but not admins, and not change roles', () => {
    const p = groupPermissions(members, 'a');
    expect([p.rename, p.add, p.leave, p.remove('m')]).toEqual([true, true, true, true]);
    expect([p.remove('a2'), p.remove('o'), p.setRole('m'), p.setRole('a2')]).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
  it('when I am a plain member, then I may only leave; when I left, then nothing', () => {
    const p = groupPermissions(members, 'm');
    expect([p.rename, p.add, p.leave, p.remove('a'), p.setRole('a')]).toEqual([
      false,
      false,
      true,
      false,
      false,
    ]);
    expect(groupPermissions(members, 'gone')).toMatchObject({
      role: undefined,
      rename: false,
      add: false,
      leave: false,
    });
  });
});
