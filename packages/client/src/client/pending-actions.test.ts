import { describe, expect, it } from 'vitest';
import { FORMAT_VERSION } from '../messages/message.schema.js';
import { randomId } from '../protocol/bytes.js';
import { createMemoryStore } from '../storage/kv-protocol-store.js';
import {
  dropPendingFor,
  META_PENDING_ACTIONS,
  PENDING_LIMITS,
  prunePending,
  readPending,
  type PendingAction,
} from './pending-actions.js';

const NOW = 1_800_000_000_000;

function entry(
  from: string,
  kind: 'reaction' | 'edit' | 'delete',
  over: { conversationId?: string; receivedAt?: number; text?: string; target?: string } = {},
): PendingAction {
  const target = over.target ?? randomId();
  return {
    fromUserId: from,
    receivedAt: over.receivedAt ?? NOW,
    plain: {
      v: FORMAT_VERSION,
      kind,
      id: randomId(),
      conversationId: over.conversationId ?? `conv-${from}`,
      sentAt: NOW,
      ...(kind === 'reaction' ? { reaction: { messageId: target, emoji: '👍' } } : {}),
      ...(kind === 'edit' ? { edit: { messageId: target, text: over.text ?? 'new' } } : {}),
      ...(kind === 'delete' ? { delete: { messageIds: [target] } } : {}),
    },
  };
}

describe('pending list limits', () => {
  it('when one sender sends more than the per-sender cap, then only their newest are kept and the others are untouched', () => {
    const others = [entry('alice', 'reaction'), entry('bob', 'edit')];
    const flood = Array.from({ length: 120 }, () => entry('mallory', 'reaction'));
    const kept = prunePending([...others, ...flood], NOW);
    expect(kept.filter((p) => p.fromUserId === 'mallory')).toEqual(
      flood.slice(-PENDING_LIMITS.perSender),
    );
    expect(kept.slice(0, 2)).toEqual(others);
  });

  it('when a sender is at the cap, then their deletes are kept ahead of their reactions', () => {
    const del = entry('mallory', 'delete');
    const flood = Array.from({ length: 80 }, () => entry('mallory', 'reaction'));
    const kept = prunePending([del, ...flood], NOW);
    expect(kept).toHaveLength(PENDING_LIMITS.perSender);
    expect(kept[0]).toEqual(del);
  });

  it('when many senders fill one conversation, then it keeps at most the per-conversation cap', () => {
    const list = Array.from({ length: 300 }, (_, i) =>
      entry(`u${i}`, 'reaction', { conversationId: 'g' }),
    );
    expect(prunePending(list, NOW)).toHaveLength(PENDING_LIMITS.perConversation);
  });

  it('when entries are older than 24 hours, then they are dropped; old stored entries without a time start now', () => {
    const old = entry('alice', 'delete', { receivedAt: NOW - PENDING_LIMITS.maxAgeMs - 1 });
    const fresh = entry('alice', 'delete');
    const { receivedAt: _r, ...legacy } = entry('bob', 'edit');
    expect(prunePending([old, fresh, legacy], NOW)).toEqual([
      fresh,
      { ...legacy, receivedAt: NOW },
    ]);
  });

  it('when big edits would pass the byte cap, then the list stays under it', () => {
    const big = 'x'.repeat(60_000);
    const list = Array.from({ length: 40 }, (_, i) => entry(`u${i}`, 'edit', { text: big }));
    const kept = prunePending(list, NOW);
    expect(JSON.stringify(kept).length).toBeLessThanOrEqual(PENDING_LIMITS.bytes + kept.length);
    expect(kept.length).toBeLessThan(40);
  });

  it('when a target is deleted for me or expired, then its pending entries are dropped', async () => {
    const store = createMemoryStore();
    const gone = randomId();
    const a = entry('alice', 'reaction', { target: gone });
    const b = entry('alice', 'edit', { target: randomId() });
    await store.setMeta(META_PENDING_ACTIONS, [a, b]);
    await dropPendingFor(store, [gone]);
    expect(await readPending(store)).toEqual([b]);
  });
});
