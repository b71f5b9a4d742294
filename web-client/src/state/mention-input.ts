import type { UserView } from './chat-api.js';

/** A member offered by the `@` autocomplete. */
export interface MentionCandidate {
  userId: string;
  username: string;
  displayName: string;
}

/** One piece of a message text: plain, or a mention of a member (`me`: of me). */
export interface TextSegment {
  text: string;
  userId?: string;
  me?: boolean;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The `@word` being typed right before the caret, if any (an `@` at the start or after a space).
 * @param text the composer text
 * @param caret the caret position
 * @returns where the `@` is and what follows it, or undefined
 */
export function activeMention(
  text: string,
  caret: number,
): { start: number; query: string } | undefined {
  const m = /(^|\s)@([\p{L}\p{N}_.-]*)$/u.exec(text.slice(0, caret));
  if (!m) return undefined;
  const query = m[2] ?? '';
  return { start: caret - query.length - 1, query };
}

/**
 * The members to offer for a query: matched on the start of the username, of the display name
 * or of one of its words (case-insensitive); me and members without a known profile are left out.
 * @param memberIds the conversation's members
 * @param users known profiles
 * @param meId my user id
 * @param query what follows the `@`
 * @param limit most candidates to show
 * @returns candidates, by username
 */
export function mentionCandidates(
  memberIds: readonly string[],
  users: Record<string, UserView>,
  meId: string | undefined,
  query: string,
  limit = 8,
): MentionCandidate[] {
  const q = query.toLowerCase();
  return memberIds
    .filter((id) => id !== meId)
    .map((id) => users[id])
    .filter((u): u is UserView => u !== undefined)
    .filter((u) => {
      const name = u.displayName.toLowerCase();
      return (
        u.username.toLowerCase().startsWith(q) ||
        name.startsWith(q) ||
        name.split(/\s+/).some((w) => w.startsWith(q))
      );
    })
    .sort((a, b) => a.username.localeCompare(b.username))
    .slice(0, limit)
    .map((u) => ({ userId: u.id, username: u.username, displayName: u.displayName }));
}

/**
 * Replaces the `@query` being typed with `@username ` (one space after it).
 * @param text the composer text
 * @param caret the caret position (end of the query)
 * @param start where the `@` is
 * @param username the chosen member's username
 * @returns the new text and caret
 */
export function insertMention(
  text: string,
  caret: number,
  start: number,
  username: string,
): { text: string; caret: number } {
  const inserted = `@${username} `;
  const after = text.slice(caret).replace(/^ /, '');
  return { text: text.slice(0, start) + inserted + after, caret: start + inserted.length };
}

function tokenPattern(username: string): RegExp {
  return new RegExp(`(^|\\s)@${escape(username)}(?![\\p{L}\\p{N}_.-])`, 'u');
}

/**
 * The mentions to send: the members picked from the autocomplete whose `@username` is still in
 * the text (deleting the text takes the mention back).
 * @param text the text as sent
 * @param picked username to user id, as picked
 * @returns user ids
 */
export function mentionsInText(text: string, picked: Record<string, string>): string[] {
  return [
    ...new Set(
      Object.entries(picked)
        .filter(([username]) => tokenPattern(username).test(text))
        .map(([, id]) => id),
    ),
  ];
}

/**
 * Splits a message text into plain pieces and `@username` mentions of the members the message
 * says it mentions (an `@word` that is not among them stays plain).
 * @param text the message text
 * @param mentions user ids the message mentions
 * @param users known profiles
 * @param meId my user id
 * @returns the pieces, in order
 */
export function splitMentions(
  text: string,
  mentions: readonly string[] | undefined,
  users: Record<string, UserView>,
  meId: string | undefined,
  me?: UserView,
): TextSegment[] {
  const byName = new Map<string, string>();
  for (const id of mentions ?? []) {
    const u = id === meId && me ? me : users[id];
    if (u) byName.set(u.username.toLowerCase(), id);
  }
  if (byName.size === 0) return [{ text }];
  const names = [...byName.keys()].sort((a, b) => b.length - a.length).map(escape);
  const re = new RegExp(`(^|\\s)(@(?:${names.join('|')}))(?![\\p{L}\\p{N}_.-])`, 'giu');
  const out: TextSegment[] = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    const at = (m.index ?? 0) + (m[1]?.length ?? 0);
    const token = m[2] ?? '';
    if (at > last) out.push({ text: text.slice(last, at) });
    const userId = byName.get(token.slice(1).toLowerCase());
    out.push({ text: token, ...(userId ? { userId, me: userId === meId } : {}) });
    last = at + token.length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}
