import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ChatClient } from '../src/client/chat-client.js';
import type { ClientParts } from '../src/client/client-parts.js';
import { EDIT_WINDOW_MS, MessageActionError } from '../src/client/message-action-rules.js';
import {
  FORMAT_VERSION,
  type PlaintextMessage,
  type StoredMessage,
} from '../src/messages/message.schema.js';
import { randomId } from '../src/protocol/bytes.js';
import { ApiError } from '../src/transport/api-error.js';
import { account, messageWith, startStack, type Stack } from './support/stack.js';

/**
 * Reactions, edits and deletes end to end against the real services: they reach every member's
 * devices (one that was offline too), and receivers apply only what the sender may do.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

/** Sends a control plaintext as it is, past the SDK's own checks (what a modified client could send). */
function sendRaw(c: ChatClient, plain: PlaintextMessage): Promise<void> {
  return (c as unknown as { parts: ClientParts }).parts.queue.sendControl(plain);
}

/** A control plaintext of `kind` in `conversationId`. */
function control(
  conversationId: string,
  sentAt: number,
  body: Partial<PlaintextMessage>,
): PlaintextMessage {
  return { v: FORMAT_VERSION, kind: 'edit', id: randomId(), conversationId, sentAt, ...body };
}

/** Waits until a client's stored copy of a message satisfies `check`. */
async function stored(
  c: ChatClient,
  id: string,
  check: (m: StoredMessage | undefined) => void,
): Promise<void> {
  await vi.waitFor(async () => check(await c.store.getMessage(id)), { timeout: 15_000 });
}

async function aliceAndBobOnTwoDevices() {
  const alice = stack.client('alice');
  await alice.signUp(account('alice'));
  const bobCreds = account('bob');
  const bob = stack.client('bob phone');
  await bob.signUp(bobCreds);
  const tablet = stack.client('bob tablet');
  await tablet.logIn({ email: bobCreds.email, password: bobCreds.password });
  const direct = await alice.createConversation({ kind: 'direct', memberIds: [bob.user.id] });
  return { alice, bob, tablet, conversationId: direct.id };
}

