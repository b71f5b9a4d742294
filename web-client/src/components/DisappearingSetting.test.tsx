import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../App.js';
import type { ConversationView, MessageView } from '../state/index.js';
import { describeGroupEvent, initialState, reducer } from '../state/index.js';
import { AppProvider } from '../state/store.js';
import { alice, bob, stubApi } from '../testing/stub-api.js';
import { click, render, settle } from '../testing/render.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

const direct: ConversationView = {
  id: '00000000-0000-4000-8000-0000000000e1',
  kind: 'direct',
  title: null,
  members: [
    { userId: alice.id, role: 'member' },
    { userId: bob.id, role: 'member' },
  ],
  createdAt: '2026-01-01T00:00:00.000Z',
};
const group: ConversationView = {
  ...direct,
  id: '00000000-0000-4000-8000-0000000000e2',
  kind: 'group',
  title: 'Plans',
  members: [
    { userId: bob.id, role: 'owner' },
    { userId: alice.id, role: 'member' },
  ],
  disappearingS: 3600,
};
const msg = (id: string, text: string, sentAt: number): MessageView => ({
  id,
  conversationId: direct.id,
  senderUserId: bob.id,
  direction: 'in',
  kind: 'text',
  text,
  sentAt,
  status: 'read',
});

/** The app signed in as Alice, with the given chat open. */
async function open(c: ConversationView, overrides: Parameters<typeof stubApi>[0] = {}) {
  const api = stubApi({
    resume: async () => ({ kind: 'active', me: alice }),
    listConversations: async () => [c],
    getUser: async () => bob,
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
  return { api, container };
}

const select = (c: HTMLElement) =>
  c.querySelector<HTMLSelectElement>('select[aria-label="Disappearing messages"]')!;

describe('disappearing messages in the web client', () => {
  it('when I pick 5 minutes in a direct chat, then the SDK is asked end to end and the header shows the timer', async () => {
    const setDisappearingTimer = vi.fn(async (_id: string, s: number | null) => ({
      ...direct,
      ...(s ? { disappearingS: s } : {}),
    }));
    const { container } = await open(direct, { setDisappearingTimer });
    expect(container.querySelector('[data-testid="disappearing-badge"]')).toBeNull();
    const s = select(container);
    expect(s.disabled).toBe(false);
    expect([...s.options].map((o) => o.textContent)).toEqual([
      'Disappearing: off',
      'Disappear after 5 minutes',
      'Disappear after 1 hour',
      'Disappear after 1 day',
      'Disappear after 1 week',
      'Disappear after 4 weeks',
    ]);
    await act(async () => {
      s.value = '300';
      s.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await settle();
    expect(setDisappearingTimer).toHaveBeenCalledWith(direct.id, 300);
    expect(container.querySelector('[data-testid="disappearing-badge"]')?.textContent).toContain(
      '5m',
    );
  });

  it('when I am a plain member of a group, then the group timer is shown but I cannot change it', async () => {
    const { container } = await open(group);
    expect(container.querySelector('[data-testid="disappearing-badge"]')?.textContent).toContain(
      '1h',
    );
    expect(select(container).value).toBe('3600');
    expect(select(container).disabled).toBe(true);
  });

  it('when messages expire, then they leave the open chat without a reload', async () => {
    const history = [msg('m1', 'stays', 1_000), msg('m2', 'vanishes', 2_000)];
    const { api, container } = await open(direct, { history: async () => history });
    expect(container.textContent).toContain('vanishes');
    await act(async () => {
      api.emit({ type: 'messagesExpired', conversationId: direct.id, messageIds: ['m2'] });
    });
    await settle();
    expect(container.textContent).not.toContain('vanishes');
    expect(container.textContent).toContain('stays');
  });

  it('when the timer changes, then the chat line says who set what', () => {
    const s = reducer(initialState, { type: 'sessionStarted', me: alice });
    const withBob = reducer(s, { type: 'usersLoaded', users: [bob] });
    expect(describeGroupEvent(withBob, { type: 'timer', actorUserId: bob.id, timerS: 3600 })).toBe(
      `${bob.displayName} set disappearing messages to 1 hour`,
    );
    expect(
      describeGroupEvent(withBob, { type: 'timer', actorUserId: alice.id, timerS: null }),
    ).toBe('You turned off disappearing messages');
    expect(
      describeGroupEvent(withBob, { type: 'timer', actorUserId: alice.id, timerS: 2_419_200 }),
    ).toBe('You set disappearing messages to 4 weeks');
  });
});
