import { describe, expect, it } from 'vitest';
import { linkSegments, safeHref } from './link-text.js';

const links = (text: string) => linkSegments(text).filter((s) => s.href);

describe('links in message text', () => {
  it('when text has an https URL, a bare domain and an email, then each becomes a link and the text is kept', () => {
    const text = 'see https://example.com/a?b=1#c, or example.org and mail bob@example.net!';
    const parts = linkSegments(text);
    expect(parts.map((p) => p.text).join('')).toBe(text);
    expect(links(text)).toEqual([
      { text: 'https://example.com/a?b=1#c', href: 'https://example.com/a?b=1#c' },
      { text: 'example.org', href: 'https://example.org/' },
      { text: 'bob@example.net', href: 'mailto:bob@example.net' },
    ]);
  });

  it('when text has http and mailto links, then they are kept as such', () => {
    expect(links('http://example.com and mailto:a@example.com')).toEqual([
      { text: 'http://example.com', href: 'http://example.com/' },
      { text: 'mailto:a@example.com', href: 'mailto:a@example.com' },
    ]);
  });

  it('when text has javascript:, data:, file:, ftp: or other schemes, then nothing is a link', () => {
    for (const text of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(document.cookie)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
      'ftp://example.com/file',
    ]) {
      expect(links(text), text).toEqual([]);
    }
    // A javascript: prefix is never part of a link: only the https address after it is.
    expect(links('click javascript://example.com/%0aalert(1)')).toEqual([
      { text: 'example.com/%0aalert(1)', href: 'https://example.com/%0aalert(1)' },
    ]);
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('not a url')).toBeNull();
  });

  it('when a link only looks like another site, then it shows the address it really opens', () => {
    // Cyrillic "а" in paypal: the address is the punycode host, and that is what shows.
    const [idn] = links('log in at https://pаypal.com now');
    expect(idn?.href).toMatch(/^https:\/\/xn--/);
    expect(idn?.text).toBe(idn?.href);
    // Bidirectional controls would make ".exe" read as ".png": the plain address shows.
    const [bidi] = links('https://a.example/\u202Egnp.exe');
    expect(bidi?.text).toBe(bidi?.href);
    expect(bidi?.text).not.toMatch(/[\u202A-\u202E]/);
    // user-info before the host: the real host is evil.example.
    const [userinfo] = links('https://bank.example@evil.example/login');
    expect(new URL(userinfo!.href!).host).toBe('evil.example');
    expect(userinfo?.text).toBe(userinfo?.href);
  });

  it('when text has no address, then it is one plain piece', () => {
    expect(linkSegments('just words, 1.5 and v2.0')).toEqual([
      { text: 'just words, 1.5 and v2.0' },
    ]);
    expect(linkSegments('')).toEqual([]);
  });
});
