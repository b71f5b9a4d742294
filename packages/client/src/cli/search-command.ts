import type { SearchHit } from '../client/search.js';
import { safeText } from './output.js';
import { timeText } from './time-text.js';

/** The usage line of `search`. */
export const SEARCH_USAGE = `  chat-cli search <text> [--conversation ID] [--limit N]
                     finds messages in this terminal's history (substrings; case, accents
                     and width ignored; CJK phrases of any length), newest first`;

/**
 * The search arguments, checked: the words are the query.
 * @param args the words after `search`
 * @param options `--conversation` and `--limit`
 * @returns the query and its options, or an error message for a usage error
 */
export function searchArgs(
  args: readonly string[],
  options: { conversation?: string; limit?: string },
): { text: string; conversationId?: string; limit: number } | { error: string } {
  const text = args.join(' ').trim();
  if (!text) return { error: 'usage: chat-cli search <text> [--conversation ID] [--limit N]' };
  const limit = options.limit === undefined ? 20 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500)
    return { error: '--limit must be a whole number from 1 to 500' };
  return { text, limit, ...(options.conversation ? { conversationId: options.conversation } : {}) };
}

/**
 * One hit as a person reads it, on one line: the match is marked with » «, other people's
 * text goes through {@link safeText}.
 * @param hit a search hit
 * @returns the line
 */
export function hitLine(hit: SearchHit): string {
  const s = hit.snippet;
  const marked = `${s.text.slice(0, s.start)}»${s.text.slice(s.start, s.end)}«${s.text.slice(s.end)}`;
  const who = hit.direction === 'out' ? 'me' : hit.senderUserId;
  return safeText(
    `[${timeText(hit.sentAt)}] ${hit.conversationId} ${who}: ${marked} (id ${hit.messageId})`,
  );
}
