import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../App.js';
import { AppProvider } from '../state/store.js';
import { alice, stubApi } from '../testing/stub-api.js';
import { button, click, field, render, settle, typeInto } from '../testing/render.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

async function signedIn(api: ReturnType<typeof stubApi>) {
  const { container, unmount } = await render(
    <AppProvider api={api}>
      <App />
    </AppProvider>,
  );
  cleanup = unmount;
  await settle();
  return container;
}

describe('DeviceAlerts', () => {
  it('when a foreign device is reported, then the chats screen says so plainly and one click removes it', async () => {
    const removeDevice = vi.fn(async () => undefined);
    const api = stubApi({ resume: async () => ({ kind: 'active', me: alice }), removeDevice });
    const container = await signedIn(api);
    await act(async () =>
      api.emit({ type: 'foreignDevice', deviceId: 9, createdAt: '2026-01-02T10:00:00.000Z' }),
    );
    const banner = container.querySelector('.device-banner');
    expect(banner?.textContent).toContain('An unknown device (added');
    expect(banner?.textContent).toContain(
      'It did not come from you and cannot read your messages; sending is paused until you remove it.',
    );
    await click(button(container, 'Remove it'));
    await settle();
    expect(removeDevice).toHaveBeenCalledWith(9);
    expect(container.querySelector('.device-banner')).toBeNull();
  });

  it('when the alerts already hold a foreign device on load, then the banner shows without any event', async () => {
    const api = stubApi({
      resume: async () => ({ kind: 'active', me: alice }),
      deviceAlerts: async () => ({
        foreign: [{ deviceId: 4, createdAt: '2026-01-02T10:00:00.000Z' }],
        needsLogin: false,
      }),
    });
    const container = await signedIn(api);
    expect(container.querySelector('.device-banner')).not.toBeNull();
  });

  it('when a new device of mine is linked, then a notice names it with the time', async () => {
    const api = stubApi({ resume: async () => ({ kind: 'active', me: alice }) });
    const container = await signedIn(api);
    await act(async () =>
      api.emit({
        type: 'deviceLinked',
        deviceId: 3,
        name: 'Firefox on Android',
        linkedAt: Date.now(),
      }),
    );
    expect(container.querySelector('.device-linked')?.textContent).toMatch(
      /New device linked: Firefox on Android, \d{1,2}:\d{2}/,
    );
  });

  it('when this browser was removed and needs the password, then a dialog links it again', async () => {
    const relinkDevice = vi.fn(async () => undefined);
    const api = stubApi({ resume: async () => ({ kind: 'active', me: alice }), relinkDevice });
    const container = await signedIn(api);
    await act(async () => api.emit({ type: 'deviceRemoved', needsLogin: true }));
    expect(container.textContent).toContain('Link this browser again');
    await typeInto(field(container, 'Password'), 'correct horse');
    await click(button(container, 'Link this browser'));
    await settle();
    expect(relinkDevice).toHaveBeenCalledWith('correct horse');
    expect(container.textContent).not.toContain('This browser was removed from your account');
  });
});
