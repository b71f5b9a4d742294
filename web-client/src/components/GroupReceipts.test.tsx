import { act } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../App.js';
import type { ConversationView, MessageView } from '../state/index.js';
import { AppProvider } from '../state/store.js';
import { alice, bob, stubApi } from '../testing/stub-api.js';
import { click, render, settle } from '../testing/render.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

const carol = {
  id: '00000000-0000-4000-8000-00000000000c',
  username: 'carol',
  displayName: 'Carol',
};
const members = [
  { userId: alice.id, role: 'owner' as const },
  { userId: bob.id, role: 'member' as const },
  { userId: carol.id, role: 'member' as const },
];
const mine = (conversationId: string): MessageView => ({
  id: 'm1',
  conversationId,
  senderUserId: alice.id,
  direction: 'out',
  kind: 'text',
  text: 'who read this?',
  sentAt: 1_000,
  status: 'delivered',
  deliveredTo: [bob.id, carol.id],
});

async function open(c: ConversationView, history: MessageView[]) {
  const listeners: ((e: import('../state/index.js').ChatEvent) => void)[] = [];
  const api = stubApi({
    resume: async () => ({ kind: 'active', me: alice }),
    listConversations: async () => [c],
    history: async () => history,
    getUser: async (id) =>
      id === bob.id ? bob : id === carol.id ? carol : Promise.reject(new Error('unknown')),
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
  return {
    container,
    emit: (e: import('../state/index.js').ChatEvent) =>
      act(async () => listeners.forEach((l) => l(e))),
  };
}

describe('per-member receipts', () => {
  it('when both others have my group message and then Bob and Carol read it, then it says delivered to 2 of 2, then read by 1, then 2 of 2 with who', async () => {
    const c: ConversationView = {
      id: 'g1',
      kind: 'group',
      title: 'Readers',
      members,
      createdAt: '2026-01-01T00:00:00.000Z',
    };
    const { container, emit } = await open(c, [mine(c.id)]);
    const summary = () =>
      container.querySelector('[data-testid="group-receipts"] summary')?.textContent;
    expect(summary()).toBe('✓✓ Delivered to 2 of 2');
    expect(container.querySelector('[data-testid="message-status"]')).toBeNull();

    await emit({ type: 'message', message: { ...mine(c.id), status: 'read', readBy: [bob.id] } });
    await settle();
    expect(summary()).toBe('✓✓ Read by 1 of 2');
    await emit({
      type: 'message',
      message: { ...mine(c.id), status: 'read', readBy: [bob.id, carol.id] },
    });
    await settle();
    expect(summary()).toBe('✓✓ Read by 2 of 2');
    await click(container.querySelector('[data-testid="group-receipts"] summary')!);
    const readers = [...container.querySelectorAll('ul[aria-label="Read by"] li')].map(
      (li) => li.textContent,
    );
    expect(readers).toEqual(['Bob', 'Carol']);
    expect(container.querySelector('ul[aria-label="Delivered to"]')).toBeNull();
  });

  it('when the chat is direct, then my message keeps the single ✓✓ Read status', async () => {
    const c: ConversationView = {
      id: 'd1',
      kind: 'direct',
      title: null,
      members: members.slice(0, 2).map((m) => ({ ...m, role: 'member' as const })),
      createdAt: '2026-01-01T00:00:00.000Z',
    };
    const { container } = await open(c, [{ ...mine(c.id), status: 'read', readBy: [bob.id] }]);
    expect(container.querySelector('[data-testid="group-receipts"]')).toBeNull();
    expect(container.querySelector('[data-testid="message-status"]')?.textContent).toBe('✓✓ Read');
  });
});
