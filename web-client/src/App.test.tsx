import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from './App.js';
import type { AppState } from './state/index.js';
import { initialState } from './state/index.js';
import { AppProvider } from './state/store.js';
import { alice, bob, stubApi } from './testing/stub-api.js';
import { button, click, field, render, settle, typeInto } from './testing/render.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

/** Renders the whole app over a stub API; the next test's set-up unmounts it. */
async function renderApp(api: Parameters<typeof AppProvider>[0]['api']) {
  const rendered = await render(
    <AppProvider api={api}>
      <App />
    </AppProvider>,
  );
  cleanup = rendered.unmount;
  return rendered;
}

const direct = {
  id: '00000000-0000-4000-8000-0000000000c1',
  kind: 'direct' as const,
  title: null,
  members: [
    { userId: alice.id, role: 'member' as const },
    { userId: bob.id, role: 'member' as const },
  ],
  createdAt: '2026-01-01T00:00:00.000Z',
};

describe('App', () => {
  it('when signing up, then the recovery key is shown once and Continue waits for the "saved" confirmation', async () => {
    const api = stubApi({
      signUp: vi.fn(async () => ({ me: alice, recoveryKey: 'ABCDEFGHIJKLMNOP' })),
    });
    const { container } = await renderApp(api);
    await settle();
    await click(button(container, 'Sign up'));
    await typeInto(field(container, 'Email'), 'alice@example.test');
    await typeInto(field(container, 'Username'), 'alice');
    await typeInto(field(container, 'Display name'), 'Alice');
    await typeInto(field(container, 'Password'), 'correct horse battery');
    await typeInto(field(container, 'Confirm password'), 'correct horse battery');
    await click(button(container, 'Create account'));
    await settle();
    expect(container.querySelector('[data-testid="recovery-key"]')?.textContent).toBe(
      'ABCD EFGH IJKL MNOP',
    );
    const cont = button(container, 'Continue');
    expect(cont.disabled).toBe(true);
    await click(container.querySelector('input[type="checkbox"]')!);
    expect(cont.disabled).toBe(false);
    await click(cont);
    await settle();
    expect(container.textContent).not.toContain('ABCD EFGH');
    expect(container.querySelector('nav[aria-label="Main"]')).not.toBeNull();
    // Nothing of the session landed in localStorage.
    expect(window.localStorage.length).toBe(0);
  });

  it('when a contact identity changes, then the chat shows a blocking notice and sending is disabled until accepted', async () => {
    const acceptIdentity = vi.fn(async () => undefined);
    const api = stubApi({
      resume: async () => ({ kind: 'active', me: alice }),
      listConversations: async () => [direct],
      acceptIdentity,
    });
    const { container } = await renderApp(api);
    await settle();
    await click(container.querySelector('.conversation-item')!);
    await settle();
    expect(container.querySelector('textarea')?.disabled).toBe(false);
    await act(async () => api.emit({ type: 'identityChanged', userId: bob.id }));
    await settle();
    expect(container.querySelector('[data-testid="identity-changed"]')?.textContent).toContain(
      "Bob's safety number has changed",
    );
    expect(container.querySelector('textarea')?.disabled).toBe(true);
    await click(button(container, 'Accept new safety number'));
    await settle();
    expect(acceptIdentity).toHaveBeenCalledWith(bob.id);
    expect(container.querySelector('[data-testid="identity-changed"]')).toBeNull();
    expect(container.querySelector('textarea')?.disabled).toBe(false);
  });

  it('when a send fails, then the message says why and Retry sends it again', async () => {
    const failed = {
      id: 'm1',
      conversationId: direct.id,
      senderUserId: alice.id,
      direction: 'out' as const,
      kind: 'text' as const,
      text: 'hello',
      sentAt: 1,
      status: 'failed' as const,
      error: 'network down',
    };
    // Retry puts the same message back into the SDK's queue (same id).
    const retry = vi.fn(async () => ({ ...failed, status: 'sending' as const, error: undefined }));
    const api = stubApi({
      resume: async () => ({ kind: 'active', me: alice }),
      listConversations: async () => [direct],
      history: async () => [failed],
      retry,
    });
    const { container } = await renderApp(api);
    await settle();
    await click(container.querySelector('.conversation-item')!);
    await settle();
    expect(container.querySelector('[role="alert"]')?.textContent).toContain('network down');
    await click(button(container, 'Retry'));
    await settle();
    expect(retry).toHaveBeenCalled();
    // No copy: the one message is sending again, and the failure notice is gone.
    expect(container.querySelectorAll('[data-message-id]')).toHaveLength(1);
    expect(container.querySelector('[data-message-id="m1"]')?.getAttribute('data-status')).toBe(
      'sending',
    );
    expect(container.querySelector('[role="alert"]')).toBeNull();
  });

  it('when messages arrive for another conversation, then the list shows the unread count and a local preview', async () => {
    const api = stubApi({
      resume: async () => ({ kind: 'active', me: alice }),
      listConversations: async () => [direct],
    });
    const { container } = await renderApp(api);
    await settle();
    await act(async () =>
      api.emit({
        type: 'message',
        message: {
          id: 'x',
          conversationId: direct.id,
          senderUserId: bob.id,
          direction: 'in',
          kind: 'text',
          text: 'ping',
          sentAt: 5,
          status: 'received',
        },
      }),
    );
    await settle();
    expect(container.querySelector('[data-testid="unread-count"]')?.textContent).toBe('1');
    expect(container.querySelector('[data-testid="last-message"]')?.textContent).toBe('ping');
  });

  it('when the socket drops, then the offline banner shows until it reconnects', async () => {
    const api = stubApi({ resume: async () => ({ kind: 'active', me: alice }) });
    const start: AppState = initialState;
    const { container, unmount } = await render(
      <AppProvider api={api} initial={start}>
        <App />
      </AppProvider>,
    );
    cleanup = unmount;
    await settle();
    await act(async () => api.emit({ type: 'connection', online: false }));
    await settle();
    expect(container.textContent).toContain('You are offline');
    await act(async () => api.emit({ type: 'connection', online: true }));
    await settle();
    expect(container.textContent).not.toContain('You are offline');
  });

  it('when the browser goes offline and back online, then the banner stays until the socket reconnects', async () => {
    const api = stubApi({ resume: async () => ({ kind: 'active', me: alice }) });
    const { container } = await renderApp(api);
    await settle();
    await act(async () => window.dispatchEvent(new Event('offline')));
    await settle();
    expect(container.textContent).toContain('You are offline');
    // The network is back but the socket is not yet: the banner stays.
    await act(async () => window.dispatchEvent(new Event('online')));
    await settle();
    expect(container.textContent).toContain('You are offline');
    // The adapter's event once the socket is connected again clears it.
    await act(async () => api.emit({ type: 'connection', online: true }));
    await settle();
    expect(container.textContent).not.toContain('You are offline');
  });

  it('when the socket reconnects, then the presence of my contacts is asked for again', async () => {
    const presence = vi.fn(async () => [{ userId: bob.id, online: true }]);
    const api = stubApi({
      resume: async () => ({ kind: 'active', me: alice }),
      listConversations: async () => [direct],
      presence,
    });
    const { container } = await renderApp(api);
    await settle();
    // Asked once the conversation list loaded, never about me.
    expect(presence).toHaveBeenCalledWith([bob.id]);
    expect(container.querySelector('.conversation-item [aria-label="online"]')).not.toBeNull();
    presence.mockResolvedValueOnce([
      { userId: bob.id, online: false, lastSeenAt: '2026-01-02T03:04:05.000Z' },
    ] as never);
    await act(async () => api.emit({ type: 'connection', online: false }));
    await act(async () => api.emit({ type: 'connection', online: true }));
    await settle();
    expect(presence).toHaveBeenCalledTimes(2);
    expect(container.querySelector('.conversation-item [aria-label^="last seen"]')).not.toBeNull();
  });

  it('when directory results show, then each person shows as online or last seen', async () => {
    const carol = {
      id: '00000000-0000-4000-8000-00000000000c',
      username: 'carol',
      displayName: 'Carol',
    };
    const presence = vi.fn(async () => [{ userId: bob.id, online: true }]);
    const api = stubApi({
      resume: async () => ({ kind: 'active', me: alice }),
      searchUsers: async () => ({ users: [bob, carol], nextCursor: null }),
      presence,
    });
    const { container } = await renderApp(api);
    await settle();
    await click(button(container, 'People'));
    await typeInto(field(container, 'Search the directory'), 'obo');
    await settle(400);
    expect(presence).toHaveBeenCalledWith([bob.id, carol.id]);
    const rows = [...container.querySelectorAll('.user-row')];
    expect(rows.map((r) => r.querySelector('.presence')?.getAttribute('aria-label'))).toEqual([
      'online',
      // The server does not tell about people I share no conversation with.
      'presence unknown',
    ]);
  });

  it('when the key backup is not up to date, then logging out warns and still logs out', async () => {
    const logOut = vi.fn(async () => undefined);
    const api = stubApi({
      resume: async () => ({ kind: 'active', me: alice }),
      isBackupUpToDate: async () => false,
      logOut,
    });
    const { container } = await renderApp(api);
    await settle();
    await click(button(container, 'Log out'));
    await settle();
    expect(container.querySelector('[role="alert"]')?.textContent).toContain(
      'Your key backup is not up to date.',
    );
    const anyway = button(container, 'Log out anyway');
    expect(anyway.disabled).toBe(false);
    await click(anyway);
    await settle();
    expect(logOut).toHaveBeenCalledTimes(1);
    expect(container.textContent).not.toContain('Log out anyway');
    expect(container.querySelector('input[type="password"]')).not.toBeNull();
  });

  it('when messages are still waiting to be sent, then logging out says how many would be deleted', async () => {
    const logOut = vi.fn(async () => undefined);
    const api = stubApi({ resume: async () => ({ kind: 'active', me: alice }), unsentCount: async () => 2, logOut });
    const { container } = await renderApp(api);
    await settle();
    await click(button(container, 'Log out'));
    await settle();
    expect(container.querySelector('[role="alert"]')?.textContent).toContain('2 messages have not been sent yet.');
    await click(button(container, 'Log out anyway'));
    await settle();
    expect(logOut).toHaveBeenCalledTimes(1);
  });
});
