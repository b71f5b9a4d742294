import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';

/**
 * The UI's strings, in one place: `locales/<language>/<namespace>.json`. Each file is a
 * namespace (`useTranslation('nav')`); English is the source and the fallback, every other
 * language must have the same keys (checked by `catalog.test.ts`).
 *
 * To add a language: copy `locales/en/` to `locales/<code>/`, translate the values, and add
 * the code to {@link LANGUAGES}. Plurals use i18next's `_one` / `_other` suffixes.
 */

/** Languages the UI is translated into, with their own names. */
export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'de', name: 'Deutsch' },
] as const;

/** A supported language code. */
export type Language = (typeof LANGUAGES)[number]['code'];

/** Where this browser keeps the chosen language (not a secret; the key backup holds none). */
const STORAGE_KEY = 'cipherchat.language';

const files = import.meta.glob<{ default: Record<string, unknown> }>('./locales/*/*.json', {
  eager: true,
});

/** `{ en: { nav: {...}, ... }, de: {...} }` built from the JSON files. */
export const resources: Record<string, Record<string, Record<string, unknown>>> = {};
for (const [path, mod] of Object.entries(files)) {
  const m = /\/locales\/([^/]+)\/([^/]+)\.json$/.exec(path);
  if (!m) continue;
  const [, lng, ns] = m as unknown as [string, string, string];
  (resources[lng] ??= {})[ns] = mod.default;
}

function isLanguage(code: string | null | undefined): code is Language {
  return LANGUAGES.some((l) => l.code === code);
}

/**
 * The language to start in: the one chosen in Settings on this browser, else the first of
 * the browser's preferred languages we have, else English.
 */
export function initialLanguage(): Language {
  let stored: string | null = null;
  try {
    stored = globalThis.localStorage?.getItem(STORAGE_KEY) ?? null;
  } catch {
    // Storage can be blocked (private mode settings); fall through to the browser's choice.
  }
  if (isLanguage(stored)) return stored;
  const preferred = globalThis.navigator?.languages ?? [globalThis.navigator?.language ?? 'en'];
  for (const tag of preferred) {
    const base = tag?.toLowerCase().split('-')[0];
    if (isLanguage(base)) return base;
  }
  return 'en';
}

void i18next.use(initReactI18next).init({
  resources,
  lng: initialLanguage(),
  fallbackLng: 'en',
  ns: Object.keys(resources['en'] ?? {}),
  defaultNS: 'common',
  // React escapes what it renders; escaping here too would show "&amp;".
  interpolation: { escapeValue: false },
  returnNull: false,
  initAsync: false,
});

function applyHtmlLang(lng: string): void {
  if (typeof document !== 'undefined') document.documentElement.lang = lng;
}
applyHtmlLang(i18next.language);
i18next.on('languageChanged', applyHtmlLang);

/**
 * Switches the UI language on this browser and remembers it.
 * @param code a supported language
 */
export async function setLanguage(code: Language): Promise<void> {
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, code);
  } catch {
    // Not remembered, but still switched for this page.
  }
  await i18next.changeLanguage(code);
}

export { i18next };
