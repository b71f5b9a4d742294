import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../App.js';
import { AppProvider } from '../state/store.js';
import { alice, stubApi } from '../testing/stub-api.js';
import { button, click, render, settle } from '../testing/render.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
});

async function signedIn(api: ReturnType<typeof stubApi>) {
  const rendered = await render(
    <AppProvider api={api}>
      <App />
    </AppProvider>,
  );
  cleanup = rendered.unmount;
  await settle();
  return rendered.container;
}

describe('recovery key rotation in Settings', () => {
  it('when a new recovery key is created, then it is shown once like at sign-up and Continue returns to Settings', async () => {
    const rotate = vi.fn(async () => 'QRST-UVWX-YZ23-4567');
    const api = stubApi({
      resume: async () => ({ kind: 'active', me: alice }),
      rotateRecoveryKey: rotate,
    });
    const container = await signedIn(api);
    await click(button(container, 'Settings'));
    await click(button(container, 'Create a new recovery key'));
    await settle();
    expect(rotate).toHaveBeenCalledOnce();
    expect(container.querySelector('[data-testid="recovery-key"]')?.textContent).toBe(
      'QRST UVWX YZ23 4567',
    );
    const cont = button(container, 'Continue');
    expect(cont.disabled).toBe(true);
    await click(container.querySelector('input[type="checkbox"]')!);
    await click(cont);
    await settle();
    expect(container.querySelector('[data-testid="recovery-key"]')).toBeNull();
    expect(container.querySelector('h1')?.textContent).toBe('Settings');
  });

  it('when the rotation fails, then the error is shown and no key appears', async () => {
    const api = stubApi({
      resume: async () => ({ kind: 'active', me: alice }),
      rotateRecoveryKey: async () => {
        throw Object.assign(new Error('x'), { code: 'backup_key_changed' });
      },
    });
    const container = await signedIn(api);
    await click(button(container, 'Settings'));
    await click(button(container, 'Create a new recovery key'));
    await settle();
    expect(container.querySelector('[role="alert"]')?.textContent).toContain(
      're-keyed on another device',
    );
    expect(container.querySelector('[data-testid="recovery-key"]')).toBeNull();
  });

  it('when the SDK refuses the server’s key backup, then a banner says so', async () => {
    const api = stubApi({ resume: async () => ({ kind: 'active', me: alice }) });
    const container = await signedIn(api);
    await act(async () =>
      api.emit({
        type: 'backupRefused',
        code: 'backup_rollback',
        message: 'The server offered an older copy of your keys; it was refused',
      }),
    );
    await settle();
    expect(container.querySelector('[data-testid="backup-warning"]')?.textContent).toBe(
      'The server offered an older copy of your keys; it was refused',
    );
  });
});
