import { find } from 'linkifyjs';

/** A piece of message text: plain, or a link with the address it opens. */
export interface LinkSegment {
  text: string;
  /** Set on a link: the normalised address (host in punycode), http(s) or mailto only. */
  href?: string;
}

/** The only schemes a message may link to; anything else stays plain text. */
const ALLOWED = new Set(['http:', 'https:', 'mailto:']);

/**
 * Normalises a found address and checks its scheme.
 * @param href the address linkifyjs formed (bare domains get `https://`)
 * @returns the address as the browser will open it (an IDN host shows as `xn--…`), or null
 */
export function safeHref(href: string): string | null {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return null;
  }
  return ALLOWED.has(url.protocol) ? url.href : null;
}

/**
 * Splits text into plain pieces and links: http(s) URLs, bare domains (opened as https) and
 * email addresses (mailto). Nothing is fetched: this only finds and checks addresses.
 * @param text plain text
 * @returns the pieces, in order; joined, their `text` is the input (but for links whose
 *   written form would mislead: see {@link honestText})
 */
export function linkSegments(text: string): LinkSegment[] {
  const out: LinkSegment[] = [];
  let at = 0;
  for (const found of find(text, { defaultProtocol: 'https' })) {
    const href = safeHref(found.href);
    if (!href) continue;
    if (found.start > at) out.push({ text: text.slice(at, found.start) });
    out.push({ text: honestText(text.slice(found.start, found.end), href), href });
    at = found.end;
  }
  if (at < text.length) out.push({ text: text.slice(at) });
  return out;
}

/** Bidirectional controls: they can make "…\u202Egnp.exe" read as "…exe.png". */
const BIDI = /[\u200E\u200F\u202A-\u202E\u2066-\u2069]/;

/**
 * What a link shows: the words as written, unless they would mislead about where it goes (a
 * look-alike host such as Cyrillic "аpple.com", whose real host is `xn--…`, or bidirectional
 * controls); then the address it really opens.
 * @param written the link as written in the message
 * @param href the normalised address
 * @returns the text to show
 */
export function honestText(written: string, href: string): string {
  if (BIDI.test(written)) return href;
  const url = new URL(href);
  if (url.protocol === 'mailto:') return written;
  // "https://apple.com@evil.com" names apple.com but opens evil.com.
  if (url.username || url.password) return href;
  return written.toLowerCase().includes(url.hostname) ? written : href;
}
