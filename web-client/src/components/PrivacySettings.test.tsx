import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PrivacyView } from '../state/index.js';
import { AppProvider } from '../state/store.js';
import { bob, stubApi } from '../testing/stub-api.js';
import { button, click, field, render, settle } from '../testing/render.js';
import { BlockedPeople, PrivacySettings } from './PrivacySettings.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

async function show(api: ReturnType<typeof stubApi>) {
  const { container, unmount } = await render(
    <AppProvider api={api}>
      <PrivacySettings />
      <BlockedPeople />
    </AppProvider>,
  );
  cleanup = unmount;
  await settle();
  return container;
}

describe('Settings › Privacy and Blocked people', () => {
  it('when a toggle changes, then it is saved at once, labelled as a switch, and the outcome is announced', async () => {
    let stored: PrivacyView = { readReceipts: true, typing: true, lastSeen: true };
    const savePrivacy = vi.fn(async (p: PrivacyView) => (stored = p));
    const container = await show(stubApi({ getPrivacy: async () => stored, savePrivacy }));
    const receipts = field(container, 'Send read receipts');
    expect(receipts.getAttribute('role')).toBe('switch');
    expect(receipts.checked).toBe(true);
    await click(receipts);
    await settle();
    expect(savePrivacy).toHaveBeenCalledWith({ readReceipts: false, typing: true, lastSeen: true });
    expect(field(container, 'Send read receipts').checked).toBe(false);
    expect(container.querySelector('[role="status"]')?.textContent).toBe('Privacy settings saved.');

    await click(field(container, 'Show when I was last online'));
    await settle();
    expect(stored).toEqual({ readReceipts: false, typing: true, lastSeen: false });
  });

  it('when another device of mine changes the settings while the panel is open, then the switches show the new settings', async () => {
    const api = stubApi({
      getPrivacy: async () => ({ readReceipts: true, typing: true, lastSeen: true }),
    });
    const container = await show(api);
    expect(field(container, 'Send read receipts').checked).toBe(true);
    api.emit({
      type: 'privacyChanged',
      settings: { readReceipts: false, typing: true, lastSeen: false },
    });
    await settle();
    expect(field(container, 'Send read receipts').checked).toBe(false);
    expect(field(container, 'Show when I am typing').checked).toBe(true);
    expect(field(container, 'Show when I was last online').checked).toBe(false);
  });

  it('when saving fails, then the switch stays as it was and the error says it was not saved', async () => {
    const container = await show(
      stubApi({
        getPrivacy: async () => ({ readReceipts: true, typing: true, lastSeen: true }),
        savePrivacy: async () => Promise.reject(new Error('Network down')),
      }),
    );
    await click(field(container, 'Show when I am typing'));
    await settle();
    expect(field(container, 'Show when I am typing').checked).toBe(true);
    expect(container.querySelector('[role="alert"]')?.textContent).toBe('Not saved: Network down');
  });

  it('when I blocked someone, then they are listed with Unblock, which removes them from the list', async () => {
    const unblock = vi.fn(async () => undefined);
    const container = await show(
      stubApi({
        getPrivacy: async () => ({ readReceipts: true, typing: true, lastSeen: true }),
        blockedUsers: async () => [bob],
        unblock,
      }),
    );
    const list = container.querySelector('ul[aria-label="Blocked people"]');
    expect(list?.textContent).toContain('Bob');
    await click(button(container, 'Unblock'));
    await settle();
    expect(unblock).toHaveBeenCalledWith(bob.id);
    expect(container.querySelector('ul[aria-label="Blocked people"]')).toBeNull();
    expect(container.textContent).toContain('You have not blocked anyone.');
    expect(container.textContent).toContain('Bob is unblocked.');
  });
});
