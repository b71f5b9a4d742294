import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../App.js';
import type { MessageView } from '../state/index.js';
import { AppProvider } from '../state/store.js';
import { alice, bob, stubApi } from '../testing/stub-api.js';
import { button, click, render, settle, typeInto } from '../testing/render.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

const group = {
  id: '00000000-0000-4000-8000-0000000000d1',
  kind: 'group' as const,
  title: 'Plans',
  members: [
    { userId: alice.id, role: 'owner' as const },
    { userId: bob.id, role: 'member' as const },
  ],
  createdAt: '2026-01-01T00:00:00.000Z',
};
const old: MessageView[] = Array.from({ length: 70 }, (_, i) => ({
  id: `m${String(i).padStart(3, '0')}`,
  conversationId: group.id,
  senderUserId: bob.id,
  direction: 'in',
  kind: 'text',
  text: `message ${i}`,
  sentAt: 1_000 + i,
  status: 'read',
}));
const reply: MessageView = {
  id: 'r1',
  conversationId: group.id,
  senderUserId: bob.id,
  direction: 'in',
  kind: 'text',
  text: '@alice look at this',
  replyTo: { id: 'm005', authorUserId: bob.id, excerpt: 'message 5' },
  mentions: [alice.id],
  sentAt: 5_000,
  status: 'read',
};
const orphan: MessageView = {
  ...reply,
  id: 'r2',
  text: 'about something older',
  mentions: undefined,
  replyTo: { id: 'gone', authorUserId: alice.id, excerpt: 'what I said' },
  sentAt: 5_001,
};
const deletedOriginal: MessageView = {
  ...old[69]!,
  id: 'd1',
  text: undefined,
  deletedAt: 5_002,
  sentAt: 5_002,
};
const cleared: MessageView = {
  ...orphan,
  id: 'r3',
  replyTo: { id: 'd1', authorUserId: bob.id, excerpt: '' },
  sentAt: 5_003,
};
const expired: MessageView = {
  ...orphan,
  id: 'r4',
  replyTo: { id: 'expired-1', authorUserId: bob.id, excerpt: '' },
  sentAt: 5_004,
};
const all = [...old, reply, orphan, deletedOriginal, cleared, expired];

async function openGroup(overrides: Parameters<typeof stubApi>[0] = {}) {
  const api = stubApi({
    resume: async () => ({ kind: 'active', me: alice }),
    listConversations: async () => [group],
    history: async (_id, { before, limit }) =>
      (before === undefined ? all : all.filter((m) => m.sentAt < before)).slice(-limit),
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
  return container;
}

async function key(el: Element, k: string): Promise<void> {
  await act(async () => {
    el.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true, cancelable: true }));
  });
}

/** Lets effects and renders run, in short act() scopes, until `done` holds (at most ~3 s). */
async function settleUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 60 && !done(); i++) await settle(50);
}

const bubble = (c: HTMLElement, id: string) => c.querySelector(`[data-message-id="${id}"]`);

