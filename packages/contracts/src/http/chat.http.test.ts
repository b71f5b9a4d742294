import { describe, expect, it } from 'vitest';
import { MessageNew, StaleDevicesDetails } from '../socket.js';
import { KeyBundleResult, PreKeyCountResult, UserDevicesResult } from './chat.http.js';

// The SDK parses every answer with these schemas and treats the server as hostile: an answer
// that could steer its Signal store (a device id it would never assign, an empty key) is refused.
const key = Buffer.alloc(33, 5).toString('base64');
const signature = Buffer.alloc(64, 7).toString('base64');
const bundle = (over: Record<string, unknown> = {}) => ({
  identityKey: key,
  devices: [
    {
      deviceId: 1,
      registrationId: 77,
      signedPreKey: { keyId: 1, publicKey: key, signature },
      preKey: { keyId: 3, publicKey: key },
      ...over,
    },
  ],
});

describe('chat answers as the SDK reads them', () => {
  it('when a bundle is well formed, then it parses', () => {
    expect(KeyBundleResult.safeParse(bundle()).success).toBe(true);
  });

  it('when a bundle names device 0 or a negative device, then it is refused', () => {
    expect(KeyBundleResult.safeParse(bundle({ deviceId: 0 })).success).toBe(false);
    expect(KeyBundleResult.safeParse(bundle({ deviceId: -2 })).success).toBe(false);
    expect(UserDevicesResult.safeParse({ deviceIds: [1, 0] }).success).toBe(false);
  });

  it('when a bundle carries an empty or oversized key or signature, then it is refused', () => {
    expect(KeyBundleResult.safeParse({ ...bundle(), identityKey: '' }).success).toBe(false);
    expect(
      KeyBundleResult.safeParse(
        bundle({ signedPreKey: { keyId: 1, publicKey: key, signature: '' } }),
      ).success,
    ).toBe(false);
    expect(
      KeyBundleResult.safeParse(
        bundle({ preKey: { keyId: 3, publicKey: Buffer.alloc(400).toString('base64') } }),
      ).success,
    ).toBe(false);
  });

  it('when a count is negative, then it is refused', () => {
    expect(PreKeyCountResult.safeParse({ count: -1 }).success).toBe(false);
  });

  it('when an event names sender device 0, then it is refused', () => {
    const base = {
      messageId: crypto.randomUUID(),
      conversationId: crypto.randomUUID(),
      senderUserId: crypto.randomUUID(),
      type: 1,
      body: 'AA==',
      serverTimestamp: new Date().toISOString(),
    };
    expect(MessageNew.safeParse({ ...base, senderDeviceId: 0 }).success).toBe(false);
    expect(
      StaleDevicesDetails.safeParse({
        missing: [{ userId: crypto.randomUUID(), deviceId: 0 }],
        extra: [],
      }).success,
    ).toBe(false);
  });
});
