import { act } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../App.js';
import { AppProvider } from '../state/store.js';
import { alice, stubApi } from '../testing/stub-api.js';
import { button, click, render, settle } from '../testing/render.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

describe('OfflineBanner', () => {
  it('when the server dropped group messages for this browser, then a banner says how many and Dismiss hides it', async () => {
    const api = stubApi({ resume: async () => ({ kind: 'active', me: alice }) });
    const { container, unmount } = await render(
      <AppProvider api={api}>
        <App />
      </AppProvider>,
    );
    cleanup = unmount;
    await settle();
    expect(container.querySelector('[data-testid="missed-warning"]')).toBeNull();
    await act(async () => api.emit({ type: 'messagesMissed', count: 2 }));
    await act(async () => api.emit({ type: 'messagesMissed', count: 1 }));
    const banner = container.querySelector('[data-testid="missed-warning"]');
    expect(banner?.textContent).toContain(
      '3 group messages could not be delivered to this browser while it was offline: its mailbox was full.',
    );
    await click(button(container, 'Dismiss'));
    await settle();
    expect(container.querySelector('[data-testid="missed-warning"]')).toBeNull();
  });
});
