import { act } from 'react';
import { useLocation, useNavigate } from 'react-router';
import type { NavigateFunction } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../App.js';
import type { ChatApi, MessageView } from '../state/index.js';
import { AppProvider, useApp } from '../state/store.js';
import { alice, bob, directConversation, stubApi } from '../testing/stub-api.js';
import { button, click, field, render, settle, typeInto } from '../testing/render.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

const direct = directConversation('00000000-0000-4000-8000-0000000000d1');

const hello: MessageView = {
  id: 'm1',
  conversationId: direct.id,
  senderUserId: bob.id,
  direction: 'in',
  kind: 'text',
  text: 'hello from the deep link',
  sentAt: 1_000,
  status: 'read',
};

/** What the router and the store say, read from inside the tree. */
const seen: { path?: string; view?: string; navigate?: NavigateFunction; remove?: () => void } = {};
function Probe() {
  const location = useLocation();
  const { state, dispatch } = useApp();
  seen.path = location.pathname;
  seen.view = JSON.stringify(state.view);
  seen.navigate = useNavigate();
  seen.remove = () => dispatch({ type: 'conversationRemoved', conversationId: direct.id });
  return null;
}

async function renderAt(path: string, overrides: Partial<ChatApi> = {}) {
  const api = stubApi({
    resume: async () => ({ kind: 'active', me: alice }),
    listConversations: async () => [direct],
    history: async () => [hello],
    ...overrides,
  });
  const rendered = await render(
    <AppProvider api={api}>
      <App />
      <Probe />
    </AppProvider>,
    { path },
  );
  cleanup = rendered.unmount;
  await settle();
  return rendered.container;
}

describe('routing', () => {
  it('when the address is /, then the chats show at /chats', async () => {
    const container = await renderAt('/');
    expect(seen.path).toBe('/chats');
    expect(container.querySelector('nav[aria-label="Conversations"]')).not.toBeNull();
  });

  it('when a deep link names a conversation, then it opens with its messages and the state agrees', async () => {
    const container = await renderAt(`/chats/${direct.id}`);
    expect(container.querySelector('#conversation-title')?.textContent).toContain('Bob');
    expect(container.textContent).toContain('hello from the deep link');
    expect(JSON.parse(seen.view!)).toEqual({ name: 'chats', conversationId: direct.id });
  });

  it('when a conversation is opened from the list, then the URL names it and Back returns to /chats', async () => {
    const container = await renderAt('/chats');
    await click(container.querySelector('.conversation-item')!);
    await settle();
    expect(seen.path).toBe(`/chats/${direct.id}`);
    expect(container.textContent).toContain('hello from the deep link');
    await act(async () => void seen.navigate!(-1));
    await settle();
    expect(seen.path).toBe('/chats');
    expect(JSON.parse(seen.view!)).toEqual({ name: 'chats' });
    expect(container.querySelector('#conversation-title')).toBeNull();
    await act(async () => void seen.navigate!(1));
    await settle();
    expect(container.querySelector('#conversation-title')?.textContent).toContain('Bob');
  });

  it('when the navigation is used, then each section has its own URL and actions.navigate pushes it', async () => {
    const container = await renderAt('/chats');
    await click(button(container, 'Settings'));
    expect(seen.path).toBe('/settings');
    expect(container.querySelector('h1')?.textContent).toBe('Settings');
    await click(button(container, 'People'));
    expect(seen.path).toBe('/people');
    // A page's own button goes through actions.navigate.
    await click(button(container, 'New group'));
    expect(seen.path).toBe('/groups/new');
    expect(JSON.parse(seen.view!)).toEqual({ name: 'newGroup' });
  });

  it('when the address is unknown, then "Page not found" links back to the chats', async () => {
    const container = await renderAt('/no/such/page');
    expect(container.querySelector('h1')?.textContent).toBe('Page not found');
    await click(button(container, 'Go to your chats'));
    expect(seen.path).toBe('/chats');
  });

  it('when the open conversation is removed, then the URL goes back to /chats', async () => {
    await renderAt(`/chats/${direct.id}`);
    await act(async () => seen.remove!());
    await settle();
    expect(seen.path).toBe('/chats');
  });

  it('when a deep link is opened signed out, then logging in lands on it', async () => {
    const logIn = vi.fn(async () => ({ me: alice }));
    const container = await renderAt(`/chats/${direct.id}`, {
      resume: async () => ({ kind: 'none' }),
      logIn,
    });
    expect(container.querySelector('nav[aria-label="Main"]')).toBeNull();
    await typeInto(field(container, 'Email'), 'alice@example.test');
    await typeInto(field(container, 'Password'), 'correct horse battery');
    await click(container.querySelector('form button[type="submit"]')!);
    await settle();
    expect(logIn).toHaveBeenCalled();
    expect(seen.path).toBe(`/chats/${direct.id}`);
    expect(container.textContent).toContain('hello from the deep link');
  });
});