describe('reactions, edits and deletes', () => {
  it("when Bob reacts and Alice edits and deletes while Bob's tablet is offline, then every device shows the reaction, the edited text with its history and the tombstone; the deleted attachment is gone from the server", async () => {
    const { alice, bob, tablet, conversationId } = await aliceAndBobOnTwoDevices();
    const onPhone = messageWith(bob, 'lunch at 12?');
    const onTablet = messageWith(tablet, 'lunch at 12?');
    const text = await alice.sendText(conversationId, 'lunch at 12?');
    await onPhone;
    await onTablet;
    const photoOnPhone = bob.next('message', (m) => m.kind === 'attachment');
    const photo = await alice.sendAttachment(
      conversationId,
      new TextEncoder().encode('menu photo bytes'),
      { contentType: 'image/png', fileName: 'menu.png' },
    );
    await photoOnPhone;
    await stored(tablet, photo.id, (m) => expect(m?.attachment?.id).toBe(photo.attachment?.id));

    tablet.disconnect();

    // Bob reacts on his phone; Alice sees it as a change of her message.
    const aliceSeesReaction = alice.next('messageChanged', (m) => m.id === text.id);
    const reacted = await bob.actions.react(text.id, '👍');
    expect(reacted.reactions?.[bob.user.id]?.emoji).toBe('👍');
    expect((await aliceSeesReaction).reactions?.[bob.user.id]?.emoji).toBe('👍');

    // Alice edits; Bob's phone shows the new text, the edited mark and the earlier text.
    const bobSeesEdit = bob.next(
      'messageChanged',
      (m) => m.id === text.id && m.text === 'lunch at 1?',
    );
    const edited = await alice.actions.edit(text.id, 'lunch at 1?');
    expect(edited).toMatchObject({
      text: 'lunch at 1?',
      edits: [{ text: 'lunch at 12?', at: text.sentAt }],
    });
    const seen = await bobSeesEdit;
    expect(seen.editedAt).toBe(edited.editedAt);
    expect(seen.edits).toEqual([{ text: 'lunch at 12?', at: text.sentAt }]);
    expect(seen.reactions?.[bob.user.id]?.emoji).toBe('👍');

    // Alice deletes the photo for everyone: a tombstone everywhere, the blob gone from the server.
    const bobSeesDelete = bob.next('messageChanged', (m) => m.id === photo.id);
    const gone = await alice.actions.deleteForEveryone(photo.id);
    expect(gone.deletedAt).toBeDefined();
    expect(gone.attachment).toBeUndefined();
    const tomb = await bobSeesDelete;
    expect(tomb).toMatchObject({ id: photo.id, kind: 'attachment', deletedAt: gone.deletedAt });
    expect(tomb.attachment).toBeUndefined();
    expect(tomb.text).toBeUndefined();
    const blob = photo.attachment?.id ?? '';
    await expect(bob.api.chat.downloadAttachment(blob)).rejects.toSatisfy(
      (e) => e instanceof ApiError && e.status === 404,
    );

    // The tablet comes back: its mailbox brings the reaction (from Bob's phone), the edit and the delete.
    await tablet.connect();
    await stored(tablet, text.id, (m) => {
      expect(m?.text).toBe('lunch at 1?');
      expect(m?.editedAt).toBe(edited.editedAt);
      expect(m?.edits).toEqual([{ text: 'lunch at 12?', at: text.sentAt }]);
      expect(m?.reactions?.[bob.user.id]?.emoji).toBe('👍');
    });
    await stored(tablet, photo.id, (m) => {
      expect(m?.deletedAt).toBe(gone.deletedAt);
      expect(m?.attachment).toBeUndefined();
    });

    // Bob takes his reaction back on the tablet: the phone and Alice drop it.
    await tablet.actions.react(text.id, null);
    await stored(alice, text.id, (m) => expect(m?.reactions).toBeUndefined());
    await stored(bob, text.id, (m) => expect(m?.reactions).toBeUndefined());

    // Delete for me: gone from this device only.
    await bob.actions.deleteForMe(text.id);
    expect((await bob.history(conversationId)).map((m) => m.id)).not.toContain(text.id);
    expect(await tablet.store.getMessage(text.id)).toBeDefined();
    expect(await alice.store.getMessage(text.id)).toBeDefined();
  });

  it("when Bob tries to edit or delete Alice's message, or Alice edits after 24 h, then her client refuses locally and receivers ignore forged ones", async () => {
    const { alice, bob, tablet, conversationId } = await aliceAndBobOnTwoDevices();
    const got = messageWith(bob, 'original words');
    const original = await alice.sendText(conversationId, 'original words');
    await got;
    await stored(tablet, original.id, (m) => expect(m).toBeDefined());

    // Bob's own SDK refuses; a modified client sends them anyway.
    await expect(bob.actions.edit(original.id, 'words Bob put in')).rejects.toMatchObject({
      code: 'not_author',
    });
    await expect(bob.actions.deleteForEveryone(original.id)).rejects.toMatchObject({
      code: 'not_author',
    });
    await sendRaw(
      bob,
      control(conversationId, Date.now(), {
        kind: 'edit',
        edit: { messageId: original.id, text: 'words Bob put in' },
      }),
    );
    await sendRaw(
      bob,
      control(conversationId, Date.now(), {
        kind: 'delete',
        delete: { messageIds: [original.id] },
      }),
    );
    // Alice's own forgeries: an edit stamped 25 h after the original, and one stamped before it.
    alice.actions.now = () => Date.now() + EDIT_WINDOW_MS + 3_600_000;
    await expect(alice.actions.edit(original.id, 'too late')).rejects.toBeInstanceOf(
      MessageActionError,
    );
    await expect(alice.actions.deleteForEveryone(original.id)).rejects.toMatchObject({
      code: 'too_late',
    });
    alice.actions.now = () => Date.now();
    await sendRaw(
      alice,
      control(conversationId, original.sentAt + EDIT_WINDOW_MS + 60_000, {
        kind: 'edit',
        edit: { messageId: original.id, text: 'too late' },
      }),
    );
    await sendRaw(
      alice,
      control(conversationId, original.sentAt - 60_000, {
        kind: 'delete',
        delete: { messageIds: [original.id] },
      }),
    );
    // Per-sender order: once these markers are in, the forged controls before them were handled.
    const markers = [
      messageWith(alice, 'marker from bob'),
      messageWith(bob, 'marker from alice'),
      messageWith(tablet, 'marker from alice'),
    ];
    await bob.sendText(conversationId, 'marker from bob');
    await alice.sendText(conversationId, 'marker from alice');
    await Promise.all(markers);

    for (const c of [alice, bob, tablet]) {
      const m = await c.store.getMessage(original.id);
      expect(m).toMatchObject({ text: 'original words' });
      expect(m?.editedAt).toBeUndefined();
      expect(m?.deletedAt).toBeUndefined();
    }
    // Bob's refused edit was not applied on his own devices either.
    expect((await tablet.store.getMessage(original.id))?.edits).toBeUndefined();
  });
});
