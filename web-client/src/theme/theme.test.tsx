import { afterEach, describe, expect, it } from 'vitest';
import { click, render } from '../testing/render.js';
import { ThemeSetting } from './ThemeSetting.js';
import { THEME_STORAGE_KEY, applyTheme, storedTheme } from './theme.js';

afterEach(() => {
  window.localStorage.clear();
  delete document.documentElement.dataset['theme'];
});

function radio(container: HTMLElement, label: string): HTMLInputElement {
  const l = [...container.querySelectorAll('label')].find((x) => x.textContent?.trim() === label);
  const input = l?.querySelector('input');
  if (!input) throw new Error(`no radio ${label}`);
  return input;
}

describe('theme', () => {
  it('when nothing was chosen, then the system decides (light where it prefers no dark)', async () => {
    expect(storedTheme()).toBe('system');
    const { container, unmount } = await render(<ThemeSetting />);
    expect(radio(container, 'System').checked).toBe(true);
    expect(document.documentElement.dataset['theme'] ?? 'light').toBe('light');
    unmount();
  });

  it('when Dark then System are chosen, then <html> follows and this browser remembers the choice', async () => {
    const { container, unmount } = await render(<ThemeSetting />);
    await click(radio(container, 'Dark'));
    expect(document.documentElement.dataset['theme']).toBe('dark');
    expect(window.localStorage.getItem(THEME_STORAGE_KEY)).toBe('dark');
    expect(radio(container, 'Dark').checked).toBe(true);
    await click(radio(container, 'Light'));
    expect(document.documentElement.dataset['theme']).toBe('light');
    await click(radio(container, 'System'));
    expect(document.documentElement.dataset['theme']).toBe('light'); // jsdom prefers no dark
    expect(window.localStorage.getItem(THEME_STORAGE_KEY)).toBeNull();
    unmount();
  });

  it('when the page starts with a stored choice, then it is applied; a tampered value means System', () => {
    window.localStorage.setItem(THEME_STORAGE_KEY, 'dark');
    applyTheme(storedTheme());
    expect(document.documentElement.dataset['theme']).toBe('dark');
    window.localStorage.setItem(THEME_STORAGE_KEY, 'neon" onload="x');
    expect(storedTheme()).toBe('system');
  });
});
