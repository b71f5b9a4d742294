/** The upgrade re-read of kept messages whose kind this version now knows. */
import { describe, expect, it } from 'vitest';
import {
  FORMAT_VERSION,
  type PlaintextMessage,
  type StoredMessage,
} from '../messages/message.schema.js';
import { randomId } from '../protocol/bytes.js';
import { createMemoryStore } from '../storage/kv-protocol-store.js';
import type { EmitFn } from './client-types.js';
import type { DeviceKeys } from './device-keys.js';
import { addKept, keptIds } from './kept-messages.js';
import { MessageReceiver } from './message-receiver.js';
import type { Realtime } from './realtime.js';
import { SessionSlot, type Session } from './session.js';

const ME = '00000000-0000-4000-8000-000000000001';
const ALICE = '00000000-0000-4000-8000-000000000002';

describe('re-reading kept messages after an upgrade', () => {
  it('when a kept timer message is read again, then a handler that dedupes by id applies it and its placeholder is gone; a failure puts it back', async () => {
    const store = createMemoryStore();
    const session = new SessionSlot();
    session.current = { user: { id: ME }, store } as unknown as Session;
    const applied: string[] = [];
    let fail = true;
    const receiver = new MessageReceiver({
      session,
      realtime: {} as Realtime,
      deviceKeys: {} as DeviceKeys,
      emit: (() => undefined) as EmitFn,
      // Like Disappearing.receive: a control whose client id is in the store was applied already.
      onTimer: async (_env, plain) => {
        if (fail) throw new Error('store busy');
        if (await store.getMessage(plain.id)) return;
        applied.push(plain.id);
        await store.putMessage({
          ...placeholder,
          kind: 'event',
          raw: undefined,
          unsupported: undefined,
          event: { type: 'timer', actorUserId: ALICE, timerS: 3600 },
        });
      },
    });
    const plain: PlaintextMessage = {
      v: FORMAT_VERSION,
      kind: 'timer',
      id: randomId(),
      conversationId: 'direct-1',
      sentAt: Date.now(),
      timer: { seconds: 3600 },
    };
    // Kept by an older version that did not know the kind.
    const placeholder: StoredMessage = {
      id: plain.id,
      conversationId: 'direct-1',
      senderUserId: ALICE,
      senderDeviceId: 1,
      direction: 'in',
      kind: 'unsupported',
      unsupported: { kind: 'timer' },
      raw: JSON.stringify(plain),
      sentAt: plain.sentAt,
      status: 'received',
    };
    await store.putMessage(placeholder);
    await addKept(store, plain.id);

    await expect(receiver.rereadKept()).rejects.toThrow('store busy');
    expect(await store.getMessage(plain.id)).toEqual(placeholder);
    expect(await keptIds(store)).toEqual([plain.id]);

    fail = false;
    expect(await receiver.rereadKept()).toBe(1);
    expect(applied).toEqual([plain.id]);
    const stored = await store.getMessage(plain.id);
    expect(stored?.kind).toBe('event');
    expect(stored?.raw).toBeUndefined();
    expect(await keptIds(store)).toEqual([]);
  });
});
