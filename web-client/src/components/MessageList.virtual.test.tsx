import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageView } from '../state/index.js';
import { initialState } from '../state/reducer.js';
import { AppProvider } from '../state/store.js';
import { alice, bob, stubApi } from '../testing/stub-api.js';
import { render, settle } from '../testing/render.js';
import { MessageList } from './MessageList.js';
import { ReplyProvider } from './reply-context.js';

/** jsdom has no layout: a 400 px scroller whose rows are 50 px each, and a scroll that scrolls (sizes jsdom lacks). */
const restore: Array<() => void> = [];
function mockLayout(proto: object, prop: string, get: (el: HTMLElement) => number) {
  const before = Object.getOwnPropertyDescriptor(proto, prop);
  Object.defineProperty(proto, prop, {
    configurable: true,
    get(this: HTMLElement) {
      return get(this);
    },
  });
  restore.push(() => (before ? Object.defineProperty(proto, prop, before) : undefined));
}
beforeEach(() => {
  mockLayout(HTMLElement.prototype, 'clientHeight', (el) =>
    el.classList.contains('message-scroller') ? 400 : 0,
  );
  mockLayout(Element.prototype, 'scrollHeight', (el) =>
    el.classList.contains('message-scroller') ? 50 * 2000 : 0,
  );
  mockLayout(HTMLElement.prototype, 'offsetHeight', (el) => (el.tagName === 'LI' ? 50 : 0));
  const tops = new WeakMap<Element, number>();
  const topBefore = Object.getOwnPropertyDescriptor(Element.prototype, 'scrollTop');
  Object.defineProperty(Element.prototype, 'scrollTop', {
    configurable: true,
    get(this: Element) {
      return tops.get(this) ?? 0;
    },
    set(this: Element, v: number) {
      tops.set(this, v);
    },
  });
  restore.push(() => topBefore && Object.defineProperty(Element.prototype, 'scrollTop', topBefore));
  const scrollTo = HTMLElement.prototype.scrollTo;
  HTMLElement.prototype.scrollTo = function (this: HTMLElement, opts?: ScrollToOptions | number) {
    if (typeof opts === 'object' && opts.top !== undefined) this.scrollTop = opts.top;
    this.dispatchEvent(new Event('scroll'));
  } as typeof scrollTo;
  restore.push(() => (HTMLElement.prototype.scrollTo = scrollTo));
});
let cleanup: (() => void) | undefined;
afterEach(() => {
  cleanup?.();
  cleanup = undefined;
  while (restore.length) restore.pop()!();
});

const many: MessageView[] = Array.from({ length: 2000 }, (_, i) => ({
  id: `m${String(i).padStart(4, '0')}`,
  conversationId: 'c',
  senderUserId: bob.id,
  direction: 'in',
  kind: 'text',
  text: `message ${i}`,
  sentAt: 1_000 + i,
  status: 'read',
}));

describe('the virtualised message list', () => {
  it('when 2,000 messages are loaded, then only a window of rows is in the DOM and padding stands in for the rest', async () => {
    const { container, unmount } = await render(
      <AppProvider
        api={stubApi()}
        initial={{ ...initialState, me: alice, messages: { c: many }, hasMore: { c: false } }}
      >
        <ReplyProvider>
          <MessageList conversationId="c" />
        </ReplyProvider>
      </AppProvider>,
    );
    cleanup = unmount;
    await settle(50);
    const rows = [...container.querySelectorAll('li.message')];
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThan(60);
    // Rows in order, each told its index; the padding is the estimated height (64 px) of the
    // rows never rendered (the rendered ones measured 50 px).
    const first = Number(rows[0]!.getAttribute('data-index'));
    expect(rows.map((r) => r.getAttribute('data-message-id'))).toEqual(
      many.slice(first, first + rows.length).map((m) => m.id),
    );
    const list = container.querySelector<HTMLElement>('ol.messages')!;
    const pad =
      parseFloat(list.style.paddingTop || '0') + parseFloat(list.style.paddingBottom || '0');
    expect(pad).toBe(64 * (2000 - rows.length));
  });
});
