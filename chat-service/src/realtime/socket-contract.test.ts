import { randomUUID } from 'node:crypto';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  MessageAckPayload,
  MessageSendPayload,
  PrivacyChangedEvent,
  SocketAuth,
  UploadKeysBody,
  type Ack,
  type ClientToServerEvents,
  type MessageSendResult,
  type PrivacySettings,
  type ServerToClientEvents,
} from '@cipherchat/contracts';

const valid = () => ({
  conversationId: randomUUID(),
  clientMessageId: 'c-1_A',
  envelopes: [{ userId: randomUUID(), deviceId: 1, type: 3, body: Buffer.from('x').toString('base64') }],
});

describe('socket contract', () => {
  it('when a send payload is well formed, then it parses; unknown fields (a forged sender) are refused', () => {
    expect(MessageSendPayload.safeParse(valid()).success).toBe(true);
    expect(MessageSendPayload.safeParse({ ...valid(), senderUserId: randomUUID() }).success).toBe(false);
    expect(MessageSendPayload.safeParse({ ...valid(), envelopes: [] }).success).toBe(false);
    const bad = valid();
    bad.envelopes[0]!.body = 'not base64!';
    expect(MessageSendPayload.safeParse(bad).success).toBe(false);
  });

  it('when acks or handshakes are malformed, then they are refused', () => {
    expect(MessageAckPayload.safeParse({ messageIds: [] }).success).toBe(false);
    expect(MessageAckPayload.safeParse({ messageIds: ['x'] }).success).toBe(false);
    expect(SocketAuth.safeParse({ deviceId: '2', deviceSecret: 's' }).data?.deviceId).toBe(2);
    expect(SocketAuth.safeParse({ deviceId: 0, deviceSecret: 's' }).success).toBe(false);
    expect(SocketAuth.safeParse({ deviceId: 2 }).success).toBe(false);
  });

  it('when a key upload has more than 100 prekeys, then it is refused', () => {
    const key = Buffer.alloc(33, 5).toString('base64');
    const body = { registrationId: 1, identityKey: key, signedPreKey: { keyId: 1, publicKey: key, signature: Buffer.alloc(64).toString('base64') } };
    expect(UploadKeysBody.safeParse({ ...body, preKeys: Array.from({ length: 100 }, (_, i) => ({ keyId: i, publicKey: key })) }).success).toBe(true);
    expect(UploadKeysBody.safeParse({ ...body, preKeys: Array.from({ length: 101 }, (_, i) => ({ keyId: i, publicKey: key })) }).success).toBe(false);
  });

  it('when typed, then message:send acks carry the message id or an error', () => {
    type SendAck = Parameters<Parameters<ClientToServerEvents['message:send']>[1]>[0];
    expectTypeOf<SendAck>().toEqualTypeOf<Ack<MessageSendResult>>();
  });

  it('when privacy:changed carries the whole settings, then it parses; a partial or padded one is refused', () => {
    type Changed = Parameters<ServerToClientEvents['privacy:changed']>[0];
    expectTypeOf<Changed>().toEqualTypeOf<PrivacySettings>();
    const settings = { readReceipts: false, typing: true, lastSeen: true };
    expect(PrivacyChangedEvent.safeParse(settings).success).toBe(true);
    expect(PrivacyChangedEvent.safeParse({ readReceipts: false }).success).toBe(false);
    expect(PrivacyChangedEvent.safeParse({ ...settings, extra: 1 }).success).toBe(false);
  });
});
