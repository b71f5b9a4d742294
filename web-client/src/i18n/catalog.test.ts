import { describe, expect, it } from 'vitest';
import { LANGUAGES, resources } from './index.js';

/** Every key path of a nested catalogue, e.g. `nav.chats`. */
function keys(obj: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === 'object'
      ? keys(v as Record<string, unknown>, `${prefix}${k}.`)
      : [`${prefix}${k}`],
  );
}

/** Plural forms differ by language (`_one`, `_few`, ...): compare the base key only. */
const base = (k: string) => k.replace(/_(zero|one|two|few|many|other)$/, '');

describe('the string catalogue', () => {
  const en = resources['en'] ?? {};

  it('when a namespace exists in English, then every language has it with the same keys', () => {
    expect(Object.keys(en).length).toBeGreaterThan(0);
    for (const { code } of LANGUAGES) {
      const lang = resources[code] ?? {};
      expect(Object.keys(lang).sort(), code).toEqual(Object.keys(en).sort());
      for (const ns of Object.keys(en)) {
        const want = [...new Set(keys(en[ns] ?? {}).map(base))].sort();
        const got = [...new Set(keys(lang[ns] ?? {}).map(base))].sort();
        expect(got, `${code}/${ns}`).toEqual(want);
      }
    }
  });

  it('when a value has {{placeholders}}, then every translation keeps the same ones', () => {
    const vars = (s: unknown) => [...String(s).matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();
    for (const ns of Object.keys(en)) {
      const flat = (o: Record<string, unknown>) =>
        Object.fromEntries(
          keys(o).map((k) => [
            k,
            k.split('.').reduce<unknown>((x, p) => (x as Record<string, unknown>)[p], o),
          ]),
        );
      const enFlat = flat(en[ns] ?? {});
      for (const { code } of LANGUAGES) {
        const other = flat(resources[code]?.[ns] ?? {});
        for (const [k, v] of Object.entries(other)) {
          const source = enFlat[k] ?? enFlat[`${base(k)}_other`];
          expect(vars(v), `${code}/${ns}/${k}`).toEqual(vars(source));
        }
      }
    }
  });
});
