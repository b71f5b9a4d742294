/**
 * Integrity of quotes and pending actions: deleted or expired words do not survive in replies,
 * a quote of a message I have shows what it really says, and a flood of pending actions from one
 * contact cannot push out another's pending delete.
 */
import { describe, expect, it } from 'vitest';
import {
  FORMAT_VERSION,
  type PlaintextMessage,
  type StoredMessage,
} from '../messages/message.schema.js';
import { randomId } from '../protocol/bytes.js';
import { localSession, storedText } from '../testing/local-session.js';
import type { ApiClient } from '../transport/api-client.js';
import type { EmitFn } from './client-types.js';
import type { Conversations } from './conversations.js';
import type { DeviceKeys } from './device-keys.js';
import { Disappearing } from './disappearing.js';
import type { GroupViews } from './group-views.js';
import type { Groups } from './groups.js';
import { MessageActions } from './message-actions.js';
import type { OutgoingQueue } from './outgoing-queue.js';
import { checkedQuote } from './replies.js';

const ME = '00000000-0000-4000-8000-000000000001';
const ALICE = '00000000-0000-4000-8000-000000000002';
const MALLORY = '00000000-0000-4000-8000-000000000003';
const CAROL = '00000000-0000-4000-8000-000000000004';
const DIRECT = 'direct-1';
const GROUP = 'group-1';

function device() {
  const { store, session } = localSession(ME);
  const changed: StoredMessage[] = [];
  const emit = ((event: string, m: StoredMessage) => {
    if (event === 'messageChanged') changed.push(m);
  }) as EmitFn;
  const queue = { sendControl: () => Promise.resolve() };
  const actions = new MessageActions({ api: {} as ApiClient, session, queue, emit });
  return { store, session, emit, changed, actions };
}

function text(over: Partial<StoredMessage> = {}): StoredMessage {
  return storedText({ conversationId: GROUP, senderUserId: ALICE, ...over });
}

function deleteOf(ids: string[], sentAt = Date.now()): PlaintextMessage {
  return {
    v: FORMAT_VERSION,
    kind: 'delete',
    id: randomId(),
    conversationId: GROUP,
    sentAt,
    delete: { messageIds: ids },
  };
}

describe('quotes of messages deleted for everyone or expired', () => {
  it('when Alice deletes her message for everyone, then a reply quoting it no longer holds its text on my device', async () => {
    const d = device();
    const original = text({ text: 'my salary is 123k, keep it quiet' });
    await d.store.putMessage(original);
    const quote = await checkedQuote(d.store, GROUP, {
      id: original.id,
      authorUserId: ALICE,
      excerpt: 'my salary is 123k, keep it quiet',
    });
    const reply = text({ senderUserId: CAROL, text: 'wow', replyTo: quote });
    await d.store.putMessage(reply);
    await d.actions.receive({ senderUserId: ALICE }, deleteOf([original.id]));
    expect((await d.store.getMessage(original.id))?.text).toBeUndefined();
    const stored = await d.store.getMessage(reply.id);
    expect(stored?.replyTo).toEqual({ id: original.id, authorUserId: ALICE, excerpt: '' });
    expect(stored?.text).toBe('wow');
    expect(d.changed.map((m) => m.id)).toContain(reply.id);
  });

  it('when a reply came before its original and the original arrives with a pending delete, then the reply loses the quoted words', async () => {
    const d = device();
    const original = text({ text: 'oops, wrong chat' });
    const reply = text({
      senderUserId: CAROL,
      replyTo: { id: original.id, authorUserId: ALICE, excerpt: 'oops, wrong chat' },
    });
    await d.store.putMessage(reply);
    await d.actions.receive({ senderUserId: ALICE }, deleteOf([original.id]));
    const shown = await d.actions.arrived(original);
    expect(shown.deletedAt).toBeDefined();
    expect((await d.store.getMessage(reply.id))?.replyTo?.excerpt).toBe('');
  });

  it('when a quoted disappearing message expires, then the reply quoting it keeps no excerpt', async () => {
    const d = device();
    let now = Date.now();
    const disappearing = new Disappearing({
      api: {} as ApiClient,
      session: d.session,
      conversations: {} as Conversations,
      deviceKeys: {} as DeviceKeys,
      views: {} as GroupViews,
      groups: {} as Groups,
      queue: {} as OutgoingQueue,
      emit: d.emit,
      now: () => now,
    });
    const original = text({ text: 'door code 4711', expiresInS: 300, expiresAt: now + 300_000 });
    await d.store.putMessage(original);
    const reply = text({
      senderUserId: CAROL,
      replyTo: await checkedQuote(d.store, GROUP, {
        id: original.id,
        authorUserId: ALICE,
        excerpt: 'door code 4711',
      }),
    });
    await d.store.putMessage(reply);
    await disappearing.track(original);
    now += 301_000;
    await disappearing.sweep();
    disappearing.stop();
    expect(await d.store.getMessage(original.id)).toBeUndefined();
    expect((await d.store.getMessage(reply.id))?.replyTo?.excerpt).toBe('');
  });
});

