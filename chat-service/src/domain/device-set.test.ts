import { describe, expect, it } from 'vitest';
import { diffDeviceSet, duplicateAddresses } from './device-set.js';

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
