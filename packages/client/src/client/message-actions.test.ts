import { describe, expect, it } from 'vitest';
import {
  FORMAT_VERSION,
  type PlaintextMessage,
  type StoredMessage,
} from '../messages/message.schema.js';
import { randomId } from '../protocol/bytes.js';
import { createMemoryStore } from '../storage/kv-protocol-store.js';
import type { ApiClient } from '../transport/api-client.js';
import type { ChatClientEvents } from './client-types.js';
import { applyAction, EDIT_WINDOW_MS, isValidReaction } from './message-action-rules.js';
import { MessageActions, META_PENDING_ACTIONS } from './message-actions.js';
import type { Session, SessionSlot } from './session.js';

const ALICE = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222';
const CONV = 'conv-1';

function message(over: Partial<StoredMessage> = {}): StoredMessage {
  return {
    id: randomId(),
    conversationId: CONV,
    senderUserId: ALICE,
    senderDeviceId: 1,
    direction: 'in',
    kind: 'text',
    text: 'hello',
    sentAt: 1_000_000,
    status: 'received',
    ...over,
  };
}

function control(
  kind: 'reaction' | 'edit' | 'delete',
  sentAt: number,
  body: Partial<PlaintextMessage>,
): PlaintextMessage {
  return { v: FORMAT_VERSION, kind, id: randomId(), conversationId: CONV, sentAt, ...body };
}

/** A MessageActions on an in-memory store, logged in as Bob, with the queue and events recorded. */
function bobsDevice() {
  const store = createMemoryStore();
  const session = {
    current: { user: { id: BOB }, store } as unknown as Session,
    require: () => session.current,
  } as unknown as SessionSlot;
  const sent: PlaintextMessage[] = [];
  const events: Array<[keyof ChatClientEvents, unknown]> = [];
  const actions = new MessageActions({
    api: {} as ApiClient,
    session,
    queue: { sendControl: (p: PlaintextMessage) => Promise.resolve(void sent.push(p)) },
    emit: (event, ...args) => void events.push([event, args[0]]),
  });
  return { store, actions, sent, events };
}

describe('reaction validation', () => {
  it('when a reaction is an emoji (sequences and flags too), then it is accepted; plain text, empty, long or control characters are not', () => {
    for (const ok of ['👍', '❤️', '👩‍👩‍👧', '🇫🇷', '🙏🏽']) expect(isValidReaction(ok)).toBe(true);
    for (const bad of ['', 'ok', '+1', ':)', '👍\n', 'x'.repeat(33), '👍'.repeat(17)])
      expect(isValidReaction(bad)).toBe(false);
  });
});

describe('receive rules', () => {
  it("when an edit comes from someone else, before the original or more than 24 h after it, then it is refused; the author's edit within 24 h keeps the history, and the same edit twice changes nothing", () => {
    const m = message();
    const edit = (at: number) => control('edit', at, { edit: { messageId: m.id, text: 'new' } });
    expect(applyAction(m, { userId: BOB }, edit(m.sentAt + 10))).toBeUndefined();
    expect(applyAction(m, { userId: ALICE }, edit(m.sentAt - 1))).toBeUndefined();
    expect(applyAction(m, { userId: ALICE }, edit(m.sentAt + EDIT_WINDOW_MS + 1))).toBeUndefined();
    const e = edit(m.sentAt + EDIT_WINDOW_MS);
    const once = applyAction(m, { userId: ALICE }, e);
    expect(once).toMatchObject({
      text: 'new',
      editedAt: e.sentAt,
      edits: [{ text: 'hello', at: m.sentAt }],
    });
    expect(once && applyAction(once, { userId: ALICE }, e)).toBeUndefined();
  });

  it('when a message is deleted, then the tombstone keeps no content and takes no more reactions or edits; a target in another conversation is left alone', () => {
    const m = message({
      reactions: { [BOB]: { emoji: '👍', at: 5 } },
      mentions: [BOB],
      raw: '{"secret":1}',
      unknownFields: ['x'],
    });
    const tomb = applyAction(
      m,
      { userId: ALICE },
      control('delete', m.sentAt + 1, { delete: { messageIds: [m.id] } }),
    );
    const { text: _t, reactions: _r, mentions: _m, raw: _raw, unknownFields: _u, ...kept } = m;
    expect(tomb).toEqual({ ...kept, deletedAt: m.sentAt + 1 });
    expect(
      tomb &&
        applyAction(
          tomb,
          { userId: BOB },
          control('reaction', m.sentAt + 2, { reaction: { messageId: m.id, emoji: '😮' } }),
        ),
    ).toBeUndefined();
    const elsewhere = control('reaction', m.sentAt + 2, {
      reaction: { messageId: m.id, emoji: '😮' },
      conversationId: 'other',
    });
    expect(applyAction(m, { userId: BOB }, elsewhere)).toBeUndefined();
  });

  it('when reactions arrive out of order, then the newest per person wins and null removes it', () => {
    const m = message();
    const r = (at: number, emoji: string | null) =>
      control('reaction', at, { reaction: { messageId: m.id, emoji } });
    const a = applyAction(m, { userId: BOB }, r(20, '😂')) as StoredMessage;
    expect(applyAction(a, { userId: BOB }, r(10, '👍'))).toBeUndefined();
    const b = applyAction(a, { userId: ALICE }, r(30, '👍')) as StoredMessage;
    expect(b.reactions).toEqual({
      [BOB]: { emoji: '😂', at: 20 },
      [ALICE]: { emoji: '👍', at: 30 },
    });
    const c = applyAction(b, { userId: BOB }, r(40, null)) as StoredMessage;
    expect(c.reactions).toEqual({ [ALICE]: { emoji: '👍', at: 30 } });
  });
});

