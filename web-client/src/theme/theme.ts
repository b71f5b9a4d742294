/**
 * The colour theme of this browser: System (follow `prefers-color-scheme`), Light or Dark.
 * Kept in localStorage (not a secret) and applied as `data-theme` on <html> (`light` or `dark`;
 * System resolves to one of them from `prefers-color-scheme` and follows its changes), so the
 * dark palette exists once, in styles/route.css. main.tsx applies it before the first render
 * (the CSP forbids the usual inline script in index.html).
 */

/** A theme choice. */
export type Theme = 'system' | 'light' | 'dark';

/** The choices, in the order Settings shows them. */
export const THEMES: readonly Theme[] = ['system', 'light', 'dark'];

/** Where this browser keeps the choice. */
export const THEME_STORAGE_KEY = 'cipherchat.theme';

function isTheme(v: unknown): v is Theme {
  return typeof v === 'string' && (THEMES as readonly string[]).includes(v);
}

/**
 * @returns the theme chosen on this browser, `system` when none (or storage is blocked)
 */
export function storedTheme(): Theme {
  try {
    const v = globalThis.localStorage?.getItem(THEME_STORAGE_KEY);
    return isTheme(v) ? v : 'system';
  } catch {
    return 'system';
  }
}

/** The system's colour scheme query (undefined where the browser has no `matchMedia`). */
function systemDark(): MediaQueryList | undefined {
  return globalThis.matchMedia?.('(prefers-color-scheme: dark)');
}

/**
 * Sets `data-theme` on <html>: `light` / `dark`; for `system`, the one the system prefers now.
 * @param theme the theme
 * @param root the element (default: <html>)
 */
export function applyTheme(theme: Theme, root: HTMLElement = document.documentElement): void {
  root.dataset['theme'] = theme === 'system' ? (systemDark()?.matches ? 'dark' : 'light') : theme;
}

/**
 * Follows the system's colour scheme while System is chosen (a change of the OS setting while
 * the app is open). Called once by main.tsx.
 */
export function followSystemTheme(): void {
  systemDark()?.addEventListener('change', () => {
    if (storedTheme() === 'system') applyTheme('system');
  });
}

/**
 * Chooses a theme on this browser: remembers it and applies it at once.
 * @param theme the theme
 */
export function setTheme(theme: Theme): void {
  try {
    if (theme === 'system') globalThis.localStorage?.removeItem(THEME_STORAGE_KEY);
    else globalThis.localStorage?.setItem(THEME_STORAGE_KEY, theme);
  } catch {
    // Not remembered, but still applied to this page.
  }
  applyTheme(theme);
}
