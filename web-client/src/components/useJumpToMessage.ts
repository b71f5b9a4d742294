import { useEffect, useRef, useState } from 'react';
import type { RefObject } from 'react';
import { useApp } from '../state/store.js';
import { useReply } from './reply-context.js';

/** How long a message stays highlighted after a jump (ms). */
const HIGHLIGHT_MS = 2500;

/** Lets React render what the last dispatch changed. */
const rendered = () => new Promise<void>((resolve) => setTimeout(resolve, 30));

/**
 * Registers the message list's jump (a click on a quote): finds the message among the loaded
 * ones (the virtualised list renders it first), else loads older history pages until it is
 * there, then scrolls to it, highlights it and moves the focus to it. When the whole local
 * history lacks it, says so.
 * @param conversationId the conversation shown
 * @param scroller the scrolling list
 * @param reveal brings a loaded message's row into the rendered window (false: not loaded)
 * @returns true while "the original message is not on this device" should show
 */
export function useJumpToMessage(
  conversationId: string,
  scroller: RefObject<HTMLDivElement | null>,
  reveal: (messageId: string) => boolean = () => false,
): boolean {
  const { state, actions } = useApp();
  const { registerJump } = useReply();
  const [missing, setMissing] = useState(false);
  const hasMore = useRef(true);
  hasMore.current = state.hasMore[conversationId] ?? false;
  const run = useRef(0);
  const revealRef = useRef(reveal);
  revealRef.current = reveal;

  useEffect(() => {
    const find = (id: string) =>
      scroller.current?.querySelector<HTMLElement>(
        `[data-message-id="${id.replace(/["\\]/g, '\\$&')}"]`,
      );
    const jump = async (id: string) => {
      const mine = (run.current += 1);
      setMissing(false);
      // Loaded but outside the rendered window: scroll the window to it (rows settle as they
      // are measured, so a few tries).
      const shown = async () => {
        for (let tries = 0; tries < 5 && mine === run.current; tries++) {
          const found = find(id);
          if (found) return found;
          if (!revealRef.current(id)) return undefined;
          await rendered();
        }
        return find(id);
      };
      let el = await shown();
      while (!el && hasMore.current && mine === run.current) {
        await actions.loadOlder(conversationId);
        await rendered();
        el = await shown();
      }
      if (mine !== run.current) return;
      if (!el) {
        setMissing(true);
        return;
      }
      el.scrollIntoView?.({ block: "center" });
      el.classList.add('highlight');
      el.tabIndex = -1;
      el.focus({ preventScroll: true });
      setTimeout(() => el.classList.remove('highlight'), HIGHLIGHT_MS);
    };
    registerJump((id) => void jump(id).catch(() => setMissing(true)));
    return () => registerJump(null);
  }, [conversationId, actions, registerJump, scroller]);

  return missing;
}
