import { createContext, useContext, useMemo, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import type { MessageView } from '../state/index.js';

/** The reply being written in one conversation, and the way to jump to a quoted message. */
export interface ReplyContextValue {
  /** The message the composer replies to, or null. */
  quote: MessageView | null;
  /** Starts (a message) or cancels (null) a reply. */
  setQuote(m: MessageView | null): void;
  /** Scrolls to a message and highlights it, loading older history until it is found. */
  jumpTo(messageId: string): void;
  /** The message list registers how it jumps (it owns the scroller and the history pages). */
  registerJump(jump: ((messageId: string) => void) | null): void;
}

const noop = () => undefined;
const ReplyContext = createContext<ReplyContextValue>({
  quote: null,
  setQuote: noop,
  jumpTo: noop,
  registerJump: noop,
});

/**
 * Holds the reply state of the open conversation (keyed by it, so switching conversations drops
 * an unfinished quote).
 * @param props.children the message list and the composer
 */
export function ReplyProvider({ children }: { children: ReactNode }) {
  const [quote, setQuote] = useState<MessageView | null>(null);
  const jump = useRef<((messageId: string) => void) | null>(null);
  const value = useMemo<ReplyContextValue>(
    () => ({
      quote,
      setQuote,
      jumpTo: (id) => jump.current?.(id),
      registerJump: (j) => {
        jump.current = j;
      },
    }),
    [quote],
  );
  return <ReplyContext.Provider value={value}>{children}</ReplyContext.Provider>;
}

/** @returns the reply state (a no-op one outside a {@link ReplyProvider}) */
export function useReply(): ReplyContextValue {
  return useContext(ReplyContext);
}
