import { act } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { i18next, setLanguage } from '../i18n/index.js';
import { AppProvider } from '../state/store.js';
import { alice, bob, stubApi } from '../testing/stub-api.js';
import { render, settle } from '../testing/render.js';
import { Avatar, initialsOf } from './Avatar.js';
import { AvatarSettings } from './AvatarSettings.js';
import { LanguageSetting } from './LanguageSetting.js';
import { NavBar } from './NavBar.js';
import { initialState } from '../state/index.js';

let cleanup: (() => void) | undefined;
afterEach(async () => {
  cleanup?.();
  cleanup = undefined;
  await setLanguage('en');
});

async function show(api: ReturnType<typeof stubApi>, ui: React.ReactNode) {
  const { container, unmount } = await render(
    <AppProvider api={api} initial={{ ...initialState, me: alice }}>
      {ui}
    </AppProvider>,
  );
  cleanup = unmount;
  await settle();
  return container;
}

describe('Avatar', () => {
  it('when a person has no picture, then their initials show on a coloured circle, out of the text', async () => {
    const container = await show(stubApi(), <Avatar userId={bob.id} name="Bob Builder" />);
    const circle = container.querySelector('[data-testid="avatar-initials"]');
    expect(circle?.getAttribute('data-initials')).toBe('BB');
    expect(circle?.className).toMatch(/avatar-colour-\d/);
    expect(container.textContent).toBe('');
    expect(initialsOf('  alice ')).toBe('A');
    expect(initialsOf('')).toBe('?');
  });

  it('when a picture arrives later, then the same avatar shows it', async () => {
    const listeners = new Set<(id: string) => void>();
    const bobs: { picture?: Blob } = {};
    URL.createObjectURL ??= () => 'blob:test';
    URL.revokeObjectURL ??= () => undefined;
    const created = vi.spyOn(URL, 'createObjectURL').mockReturnValue('blob:bob-picture');
    const api = stubApi({
      avatarImage: async (id) => (id === bob.id ? bobs.picture : undefined),
      onAvatarChanged: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    });
    const container = await show(api, <Avatar userId={bob.id} name="Bob" size="medium" />);
    expect(container.querySelector('img')).toBeNull();
    bobs.picture = new Blob([new Uint8Array([0xff, 0xd8, 0xff])], { type: 'image/jpeg' });
    await act(async () => {
      for (const l of listeners) l(bob.id);
      await new Promise((r) => setTimeout(r, 0));
    });
    const img = container.querySelector('img');
    expect(img?.getAttribute('src')).toBe('blob:bob-picture');
    expect(img?.getAttribute('alt')).toBe('Profile picture of Bob');
    created.mockRestore();
  });
});

async function choose(container: HTMLElement, code: string) {
  await act(async () => {
    const select = container.querySelector('select') as HTMLSelectElement;
    select.value = code;
    select.dispatchEvent(new Event('change', { bubbles: true }));
    await new Promise((r) => setTimeout(r, 0));
  });
}

describe('Settings › Language', () => {
  it('when Deutsch is chosen, then the navigation switches at once, and back to English', async () => {
    const container = await show(
      stubApi(),
      <>
        <NavBar />
        <LanguageSetting />
      </>,
    );
    const select = container.querySelector('select') as HTMLSelectElement;
    expect([...select.options].map((o) => o.textContent)).toEqual(['English', 'Deutsch']);
    expect(container.textContent).toContain('Settings');
    await choose(container, 'de');
    expect(i18next.language).toBe('de');
    expect(container.textContent).toContain('Einstellungen');
    expect(container.textContent).toContain('Sprache der App');
    await choose(container, 'en');
    expect(container.textContent).toContain('Settings');
    expect(container.textContent).not.toContain('Einstellungen');
  });
});

describe('Settings › Profile picture', () => {
  it('when the picked file is not an image, then it is refused with a clear message and nothing is sent', async () => {
    const setAvatar = vi.fn(async () => undefined);
    const container = await show(stubApi({ setAvatar }), <AvatarSettings />);
    expect(container.textContent).toContain('No picture yet');
    const input = container.querySelector('input[type="file"]') as HTMLInputElement;
    const file = new File(['hello'], 'notes.png', { type: 'image/png' });
    await act(async () => {
      Object.defineProperty(input, 'files', { value: [file], configurable: true });
      input.dispatchEvent(new Event('change', { bubbles: true }));
      await new Promise((r) => setTimeout(r, 0));
    });
    await settle();
    expect(container.querySelector('[role="alert"]')?.textContent).toBe(
      'This file is not an image that can be used. Choose a PNG, JPEG, WebP or GIF picture.',
    );
    expect(setAvatar).not.toHaveBeenCalled();
  });
});
