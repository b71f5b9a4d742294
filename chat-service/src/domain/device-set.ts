import type { DeviceAddress } from '@cipherchat/contracts';

/**
 * Compares the devices a sender addressed with the devices that must receive the message
 * (every keyed device of every other member plus the sender's other devices), like Signal's
 * 409 "mismatched devices".
 * @param expected the current device set
 * @param given the envelopes' addresses
 * @returns devices without an envelope (`missing`) and envelopes for unknown devices (`extra`)
 */
export function diffDeviceSet(
  expected: readonly DeviceAddress[],
  given: readonly DeviceAddress[],
): { missing: DeviceAddress[]; extra: DeviceAddress[] } {
  const key = (d: DeviceAddress) => `${d.userId}:${d.deviceId}`;
  const want = new Set(expected.map(key));
  const have = new Set(given.map(key));
  return {
    missing: expected.filter((d) => !have.has(key(d))),
    extra: given.filter((d) => !want.has(key(d))),
  };
}

/**
 * Finds envelopes addressed twice to the same device.
 * @param given the envelopes' addresses
 * @returns the duplicated addresses (empty when none)
 */
export function duplicateAddresses(given: readonly DeviceAddress[]): DeviceAddress[] {
  const seen = new Set<string>();
  const dups: DeviceAddress[] = [];
  for (const d of given) {
    const k = `${d.userId}:${d.deviceId}`;
    if (seen.has(k)) dups.push(d);
    seen.add(k);
  }
  return dups;
}
