import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../App.js';
import type { MessageView } from '../state/index.js';
import { AppProvider } from '../state/store.js';
import { alice, bob, directConversation, stubApi } from '../testing/stub-api.js';
import { button, click, render, settle, typeInto } from '../testing/render.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

const conversation = directConversation('00000000-0000-4000-8000-0000000000c3');
const now = Date.now();
const base = { conversationId: conversation.id, kind: 'text' as const };
const mine: MessageView = {
  ...base,
  id: 'mine',
  senderUserId: alice.id,
  direction: 'out',
  text: 'see you at 5',
  sentAt: now - 60_000,
  status: 'read',
};
const old: MessageView = {
  ...base,
  id: 'old',
  senderUserId: alice.id,
  direction: 'out',
  text: 'yesterday',
  sentAt: now - 25 * 3_600_000,
  status: 'read',
};
const theirs: MessageView = {
  ...base,
  id: 'theirs',
  senderUserId: bob.id,
  direction: 'in',
  text: 'ok, 6 then',
  sentAt: now - 30_000,
  status: 'received',
  reactions: [
    { userId: bob.id, emoji: '👍' },
    { userId: alice.id, emoji: '❤️' },
  ],
  editedAt: now - 20_000,
  edits: [{ text: 'ok, 5 then', at: now - 30_000 }],
};
const gone: MessageView = {
  ...base,
  id: 'gone',
  senderUserId: bob.id,
  direction: 'in',
  sentAt: now - 10_000,
  status: 'received',
  deletedAt: now - 5_000,
};

async function openChat(overrides: Parameters<typeof stubApi>[0] = {}) {
  const api = stubApi({
    resume: async () => ({ kind: 'active', me: alice }),
    listConversations: async () => [conversation],
    history: async () => [old, mine, theirs, gone],
    ...overrides,
  });
  const { container, unmount } = await render(
    <AppProvider api={api}>
      <App />
    </AppProvider>,
  );
  cleanup = unmount;
  await settle();
  await click(container.querySelector('.conversation-item')!);
  await settle();
  const bubble = (id: string) =>
    container.querySelector<HTMLElement>(`li[data-message-id="${id}"]`)!;
  const menuOf = async (id: string) => {
    await click(bubble(id).querySelector('.message-actions-trigger')!);
    return bubble(id).querySelector<HTMLElement>('[role="menu"]')!;
  };
  return { api, container, bubble, menuOf };
}

