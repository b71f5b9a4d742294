import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../App.js';
import type { MessageView, SearchHitView } from '../state/index.js';
import { AppProvider } from '../state/store.js';
import { alice, bob, directConversation, stubApi } from '../testing/stub-api.js';
import { click, render, settle, typeInto } from '../testing/render.js';
import { messageLink, searchable } from './MessageSearch.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

const conversation = directConversation('00000000-0000-4000-8000-0000000000c5');

/** 80 messages of local history, oldest first: only the latest page loads on open. */
const all: MessageView[] = Array.from({ length: 80 }, (_, i) => ({
  id: `m${String(i).padStart(3, '0')}`,
  conversationId: conversation.id,
  senderUserId: bob.id,
  direction: 'in',
  kind: 'text',
  text: i === 3 ? 'Treffen am 東京タワー um acht' : `message ${i}`,
  sentAt: 1_000 + i,
  status: 'read',
}));

const hit: SearchHitView = {
  conversationId: conversation.id,
  messageId: 'm003',
  sentAt: 1_003,
  senderUserId: bob.id,
  direction: 'in',
  snippet: { text: 'Treffen am 東京タワー um acht', start: 11, end: 16 },
};

async function open(overrides: Parameters<typeof stubApi>[0] = {}) {
  const api = stubApi({
    resume: async () => ({ kind: 'active', me: alice }),
    listConversations: async () => [conversation],
    history: async (_id, { before, limit }) =>
      (before === undefined ? all : all.filter((m) => m.sentAt < before)).slice(-limit),
    ...overrides,
  });
  const { container, unmount } = await render(
    <AppProvider api={api}>
      <App />
    </AppProvider>,
    { path: '/chats' },
  );
  cleanup = unmount;
  await settle(20);
  return container;
}

async function settleUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 60 && !done(); i++) await settle(50);
}

const input = (c: HTMLElement) =>
  c.querySelector<HTMLInputElement>('input[type="search"][aria-label="Search messages"]')!;
const bubble = (c: HTMLElement, id: string) => c.querySelector(`[data-message-id="${id}"]`);

describe('message search', () => {
  it('when a CJK phrase is searched and a result clicked, then the chat opens scrolled to the message, highlighted', async () => {
    const searchMessages = vi.fn(async () => [hit]);
    const prepareSearch = vi.fn(async () => undefined);
    const c = await open({ searchMessages, prepareSearch });
    await typeInto(input(c), '東京タワー');
    await settleUntil(() => c.querySelector('[data-testid="search-hit"]') !== null);
    expect(prepareSearch).toHaveBeenCalled();
    expect(searchMessages).toHaveBeenCalledWith('東京タワー', { limit: 50 });
    const link = c.querySelector<HTMLAnchorElement>('[data-testid="search-hit"]')!;
    expect(link.querySelector('mark')?.textContent).toBe('東京タワー');
    expect(link.textContent).toContain('Bob');
    expect(link.getAttribute('href')).toBe(`/chats/${conversation.id}?message=m003`);
    expect(c.textContent).toContain('1 message');

    // Not in the first page: the jump loads older pages until it is there.
    await click(link);
    await settleUntil(() => bubble(c, 'm003')?.classList.contains('highlight') === true);
    expect(bubble(c, 'm003')?.classList.contains('highlight')).toBe(true);
    expect(document.activeElement).toBe(bubble(c, 'm003'));
  });

  it('when the query is too short or finds nothing, then the field says so without a result list', async () => {
    const searchMessages = vi.fn(async () => []);
    const c = await open({ searchMessages });
    await typeInto(input(c), 'ab');
    await settle(300);
    expect(c.textContent).toContain('Type at least 3 characters');
    expect(searchMessages).not.toHaveBeenCalled();
    await typeInto(input(c), 'zebra');
    await settleUntil(() => c.textContent?.includes('No messages found.') === true);
    expect(c.querySelector('[aria-label="Search results"]')).toBeNull();
  });

  it('when this browser has no index yet, then the field shows how far preparing it got', async () => {
    let finish: () => void = () => undefined;
    const prepareSearch = vi.fn(
      (onProgress?: (p: { phase: 'reading'; done: number; total: number }) => void) =>
        new Promise<void>((resolve) => {
          onProgress?.({ phase: 'reading', done: 40, total: 100 });
          finish = resolve;
        }),
    );
    const c = await open({ prepareSearch, searchMessages: async () => [hit] });
    await typeInto(input(c), 'acht');
    await settleUntil(() => c.textContent?.includes('40 %') === true);
    expect(c.textContent).toContain('Preparing search on this device… 40 %');
    finish();
    await settleUntil(() => c.querySelector('[data-testid="search-hit"]') !== null);
    expect(c.textContent).not.toContain('Preparing search');
  });

  it('when a deep link names a message, then opening it jumps there once', async () => {
    const api = stubApi({
      resume: async () => ({ kind: 'active', me: alice }),
      listConversations: async () => [conversation],
      history: async (_id, { before, limit }) =>
        (before === undefined ? all : all.filter((m) => m.sentAt < before)).slice(-limit),
    });
    const r = await render(
      <AppProvider api={api}>
        <App />
      </AppProvider>,
      { path: messageLink(conversation.id, 'm010') },
    );
    cleanup = r.unmount;
    await settleUntil(() => bubble(r.container, 'm010')?.classList.contains('highlight') === true);
    expect(bubble(r.container, 'm010')?.classList.contains('highlight')).toBe(true);
  });

  it('when a query is checked, then 3 characters or any CJK is searchable', () => {
    expect(searchable('ab')).toBe(false);
    expect(searchable('  abc ')).toBe(true);
    expect(searchable('東')).toBe(true);
    expect(searchable('역')).toBe(true);
  });
});
