import { act } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { setLanguage } from '../i18n/index.js';
import { initialState } from '../state/index.js';
import type { RetryPlaceholderView, RetryStatsView } from '../state/retries.js';
import { AppProvider } from '../state/store.js';
import { render, settle } from '../testing/render.js';
import { alice, bob, stubApi } from '../testing/stub-api.js';
import { DecryptDiagnostics } from './DecryptDiagnostics.js';
import { RetryPlaceholders } from './RetryPlaceholders.js';

let cleanup: (() => void) | undefined;
afterEach(async () => {
  cleanup?.();
  cleanup = undefined;
  await setLanguage('en');
});

/** A stub whose placeholders and stats the test changes, telling the UI as the SDK would. */
function changingApi() {
  const listeners = new Set<() => void>();
  const now: { list: RetryPlaceholderView[]; stats: RetryStatsView | undefined } = {
    list: [],
    stats: undefined,
  };
  const api = stubApi({
    retryPlaceholders: (id) => now.list.filter((p) => p.conversationId === id),
    retryStats: () => now.stats,
    onRetryChanged: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  });
  const change = async (next: Partial<typeof now>) => {
    Object.assign(now, next);
    await act(async () => {
      for (const l of listeners) l();
    });
  };
  return { api, change, listeners };
}

async function show(api: ReturnType<typeof stubApi>, ui: React.ReactNode) {
  const { container, unmount } = await render(
    <AppProvider api={api} initial={{ ...initialState, me: alice, users: { [bob.id]: bob } }}>
      {ui}
    </AppProvider>,
  );
  cleanup = unmount;
  await settle();
  return container;
}

const waiting: RetryPlaceholderView = {
  messageId: '00000000-0000-4000-8000-000000000001',
  conversationId: 'c1',
  senderUserId: bob.id,
  senderDeviceId: 2,
  serverTimestamp: '2026-12-07T10:00:00.000Z',
  state: 'waiting',
};

const stats = (over: Partial<RetryStatsView> = {}): RetryStatsView => ({
  unresolved: 0,
  waiting: 0,
  failed: 0,
  byDevice: [],
  resolved: 0,
  requestsSent: 0,
  resent: 0,
  refused: 0,
  ...over,
});

describe('RetryPlaceholders', () => {
  it("when a message could not be decrypted, then the chat says it waits for Bob's device, and the placeholder goes once the message arrived", async () => {
    const { api, change } = changingApi();
    await change({ list: [waiting] });
    const container = await show(api, <RetryPlaceholders conversationId="c1" />);
    const item = () => container.querySelector('[data-testid="retry-placeholder"]');
    expect(item()?.textContent).toBe("Waiting for Bob's device to re-send this message");
    expect(item()?.getAttribute('data-state')).toBe('waiting');

    await change({ list: [] });
    expect(item()).toBeNull();
  });

  it('when the sender’s device was removed, then the placeholder says so in words (English and German)', async () => {
    const { api, change } = changingApi();
    const container = await show(api, <RetryPlaceholders conversationId="c1" />);
    expect(container.textContent).toBe('');
    await change({ list: [{ ...waiting, state: 'failed', cause: 'device_removed' }] });
    expect(container.textContent).toBe("Bob's device was removed before it could re-send this");
    await act(async () => {
      await setLanguage('de');
    });
    expect(container.textContent).toBe(
      'Das Gerät von Bob wurde entfernt, bevor es diese Nachricht erneut senden konnte',
    );
  });

  it('when the sender is unknown here or the placeholder is of another chat, then it names nobody and shows only this chat’s', async () => {
    const { api, change } = changingApi();
    await change({
      list: [
        { ...waiting, senderUserId: 'someone-else', state: 'failed', cause: 'no_answer' },
        { ...waiting, messageId: 'other', conversationId: 'c2' },
      ],
    });
    const container = await show(api, <RetryPlaceholders conversationId="c1" />);
    expect(
      [...container.querySelectorAll('[data-testid="retry-placeholder"]')].map(
        (e) => e.textContent,
      ),
    ).toEqual(["someone's device did not re-send this message"]);
  });
});

describe('DecryptDiagnostics', () => {
  it('when failures are unresolved, then Settings shows the counter in all and per sending device, and follows changes', async () => {
    const { api, change } = changingApi();
    await change({
      stats: stats({
        unresolved: 2,
        waiting: 1,
        failed: 1,
        requestsSent: 3,
        byDevice: [{ userId: bob.id, deviceId: 2, unresolved: 2 }],
      }),
    });
    const container = await show(api, <DecryptDiagnostics />);
    const value = (key: string) =>
      container.querySelector(`[data-testid="diag-${key}"] dd`)?.textContent;
    expect(value('unresolved')).toBe('2');
    expect(value('requestsSent')).toBe('3');
    expect(container.querySelector('[data-testid="diag-by-device"]')?.textContent).toBe(
      'Bob, device 2: 2',
    );

    await change({ stats: stats({ resolved: 2, requestsSent: 3 }) });
    expect(value('unresolved')).toBe('0');
    expect(value('resolved')).toBe('2');
    expect(container.textContent).toContain('No unresolved decrypt failures.');
  });

  it('when logged out (no counters), then no diagnostics show', async () => {
    const container = await show(stubApi(), <DecryptDiagnostics />);
    expect(container.querySelector('[data-testid="decrypt-diagnostics"]')).toBeNull();
  });
});
