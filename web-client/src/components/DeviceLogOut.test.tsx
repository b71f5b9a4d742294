import i18next from 'i18next';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '@cipherchat/client';
import { App } from '../App.js';
import { lastActiveText } from '../pages/DevicesPage.js';
import { AppProvider } from '../state/store.js';
import { alice, stubApi } from '../testing/stub-api.js';
import { button, click, field, render, settle, typeInto } from '../testing/render.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

async function renderApp(api: Parameters<typeof AppProvider>[0]['api']) {
  const rendered = await render(
    <AppProvider api={api}>
      <App />
    </AppProvider>,
  );
  cleanup = rendered.unmount;
  return rendered;
}

/** The dialog's own "Log out" (the navigation bar has one too). */
const confirm = (container: HTMLElement) => button(container.querySelector('dialog') as HTMLElement, 'Log out');

const radio = (container: HTMLElement, text: string) => {
  const label = [...container.querySelectorAll('label')].find((l) => l.textContent?.includes(text));
  const input = label?.querySelector('input[type="radio"]');
  if (!input) throw new Error(`no radio ${text}`);
  return input as HTMLInputElement;
};

describe('log out and the device limit', () => {
  it('when logging out, then removing this browser is the default, keeping it is one click away, and the choice reaches the API', async () => {
    const logOut = vi.fn(async (_options?: { keepDevice?: boolean }) => undefined);
    const api = stubApi({ resume: async () => ({ kind: 'active', me: alice }), logOut });
    const { container } = await renderApp(api);
    await settle();
    await click(button(container, 'Log out'));
    await settle();
    expect(radio(container, 'Remove this browser from my devices').checked).toBe(true);
    expect(radio(container, 'Keep this browser as a device').checked).toBe(false);
    await click(radio(container, 'Keep this browser as a device'));
    await click(confirm(container));
    await settle();
    expect(logOut).toHaveBeenCalledWith({ keepDevice: true });
  });

  it('when the device cannot be removed at logout, then the dialog says so and stays logged in', async () => {
    const logOut = vi.fn(async () => {
      throw new ApiError(0, 'network_error', 'network unreachable');
    });
    const api = stubApi({ resume: async () => ({ kind: 'active', me: alice }), logOut });
    const { container } = await renderApp(api);
    await settle();
    await click(button(container, 'Log out'));
    await settle();
    await click(confirm(container));
    await settle();
    expect(logOut).toHaveBeenCalledWith({ keepDevice: false });
    const alert = [...container.querySelectorAll('[role="alert"]')]
      .map((a) => a.textContent)
      .join(' ');
    expect(alert).toContain('This browser was not removed from your devices');
    expect(alert).toContain('You are still logged in');
    expect(container.querySelector('input[type="password"]')).toBeNull();
  });

  it('when a login is refused with too_many_devices, then the login page says the maximum and what to do', async () => {
    const api = stubApi({
      logIn: async () => {
        throw new ApiError(409, 'too_many_devices', 'at most 6 devices per account', { max: 6 });
      },
    });
    const { container } = await renderApp(api);
    await settle();
    await typeInto(field(container, 'Email'), 'alice@example.com');
    await typeInto(field(container, 'Password'), 'correct horse battery staple');
    await click(container.querySelector('form[aria-label="Log in"] button[type="submit"]') as HTMLElement);
    await settle();
    const alert = container.querySelector('[role="alert"]')?.textContent ?? '';
    expect(alert).toContain('your account already has the maximum of 6 devices');
    expect(alert).toContain('open Devices and remove one you no longer use');
  });

  it('when a device was last active today, yesterday or earlier, then it says so in words', () => {
    const t = i18next.getFixedT('en', 'dev');
    const now = new Date(2026, 11, 7, 15, 0);
    expect(lastActiveText(new Date(2026, 11, 7, 9, 0).toISOString(), t, now)).toBe(
      'last active today',
    );
    expect(lastActiveText(new Date(2026, 11, 6, 23, 0).toISOString(), t, now)).toBe(
      'last active yesterday',
    );
    expect(lastActiveText(new Date(2026, 10, 1, 12, 0).toISOString(), t, now)).toBe(
      `last active ${new Date(2026, 10, 1, 12, 0).toLocaleDateString()}`,
    );
    expect(lastActiveText(undefined, t, now)).toBe('last active: unknown');
  });
});
