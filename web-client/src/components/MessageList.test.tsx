import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../App.js';
import type { MessageView } from '../state/index.js';
import { AppProvider } from '../state/store.js';
import { alice, bob, directConversation, stubApi } from '../testing/stub-api.js';
import { button, click, render, settle } from '../testing/render.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

const conversation = directConversation('00000000-0000-4000-8000-0000000000c2');

/** 70 messages of local history, oldest first. */
const all: MessageView[] = Array.from({ length: 70 }, (_, i) => ({
  id: `m${String(i).padStart(3, '0')}`,
  conversationId: conversation.id,
  senderUserId: bob.id,
  direction: 'in',
  kind: 'text',
  text: `message ${i}`,
  sentAt: 1_000 + i,
  status: 'read',
}));

describe('MessageList', () => {
  it('when scrolling back over local history, then older pages load until the start is reached', async () => {
    const history = vi.fn(
      async (_id: string, { before, limit }: { before?: number; limit: number }) => {
        const older = before === undefined ? all : all.filter((m) => m.sentAt < before);
        return older.slice(-limit);
      },
    );
    const api = stubApi({
      resume: async () => ({ kind: 'active', me: alice }),
      listConversations: async () => [conversation],
      history,
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
    const shown = () => container.querySelectorAll('li.message').length;
    expect(shown()).toBe(30);
    await click(button(container, 'Load older messages'));
    await settle();
    expect(shown()).toBe(60);
    await click(button(container, 'Load older messages'));
    await settle();
    expect(shown()).toBe(70);
    expect(container.textContent).toContain('Start of your history on this device');
    expect(container.querySelector('li.message')?.textContent).toContain('message 0');
  });
});

describe('a group chat', () => {
  it('when the history has membership events and the server lists a stranger, then the chat shows system lines and the warning', async () => {
    const group = {
      ...conversation,
      id: '00000000-0000-4000-8000-0000000000c3',
      kind: 'group' as const,
      title: 'Plans',
      members: [
        { userId: alice.id, role: 'owner' as const },
        { userId: bob.id, role: 'member' as const },
      ],
    };
    const history: MessageView[] = [
      {
        id: 'e1',
        conversationId: group.id,
        senderUserId: alice.id,
        direction: 'out',
        kind: 'event',
        event: { type: 'added', actorUserId: alice.id, userIds: [bob.id] },
        sentAt: 1_000,
        status: 'sent',
      },
      { ...all[0]!, id: 'm1', conversationId: group.id, sentAt: 2_000 },
    ];
    // Every subscriber hears the event (the store and the device alerts both subscribe).
    const listeners: ((e: import('../state/index.js').ChatEvent) => void)[] = [];
    const api = stubApi({
      resume: async () => ({ kind: 'active', me: alice }),
      listConversations: async () => [group],
      history: async () => history,
      subscribe: (l) => {
        listeners.push(l);
        return () => undefined;
      },
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
    const line = container.querySelector('[data-testid="group-event"]');
    expect(line?.textContent).toBe(`You added ${bob.displayName}`);
    expect(container.querySelector('[data-testid="membership-warning"]')).toBeNull();
    for (const l of listeners) l({ type: 'membershipWarning', conversationId: group.id, userIds: [bob.id] });
    await settle();
    expect(container.querySelector('[data-testid="membership-warning"]')?.textContent).toBe(
      `The server lists people no member added: ${bob.displayName}. Nothing is sent to them.`,
    );
  });
});
