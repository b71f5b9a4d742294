import { describe, expect, it } from 'vitest';
import { checkSend, diffDeviceSet, duplicateAddresses } from './device-set.js';
import type { SendContext } from './ports.js';

const u1 = '00000000-0000-4000-8000-000000000001';
const u2 = '00000000-0000-4000-8000-000000000002';

describe('diffDeviceSet', () => {
  it('when the sets match in any order, then nothing is missing or extra', () => {
    const set = [
      { userId: u1, deviceId: 1 },
      { userId: u2, deviceId: 3 },
    ];
    expect(diffDeviceSet(set, [...set].reverse())).toEqual({ missing: [], extra: [] });
  });

  it('when a device is left out and an unknown one added, then both are named', () => {
    expect(
      diffDeviceSet(
        [
          { userId: u1, deviceId: 1 },
          { userId: u1, deviceId: 2 },
        ],
        [
          { userId: u1, deviceId: 1 },
          { userId: u2, deviceId: 1 },
        ],
      ),
    ).toEqual({ missing: [{ userId: u1, deviceId: 2 }], extra: [{ userId: u2, deviceId: 1 }] });
  });

  it('when the same device id belongs to another user, then it does not count', () => {
    expect(diffDeviceSet([{ userId: u1, deviceId: 1 }], [{ userId: u2, deviceId: 1 }]).missing).toHaveLength(1);
  });
});

describe('duplicateAddresses', () => {
  it('when a device is addressed twice, then it is reported once per repeat', () => {
    const d = { userId: u1, deviceId: 1 };
    expect(duplicateAddresses([d, { userId: u2, deviceId: 1 }, d])).toEqual([d]);
  });
});

describe('checkSend', () => {
  const conv = '00000000-0000-4000-8000-0000000000c1';
  const sender = { userId: u1, deviceId: 1 };
  const ctx = (over: Partial<SendContext> = {}): SendContext => ({
    existing: null,
    members: [u1, u2],
    devices: [
      { userId: u1, deviceId: 1 },
      { userId: u1, deviceId: 2 },
      { userId: u2, deviceId: 1 },
    ],
    kind: 'group',
    ...over,
  });

  it("when the envelopes address every member's devices but the sending one, then the send may be stored", () => {
    expect(checkSend(ctx(), sender, conv, [{ userId: u1, deviceId: 2 }, { userId: u2, deviceId: 1 }])).toBeUndefined();
  });

  it('when the sender is not a member, then not_member, even if the device set would match', () => {
    expect(() => checkSend(ctx({ members: [u2], devices: [{ userId: u2, deviceId: 1 }] }), sender, conv, [{ userId: u2, deviceId: 1 }])).toThrow(
      expect.objectContaining({ status: 403, code: 'not_member' }),
    );
  });

  it("when the sender's other device is left out and an unknown one added, then stale_devices names both", () => {
    expect(() => checkSend(ctx(), sender, conv, [{ userId: u2, deviceId: 1 }, { userId: u2, deviceId: 9 }])).toThrow(
      expect.objectContaining({
        status: 409,
        code: 'stale_devices',
        details: { missing: [{ userId: u1, deviceId: 2 }], extra: [{ userId: u2, deviceId: 9 }] },
      }),
    );
  });

  it('when the clientMessageId was stored before, then the original is returned, even after the sender left', () => {
    const serverTs = new Date('2026-01-01T00:00:00.000Z');
    const existing = { messageId: '00000000-0000-4000-8000-0000000000e1', conversationId: conv, serverTs };
    expect(checkSend(ctx({ existing, members: [] }), sender, conv, [])).toEqual({
      messageId: existing.messageId,
      serverTimestamp: serverTs.toISOString(),
      duplicate: true,
    });
  });

  it('when a direct conversation lost its peer (one member left), then conflict, even though the device set would match', () => {
    const alone = ctx({ kind: 'direct', members: [u1], devices: [{ userId: u1, deviceId: 1 }, { userId: u1, deviceId: 2 }] });
    expect(() => checkSend(alone, sender, conv, [{ userId: u1, deviceId: 2 }])).toThrow(expect.objectContaining({ status: 409, code: 'conflict' }));
    expect(checkSend(ctx({ kind: 'direct' }), sender, conv, [{ userId: u1, deviceId: 2 }, { userId: u2, deviceId: 1 }])).toBeUndefined();
  });

  it("when a self conversation's device set is the sender's other devices, then the send may be stored", () => {
    const self = ctx({ kind: 'self', members: [u1], devices: [{ userId: u1, deviceId: 1 }, { userId: u1, deviceId: 2 }] });
    expect(checkSend(self, sender, conv, [{ userId: u1, deviceId: 2 }])).toBeUndefined();
  });

  it('when the clientMessageId was used for another conversation, then conflict', () => {
    const existing = { messageId: '00000000-0000-4000-8000-0000000000e1', conversationId: '00000000-0000-4000-8000-0000000000c2', serverTs: new Date() };
    expect(() => checkSend(ctx({ existing }), sender, conv, [])).toThrow(expect.objectContaining({ code: 'conflict' }));
  });
});
