import { defaultRangeExtractor, observeElementRect, useVirtualizer } from '@tanstack/react-virtual';
import type { Virtualizer } from '@tanstack/react-virtual';
import { useLayoutEffect, useRef, useState } from 'react';
import type { RefObject } from 'react';
import type { MessageView } from '../state/index.js';

/** A first guess of a row's height before it is measured (px). */
const ESTIMATED_ROW_PX = 64;
/** Rows rendered beyond each edge of the viewport. */
const OVERSCAN = 8;

/** What {@link useMessageWindow} gives the message list. */
export interface MessageWindow {
  virtualizer: Virtualizer<HTMLDivElement, Element>;
  /** Padding above and below the rendered rows, standing in for the rows not rendered (px). */
  padTop: number;
  padBottom: number;
  /** Remembers the first row in view, so that it stays in place when older pages are prepended. */
  holdPosition(): void;
  /** Scrolls the row of a message into the rendered window; false when it is not loaded. */
  reveal(messageId: string): boolean;
}

/**
 * Virtualises the message list: only the rows in and near the viewport are in the DOM
 * (@tanstack/react-virtual, measuring each rendered row). Keeps the row in view in place when
 * older messages are prepended ({@link MessageWindow.holdPosition}) and follows the bottom while
 * the reader is there (new messages, rows growing as they are measured or images load).
 * @param messages the loaded messages, oldest first
 * @param scroller the scrolling element
 * @param list the list element whose children are the rendered rows, in order
 * @param atBottom whether the reader is at the bottom (kept by the scroller's scroll handler)
 * @returns the window
 */
export function useMessageWindow(
  messages: readonly MessageView[],
  scroller: RefObject<HTMLDivElement | null>,
  list: RefObject<HTMLOListElement | null>,
  atBottom: RefObject<boolean>,
): MessageWindow {
  const [layout, setLayout] = useState({ margin: 0, gap: 0 });
  const anchor = useRef<{ id: string; offset: number } | null>(null);
  // Without a layout (a hidden tab, jsdom) nothing can be measured: every loaded row renders.
  const noLayout = useRef(false);
  const virtualizer = useVirtualizer({
    count: messages.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ESTIMATED_ROW_PX,
    getItemKey: (i) => messages[i]?.id ?? i,
    overscan: OVERSCAN,
    gap: layout.gap,
    scrollMargin: layout.margin,
    observeElementRect: (instance, cb) =>
      observeElementRect(instance, (rect) => {
        noLayout.current = rect.height === 0;
        cb(noLayout.current ? { width: rect.width, height: window.innerHeight || 1 } : rect);
      }),
    rangeExtractor: (range) =>
      noLayout.current
        ? Array.from({ length: range.count }, (_, i) => i)
        : defaultRangeExtractor(range),
  });

  // Where the list starts inside the scroller (the "load older" row and notices sit above it)
  // and the gap between rows (from the stylesheet).
  useLayoutEffect(() => {
    const el = scroller.current;
    const ol = list.current;
    if (!el || !ol) return;
    const margin = Math.round(
      ol.getBoundingClientRect().top - el.getBoundingClientRect().top + el.scrollTop,
    );
    const gap = parseFloat(getComputedStyle(ol).rowGap) || 0;
    if (margin !== layout.margin || gap !== layout.gap) setLayout({ margin, gap });
  });

  // Measure the rendered rows (MessageBubble renders its own <li>: the index is set here).
  useLayoutEffect(() => {
    const ol = list.current;
    // Without a layout there is nothing to measure (every row renders anyway).
    if (!ol || noLayout.current) return;
    const items = virtualizer.getVirtualItems();
    Array.from(ol.children).forEach((row, k) => {
      const item = items[k];
      if (!item) return;
      row.setAttribute('data-index', String(item.index));
      virtualizer.measureElement(row);
    });
  });

  // After a prepend, put the remembered row back where it was; else follow the bottom.
  const total = virtualizer.getTotalSize();
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const held = anchor.current;
    if (held) {
      const index = messages.findIndex((m) => m.id === held.id);
      anchor.current = null;
      const start = index < 0 ? undefined : virtualizer.getOffsetForIndex(index, 'start')?.[0];
      if (start !== undefined) el.scrollTop = start - held.offset;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [messages, total, scroller, atBottom, virtualizer]);

  const items = virtualizer.getVirtualItems();
  const first = items[0];
  const last = items[items.length - 1];
  return {
    virtualizer,
    padTop: first ? first.start - layout.margin : 0,
    padBottom: last ? Math.max(total - (last.end - layout.margin), 0) : 0,
    holdPosition: () => {
      const el = scroller.current;
      const top = el?.scrollTop ?? 0;
      const inView =
        virtualizer.getVirtualItems().find((i) => i.end > top) ?? virtualizer.getVirtualItems()[0];
      const m = inView && messages[inView.index];
      anchor.current = m && inView ? { id: m.id, offset: inView.start - top } : null;
    },
    reveal: (id) => {
      const index = messages.findIndex((m) => m.id === id);
      if (index < 0) return false;
      // Without a layout every loaded row is rendered already: nothing to scroll.
      if (!noLayout.current) virtualizer.scrollToIndex(index, { align: 'center' });
      return true;
    },
  };
}