describe('reactions, edits and deletes in the chat', () => {
  it('when a message has reactions, an edit and a tombstone, then chips show counts and who, "edited" opens the history, and the tombstone replaces the text', async () => {
    const { bubble } = await openChat();
    const chips = [...bubble('theirs').querySelectorAll('.reaction-chip')];
    expect(chips.map((c) => c.getAttribute('aria-label'))).toEqual([
      '👍 1: Bob',
      '❤️ 1: You (click to remove yours)',
    ]);
    expect(chips[1]?.getAttribute('aria-pressed')).toBe('true');
    await click(button(bubble('theirs'), 'edited'));
    expect(bubble('theirs').querySelector('[aria-label="Edit history"]')?.textContent).toContain(
      'ok, 5 then',
    );
    expect(bubble('gone').textContent).toContain('This message was deleted');
    expect(bubble('gone').querySelector('.reactions')).toBeNull();
  });

  it('when I pick a reaction, click my own chip, or type any emoji, then the API is asked and the chip follows its answer', async () => {
    const reactToMessage = vi.fn(async (id: string, emoji: string | null) => ({
      ...theirs,
      id,
      reactions: [{ userId: bob.id, emoji: '👍' }, ...(emoji ? [{ userId: alice.id, emoji }] : [])],
    }));
    const { bubble, menuOf } = await openChat({ reactToMessage });
    const menu = await menuOf('theirs');
    // Keyboard: the first item has focus; the menu offers no edit or delete for everyone on Bob's message.
    expect(document.activeElement?.getAttribute('aria-label')).toBe('React 👍');
    expect([...menu.querySelectorAll('[role="menuitem"]')].map((b) => b.textContent)).toEqual([
      '👍',
      '❤️',
      '😂',
      '😮',
      '😢',
      '🙏',
      'React',
      'Delete for me',
    ]);
    await click(menu.querySelector('[aria-label="React 😂"]')!);
    await settle();
    expect(reactToMessage).toHaveBeenLastCalledWith('theirs', '😂');
    expect(bubble('theirs').querySelector('.reaction-mine')?.textContent).toContain('😂');
    await click(bubble('theirs').querySelector('.reaction-mine')!);
    await settle();
    expect(reactToMessage).toHaveBeenLastCalledWith('theirs', null);
    expect(bubble('theirs').querySelector('.reaction-mine')).toBeNull();
    const again = await menuOf('theirs');
    await typeInto(again.querySelector('input[aria-label="Any emoji"]')!, '🦀');
    await click(button(again, 'React'));
    await settle();
    expect(reactToMessage).toHaveBeenLastCalledWith('theirs', '🦀');
  });

  it('when I edit my message, then Enter saves through the API, Escape cancels, and an old message offers no edit', async () => {
    const editMessage = vi.fn(async (id: string, text: string) => ({
      ...mine,
      id,
      text,
      editedAt: Date.now(),
      edits: [{ text: mine.text ?? '', at: mine.sentAt }],
    }));
    const { bubble, menuOf } = await openChat({ editMessage });
    expect((await menuOf('old')).textContent).not.toContain('Edit');
    await click(button(await menuOf('mine'), 'Edit'));
    const editor = bubble('mine').querySelector<HTMLTextAreaElement>(
      'textarea[aria-label="Edit message"]',
    )!;
    expect(document.activeElement).toBe(editor);
    await typeInto(editor, 'see you at 6');
    await act(
      async () =>
        void editor.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true })),
    );
    expect(bubble('mine').querySelector('textarea')).toBeNull();
    expect(editMessage).not.toHaveBeenCalled();
    await click(button(await menuOf('mine'), 'Edit'));
    const editor2 = bubble('mine').querySelector<HTMLTextAreaElement>('textarea')!;
    await typeInto(editor2, 'see you at 6');
    await act(
      async () =>
        void editor2.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true })),
    );
    await settle();
    expect(editMessage).toHaveBeenCalledWith('mine', 'see you at 6');
    expect(bubble('mine').querySelector('.message-text')?.textContent).toBe('see you at 6');
    expect(button(bubble('mine'), 'edited')).toBeDefined();
  });

  it('when I delete for everyone or for me, then a confirmation comes first; the tombstone shows, or the message leaves this browser (also when the SDK says so)', async () => {
    const deleteForEveryone = vi.fn(async (id: string) => ({
      ...mine,
      id,
      text: undefined,
      deletedAt: Date.now(),
    }));
    const deleteForMe = vi.fn(async () => undefined);
    const { api, container, bubble, menuOf } = await openChat({ deleteForEveryone, deleteForMe });
    await click(button(await menuOf('mine'), 'Delete for everyone'));
    expect(container.querySelector('dialog')?.textContent).toContain('Delete for everyone?');
    await click(button(container.querySelector('dialog')!, 'Cancel'));
    expect(deleteForEveryone).not.toHaveBeenCalled();
    await click(button(await menuOf('mine'), 'Delete for everyone'));
    await click(button(container.querySelector('dialog')!, 'Delete'));
    await settle();
    expect(deleteForEveryone).toHaveBeenCalledWith('mine');
    expect(bubble('mine').textContent).toContain('This message was deleted');
    expect(bubble('mine').textContent).not.toContain('see you at 5');

    await click(button(await menuOf('theirs'), 'Delete for me'));
    expect(container.querySelector('dialog')?.textContent).toContain('Delete for me?');
    await click(button(container.querySelector('dialog')!, 'Delete'));
    await settle();
    expect(deleteForMe).toHaveBeenCalledWith('theirs');
    expect(bubble('theirs')).toBeNull();

    await act(async () =>
      api.emit({ type: 'messageRemoved', conversationId: conversation.id, messageId: 'old' }),
    );
    expect(bubble('old')).toBeNull();
  });
});