describe('quotes checked against my copy', () => {
  it('when a reply quotes the id of a group event I have with words its author never wrote, then the fabricated excerpt is not kept', async () => {
    const d = device();
    const event: StoredMessage = {
      ...text(),
      kind: 'event',
      text: undefined,
      event: { type: 'renamed', actorUserId: ALICE, title: 'Plans' },
    };
    await d.store.putMessage(event);
    const quote = await checkedQuote(d.store, GROUP, {
      id: event.id,
      authorUserId: CAROL,
      excerpt: 'I will pay everyone back on Friday',
    });
    expect(quote).toEqual({ id: event.id, authorUserId: ALICE, excerpt: '' });
  });

  it('when a reply quotes a message of another conversation, then its words are not shown here', async () => {
    const d = device();
    const elsewhere = text({ conversationId: DIRECT, text: 'private to our direct chat' });
    await d.store.putMessage(elsewhere);
    const quote = await checkedQuote(d.store, GROUP, {
      id: elsewhere.id,
      authorUserId: ALICE,
      excerpt: 'private to our direct chat',
    });
    expect(quote.excerpt).toBe('');
  });

  it('when a reply quotes a text I have with other words, then my copy wins; a quote I cannot check stays as sent', async () => {
    const d = device();
    const original = text({ text: 'see you at 8' });
    await d.store.putMessage(original);
    expect(
      await checkedQuote(d.store, GROUP, {
        id: original.id,
        authorUserId: CAROL,
        excerpt: 'see you never',
      }),
    ).toEqual({ id: original.id, authorUserId: ALICE, excerpt: 'see you at 8' });
    const unknown = { id: randomId(), authorUserId: ALICE, excerpt: 'not here yet' };
    expect(await checkedQuote(d.store, GROUP, unknown)).toEqual(unknown);
  });
});

describe('pending reactions, edits and deletes', () => {
  it('when a contact floods me with reactions to messages that never come, then a pending delete from a group still applies when its message arrives', async () => {
    const d = device();
    const original = text({ text: 'sent by mistake' });
    // The (hostile) server hands me Alice's delete before her message.
    await d.actions.receive(
      { senderUserId: ALICE },
      deleteOf([original.id], original.sentAt + 1000),
    );
    // Mallory, in a direct chat of her own with me, sends 500 reactions to ids that never come.
    for (let i = 0; i < 500; i += 1) {
      await d.actions.receive(
        { senderUserId: MALLORY },
        {
          v: FORMAT_VERSION,
          kind: 'reaction',
          id: randomId(),
          conversationId: DIRECT,
          sentAt: Date.now(),
          reaction: { messageId: randomId(), emoji: '👍' },
        },
      );
    }
    const shown = await d.actions.arrived(original);
    expect(shown.deletedAt).toBeDefined();
    expect(shown.text).toBeUndefined();
  });

  it('when a pending delete waited more than 24 hours, then it no longer applies', async () => {
    const d = device();
    const original = text({ text: 'late' });
    await d.actions.receive(
      { senderUserId: ALICE },
      deleteOf([original.id], original.sentAt + 1000),
    );
    const later = Date.now() + 25 * 60 * 60 * 1000;
    d.actions.now = () => later;
    const shown = await d.actions.arrived(original);
    expect(shown.deletedAt).toBeUndefined();
    expect(shown.text).toBe('late');
  });
});
