import { describe, expect, it } from 'vitest';
import { indexGrams, normalize, queryGrams, snippetOf } from './search-text.js';

describe('search text', () => {
  it('when text has case, accents, full-width forms and runs of space, then it normalises them', () => {
    expect(normalize('  Café  AU\tLait ').text).toBe('cafe au lait');
    expect(normalize('ＡＢＣ１２３').text).toBe('abc123');
    expect(normalize('Straße Ærø Ñandú').text).toBe('straße ærø nandu');
    // A decomposed accent (e + U+0301) folds like a composed one.
    expect(normalize('cafe\u0301').text).toBe('cafe');
  });

  it('when text is Japanese or Korean, then voicing marks and Hangul syllables stay whole', () => {
    expect(normalize('ダワー').text).toBe('ダワー');
    expect(normalize('ﾀﾞﾜｰ').text).toBe('ダワー');
    expect(normalize('서울역').text).toBe('서울역');
  });

  it('when text is normalised, then every unit maps back to its original position', () => {
    const n = normalize('Hi  Café');
    expect(n.text).toBe('hi cafe');
    expect(n.origin).toEqual([0, 1, 2, 4, 5, 6, 7]);
  });

  it('when text is indexed, then trigrams everywhere and CJK bigrams and unigrams are its grams', () => {
    expect([...indexGrams('abcd')].sort()).toEqual(['abc', 'bcd']);
    expect([...indexGrams('a東京')].sort()).toEqual(['a東', 'a東京', '京', '東', '東京'].sort());
  });

  it('when a query is short, then only a CJK one is searchable, as its own gram', () => {
    expect(queryGrams('ab')).toBeUndefined();
    expect(queryGrams('')).toBeUndefined();
    expect(queryGrams('東')).toEqual(['東']);
    expect(queryGrams('서울')).toEqual(['서울']);
    expect(queryGrams('abcab')).toEqual(['abc', 'bca', 'cab']);
  });

  it('when a snippet is cut, then it keeps the original text around the match with its offsets', () => {
    const original = `${'x'.repeat(40)} the Café   opens at 9 ${'y'.repeat(80)}`;
    const s = snippetOf(original, normalize(original), 'cafe opens')!;
    expect(s.text.startsWith('…')).toBe(true);
    expect(s.text.endsWith('…')).toBe(true);
    expect(s.text.slice(s.start, s.end)).toBe('Café opens');
    expect(snippetOf('abc', normalize('abc'), 'zzz')).toBeUndefined();
  });

  it('when the text has astral characters, then a snippet never splits them', () => {
    const original = `${'😀'.repeat(30)}東京タワー`;
    const s = snippetOf(original, normalize(original), '東京', 5)!;
    expect(s.text.slice(s.start, s.end)).toBe('東京');
    expect(s.text).not.toMatch(/^…[\udc00-\udfff]/);
  });
});
