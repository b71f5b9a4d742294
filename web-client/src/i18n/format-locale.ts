import { i18next } from './index.js';

/**
 * The locale to format dates and numbers in: the UI language, in the browser's own regional
 * variant of it when the browser prefers one (English UI on an en-GB browser keeps 24-hour
 * times), so switching the language in Settings also switches how times read.
 * @returns a BCP 47 tag for `Intl` and `toLocale*String`
 */
export function formatLocale(): string {
  const lng = i18next.language || 'en';
  const preferred = globalThis.navigator?.languages ?? [];
  return preferred.find((tag) => tag.toLowerCase().split('-')[0] === lng) ?? lng;
}
