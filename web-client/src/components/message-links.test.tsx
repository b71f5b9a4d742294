import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../App.js';
import type { MessageView } from '../state/index.js';
import { AppProvider } from '../state/store.js';
import { alice, bob, stubApi } from '../testing/stub-api.js';
import { render, settle } from '../testing/render.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

const group = {
  id: '00000000-0000-4000-8000-0000000000e1',
  kind: 'group' as const,
  title: 'Hikers',
  members: [
    { userId: alice.id, role: 'owner' as const },
    { userId: bob.id, role: 'member' as const },
  ],
  createdAt: '2026-01-01T00:00:00.000Z',
};

const message: MessageView = {
  id: 'l1',
  conversationId: group.id,
  senderUserId: bob.id,
  direction: 'in',
  kind: 'text',
  text: '@alice see example.org/trail or javascript:alert(1) https://maps.example.com',
  mentions: [alice.id],
  sentAt: Date.now() - 5 * 60_000,
  status: 'read',
};

describe('links in a message bubble', () => {
  it('when a message has addresses and a mention, then the addresses are safe links and the mention stays highlighted', async () => {
    const api = stubApi({
      resume: async () => ({ kind: 'active', me: alice }),
      listConversations: async () => [group],
      history: async () => [message],
    });
    const { container, unmount } = await render(
      <AppProvider api={api}>
        <App />
      </AppProvider>,
      { path: `/chats/${group.id}` },
    );
    cleanup = unmount;
    await settle();
    const text = container.querySelector('li[data-message-id="l1"] .message-text')!;
    expect(text.textContent).toBe(message.text);
    expect(text.querySelector('[data-testid="mention-me"]')?.textContent).toBe('@alice');
    const links = [...text.querySelectorAll('a')];
    expect(links.map((a) => a.getAttribute('href'))).toEqual([
      'https://example.org/trail',
      'https://maps.example.com/',
    ]);
    for (const a of links) {
      expect(a.target).toBe('_blank');
      expect(a.rel).toBe('noopener noreferrer');
    }
    expect(text.innerHTML).not.toContain('href="javascript');
    // The time reads relative, with the exact time on hover.
    const time = container.querySelector('li[data-message-id="l1"] time')!;
    expect(time.textContent).toBe('5 minutes ago');
    expect(time.getAttribute('title')).not.toBe('');
  });
});