describe('MessageActions', () => {
  it('when a reaction and an edit arrive before their target, then they wait in the store and are applied when it arrives', async () => {
    const { store, actions } = bobsDevice();
    const m = message();
    await actions.receive(
      { senderUserId: BOB },
      control('reaction', m.sentAt + 1, { reaction: { messageId: m.id, emoji: '🙏' } }),
    );
    await actions.receive(
      { senderUserId: ALICE },
      control('edit', m.sentAt + 2, { edit: { messageId: m.id, text: 'hello again' } }),
    );
    expect(await store.getMeta(META_PENDING_ACTIONS)).toHaveLength(2);
    const applied = await actions.arrived(m);
    expect(applied).toMatchObject({
      text: 'hello again',
      reactions: { [BOB]: { emoji: '🙏' } },
      edits: [{ text: 'hello' }],
    });
    expect(await store.getMeta(META_PENDING_ACTIONS)).toEqual([]);
  });

  it("when I react, edit my message or delete it for me, then the change is stored and announced first and the control is queued; someone else's message or a sending one is refused", async () => {
    const { store, actions, sent, events } = bobsDevice();
    const theirs = message();
    const mine = message({
      senderUserId: BOB,
      direction: 'out',
      status: 'sent',
      sentAt: Date.now(),
    });
    await store.putMessage(theirs);
    await store.putMessage(mine);
    await actions.react(theirs.id, '❤️');
    expect((await store.getMessage(theirs.id))?.reactions?.[BOB]?.emoji).toBe('❤️');
    expect(sent.at(-1)).toMatchObject({
      kind: 'reaction',
      reaction: { messageId: theirs.id, emoji: '❤️' },
      fallback: 'Reacted ❤️ to a message',
    });
    await expect(actions.edit(theirs.id, 'mine now')).rejects.toMatchObject({ code: 'not_author' });
    await expect(actions.react(theirs.id, 'ok')).rejects.toMatchObject({
      code: 'invalid_reaction',
    });
    await actions.edit(mine.id, 'better words');
    expect(sent.at(-1)).toMatchObject({
      kind: 'edit',
      edit: { messageId: mine.id, text: 'better words' },
    });
    await store.putMessage({ ...mine, id: randomId(), status: 'sending' });
    const queued = (await store.listMessages(CONV)).find((m) => m.status === 'sending');
    await expect(actions.deleteForEveryone(queued?.id ?? '')).rejects.toMatchObject({
      code: 'not_sent',
    });
    await actions.deleteForMe(theirs.id);
    expect(await store.getMessage(theirs.id)).toBeUndefined();
    expect(events.map(([e]) => e)).toEqual(['messageChanged', 'messageChanged', 'messageRemoved']);
    expect(sent).toHaveLength(2);
  });
});
