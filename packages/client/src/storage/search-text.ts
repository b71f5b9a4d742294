/**
 * Text rules of the local search (docs/client.md "Local search"): how message text and queries
 * are normalised, which n-grams are indexed, and the snippet shown with a hit. Pure functions,
 * no I/O.
 */

/** Combining diacritical marks that search ignores ("cafe" finds "café"); kana voicing marks stay. */
const MARK_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x0300, 0x036f],
  [0x1ab0, 0x1aff],
  [0x1dc0, 0x1dff],
  [0x20d0, 0x20ff],
  [0xfe20, 0xfe2f],
];

/** @param s decomposed (NFD) text @returns it without the diacritical marks of {@link MARK_RANGES} */
function stripMarks(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (!MARK_RANGES.some(([lo, hi]) => u >= lo && u <= hi)) out += s[i];
  }
  return out;
}
const SPACE = /\s/u;
/** Han, Hiragana, Katakana (with the prolonged sound mark), Hangul: scripts written without spaces. */
const CJK =
  /[\u1100-\u11ff\u3005\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f]|[\u{20000}-\u{3134f}]/u;

/** Text in search form, with where each of its code units came from in the original. */
export interface NormalizedText {
  /** NFKC, lower-case, accents removed, every run of white space one space, trimmed. */
  readonly text: string;
  /** For each UTF-16 unit of `text`, the index of the original unit it came from. */
  readonly origin: readonly number[];
}

/**
 * Normalises text for search: NFKC (full-width and compatibility forms fold), lower-case,
 * accents removed (NFD, marks dropped, NFC again so Hangul syllables stay whole), white space
 * collapsed. Done per code point so every result unit maps back to the original (snippets).
 * @param input message text or a query
 * @returns the normalised text and its origin map
 */
export function normalize(input: string): NormalizedText {
  let text = '';
  const origin: number[] = [];
  let space = true; // drops leading space
  for (let i = 0; i < input.length;) {
    const cp = input.codePointAt(i)!;
    if (cp < 0x80) {
      // ASCII, most text: lower-case, white space collapsed, nothing else to fold.
      if (cp === 0x20 || (cp >= 0x09 && cp <= 0x0d)) {
        if (!space) {
          space = true;
          text += ' ';
          origin.push(i);
        }
      } else {
        space = false;
        text += cp >= 0x41 && cp <= 0x5a ? String.fromCharCode(cp + 32) : input[i]!;
        origin.push(i);
      }
      i += 1;
      continue;
    }
    const width = cp > 0xffff ? 2 : 1;
    const out = fold(cp);
    for (const ch of out) {
      if (SPACE.test(ch)) {
        if (space) continue;
        space = true;
        text += ' ';
        origin.push(i);
        continue;
      }
      if ((ch === '\u3099' || ch === '\u309a') && !space) {
        // A voicing mark of its own (half-width ﾀﾞ): joined to its kana when they compose.
        const last = text[text.length - 1]!;
        const joined = (last + ch).normalize('NFC');
        if (joined.length === 1) {
          text = text.slice(0, -1) + joined;
          continue;
        }
      }
      space = false;
      text += ch;
      for (let k = 0; k < ch.length; k++) origin.push(i);
    }
    i += width;
  }
  if (text.endsWith(' ')) {
    text = text.slice(0, -1);
    origin.pop();
  }
  return { text, origin };
}

/** Folded forms of the non-ASCII code points met so far (a bounded cache: folding is pure). */
const folded = new Map<number, string>();

/** @param cp a non-ASCII code point @returns it in search form (NFKC, lower-case, no marks, NFC) */
function fold(cp: number): string {
  let out = folded.get(cp);
  if (out === undefined) {
    out = stripMarks(
      String.fromCodePoint(cp).normalize('NFKC').toLowerCase().normalize('NFD'),
    ).normalize('NFC');
    if (folded.size < 65_536) folded.set(cp, out);
  }
  return out;
}

/** @param ch one code point @returns whether it belongs to a script written without spaces (CJK) */
export function isCjk(ch: string): boolean {
  const cp = ch.codePointAt(0) ?? 0;
  return cp >= 0x1100 && CJK.test(ch);
}

/**
 * The n-grams a normalised text is indexed under: every character trigram, and every bigram and
 * unigram that holds a CJK character (so one- and two-character CJK queries find their text).
 * @param text normalised text
 * @returns the distinct n-grams
 */
export function indexGrams(text: string): Set<string> {
  const cps = Array.from(text);
  const grams = new Set<string>();
  for (let i = 0; i < cps.length; i++) {
    const a = cps[i]!;
    const cjk = isCjk(a);
    if (cjk) grams.add(a);
    if (i + 1 < cps.length) {
      const b = cps[i + 1]!;
      if (cjk || isCjk(b)) grams.add(a + b);
      if (i + 2 < cps.length) grams.add(a + b + cps[i + 2]!);
    }
  }
  return grams;
}

/**
 * The n-grams whose postings a query intersects: its trigrams; a shorter query holding a CJK
 * character is its own bigram or unigram. Any text that contains the query holds all of them.
 * @param query normalised query
 * @returns the n-grams, or undefined when the query is too short to search (under three
 *   characters without CJK, or empty)
 */
export function queryGrams(query: string): string[] | undefined {
  const cps = Array.from(query);
  if (cps.length >= 3) {
    const grams = new Set<string>();
    for (let i = 0; i + 2 < cps.length; i++) grams.add(cps[i]! + cps[i + 1]! + cps[i + 2]!);
    return [...grams];
  }
  if (cps.length > 0 && cps.some(isCjk)) return [query];
  return undefined;
}

/** A hit's snippet: original text around the first match, and where the match lies in it. */
export interface Snippet {
  /** Up to a few dozen characters of the original text, with "…" where it was cut. */
  readonly text: string;
  /** UTF-16 offset of the match in `text`. */
  readonly start: number;
  /** UTF-16 offset just after the match in `text`. */
  readonly end: number;
}

/**
 * Cuts the original text around the first match of a normalised query.
 * @param original the message text
 * @param normalized `normalize(original)`
 * @param query the normalised query
 * @param context characters kept before the match (about twice as many after it)
 * @returns the snippet, or undefined when the text does not contain the query
 */
export function snippetOf(
  original: string,
  normalized: NormalizedText,
  query: string,
  context = 24,
): Snippet | undefined {
  const at = normalized.text.indexOf(query);
  if (at < 0 || query.length === 0) return undefined;
  const from = normalized.origin[at]!;
  const lastUnit = normalized.origin[at + query.length - 1]!;
  // Through the end of the last original code point the match used.
  const to = lastUnit + (original.codePointAt(lastUnit)! > 0xffff ? 2 : 1);
  let begin = Math.max(0, from - context);
  let end = Math.min(original.length, to + context * 2);
  // Never split a surrogate pair at the cuts.
  if (begin > 0 && isLowSurrogate(original.charCodeAt(begin))) begin -= 1;
  if (end < original.length && isLowSurrogate(original.charCodeAt(end))) end += 1;
  const head = begin > 0 ? '…' : '';
  const text = `${head}${original.slice(begin, end)}${end < original.length ? '…' : ''}`.replace(
    /\s+/g,
    ' ',
  );
  // White space collapsed only changes lengths inside the text; recompute offsets on the result.
  const before = `${head}${original.slice(begin, from)}`.replace(/\s+/g, ' ');
  const match = original.slice(from, to).replace(/\s+/g, ' ');
  return { text, start: before.length, end: before.length + match.length };
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