describe('replies', () => {
  it('when a reply quotes a message not loaded yet, then clicking the quote loads older pages until it shows and highlights it', async () => {
    const c = await openGroup();
    const quote = bubble(c, 'r1')?.querySelector('[data-testid="reply-quote"]');
    expect(quote?.textContent).toBe('Bobmessage 5');
    expect(bubble(c, 'r1')?.querySelector('[data-testid="mention-me"]')?.textContent).toBe(
      '@alice',
    );
    expect(bubble(c, 'm005')).toBeNull();
    await click(quote!);
    // Each settle ends an act() scope, so React renders the pages the jump loads in between.
    await settleUntil(() => bubble(c, 'm005')?.classList.contains('highlight') === true);
    expect(bubble(c, 'm005')?.classList.contains('highlight')).toBe(true);
    expect(document.activeElement).toBe(bubble(c, 'm005'));
  });

  it('when the quoted message is in no page of local history, then the chat says so', async () => {
    const c = await openGroup();
    await click(bubble(c, 'r2')!.querySelector('[data-testid="reply-quote"]')!);
    await settleUntil(() => c.querySelector('[data-testid="original-missing"]') !== null);
    expect(c.querySelector('[data-testid="original-missing"]')?.textContent).toBe(
      'The original message is not on this device.',
    );
  });

  it('when the quoted message was deleted for everyone or expired, then the quote says "Original message deleted" and none of its words', async () => {
    const c = await openGroup();
    for (const id of ['r3', 'r4']) {
      const quote = bubble(c, id)?.querySelector('[data-testid="reply-quote"]');
      expect(quote?.textContent).toBe('BobOriginal message deleted');
    }
    expect(bubble(c, 'r1')?.querySelector('[data-testid="reply-quote"]')?.textContent).toBe(
      'Bobmessage 5',
    );
  });

  it('when I choose Reply, then a quote box shows above the composer and the text goes out with replyTo; cancel drops it', async () => {
    const sendText = vi.fn(async (conversationId: string, text: string) => ({
      ...reply,
      id: 'x1',
      conversationId,
      text,
      direction: 'out' as const,
      senderUserId: alice.id,
      status: 'sending' as const,
      mentions: undefined,
    }));
    const c = await openGroup({ sendText });
    await click(bubble(c, 'r1')!.querySelector('[data-testid="reply-button"]')!);
    expect(c.querySelector('[data-testid="reply-box"]')?.textContent).toContain('Replying to Bob');
    const input = c.querySelector('textarea')!;
    expect(document.activeElement).toBe(input);
    await click(button(c, '×'));
    expect(c.querySelector('[data-testid="reply-box"]')).toBeNull();
    await click(bubble(c, 'r1')!.querySelector('[data-testid="reply-button"]')!);
    await typeInto(input, 'on my way');
    await key(input, 'Enter');
    await settle();
    expect(sendText).toHaveBeenCalledWith(group.id, 'on my way', { replyTo: 'r1' });
    expect(c.querySelector('[data-testid="reply-box"]')).toBeNull();
  });
});

describe('mentions', () => {
  it('when I type @ and the start of a name in a group, then members are offered; arrows and Enter insert @username and the send carries the mention', async () => {
    const sendText = vi.fn(async (conversationId: string, text: string) => ({
      ...reply,
      id: 'x2',
      conversationId,
      text,
      replyTo: undefined,
      direction: 'out' as const,
      senderUserId: alice.id,
      status: 'sending' as const,
    }));
    const c = await openGroup({ sendText });
    const input = c.querySelector('textarea')!;
    await typeInto(input, 'hey @B');
    const options = () => [...c.querySelectorAll('[role="option"]')].map((o) => o.textContent);
    expect(options()).toEqual(['Bob @bob']);
    expect(input.getAttribute('aria-activedescendant')).toBe(
      c.querySelector('[role="option"]')?.id,
    );
    await key(input, 'Escape');
    expect(options()).toEqual([]);
    await typeInto(input, 'hey @Bo');
    await key(input, 'ArrowDown');
    await key(input, 'Enter');
    await settle(20);
    expect(input.value).toBe('hey @bob ');
    expect(options()).toEqual([]);
    await typeInto(input, 'hey @bob dinner?');
    await key(input, 'Enter');
    await settle();
    expect(sendText).toHaveBeenCalledWith(group.id, 'hey @bob dinner?', { mentions: [bob.id] });
  });

  it('when I mute the group, then the browser keeps it and the list marks it muted', async () => {
    const setMuted = vi.fn(async () => undefined);
    const c = await openGroup({ setMuted });
    await click(c.querySelector('[data-testid="mute-button"]')!);
    await settle();
    expect(setMuted).toHaveBeenCalledWith(group.id, true);
    expect(c.querySelector('[data-testid="mute-button"]')?.textContent).toBe('Unmute');
    expect(c.querySelector('[data-testid="muted-mark"]')).not.toBeNull();
  });
});
