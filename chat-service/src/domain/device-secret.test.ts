import { describe, expect, it } from 'vitest';
import { DeviceSecret } from '@cipherchat/contracts';
import { deviceSecretMatches, digestDeviceSecret, newDeviceSecret } from './device-secret.js';

describe('device secret', () => {
  it('when a secret is minted, then it is 32 random bytes in base64url and only its SHA-256 digest is kept', () => {
    const a = newDeviceSecret();
    const b = newDeviceSecret();
    expect(Buffer.from(a.secret, 'base64url')).toHaveLength(32);
    expect(DeviceSecret.safeParse(a.secret).success).toBe(true);
    expect(a.secret).not.toBe(b.secret);
    expect(a.digest).toEqual(digestDeviceSecret(a.secret));
    expect(a.digest).toHaveLength(32);
    expect(a.digest.toString('utf8')).not.toContain(a.secret);
  });

  it('when the presented secret is the minted one, then it matches; a wrong, empty or missing one does not', () => {
    const { secret, digest } = newDeviceSecret();
    expect(deviceSecretMatches(digest, secret)).toBe(true);
    expect(deviceSecretMatches(digest, newDeviceSecret().secret)).toBe(false);
    expect(deviceSecretMatches(digest, `${secret}x`)).toBe(false);
    expect(deviceSecretMatches(digest, '')).toBe(false);
    expect(deviceSecretMatches(digest, undefined)).toBe(false);
  });

  it('when the device has no stored digest (registered before device secrets), then nothing matches', () => {
    expect(deviceSecretMatches(null, newDeviceSecret().secret)).toBe(false);
    expect(deviceSecretMatches(null, '')).toBe(false);
  });
});
