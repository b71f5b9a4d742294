import { useId, useRef, useState } from 'react';
import type { KeyboardEvent, RefObject } from 'react';
import { useTranslation } from 'react-i18next';
import {
  activeMention,
  insertMention,
  mentionCandidates,
  mentionsInText,
  type MentionCandidate,
} from '../state/mention-input.js';
import { useApp } from '../state/store.js';

/** What the composer wires into its textarea for `@` mentions. */
export interface MentionAutocomplete {
  /** The candidates shown (empty: closed). */
  candidates: MentionCandidate[];
  /** Index of the highlighted candidate. */
  active: number;
  listId: string;
  optionId(i: number): string;
  /** Handles arrows, Enter, Tab and Escape while open; true when it took the key. */
  onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>): boolean;
  /** Call on every change and caret move. */
  onCaret(caret: number): void;
  pick(c: MentionCandidate): void;
  /** The user ids to send with `text` (picked and still in it). */
  mentionsFor(text: string): string[];
  /** Forgets the picked members (after a send). */
  reset(): void;
}

/**
 * The `@` autocomplete of a group's composer: typing `@` and the start of a member's username or
 * name lists them; arrows move, Enter or Tab inserts `@username `, Escape closes.
 * @param conversationId the conversation (only groups offer mentions)
 * @param text the composer text
 * @param setText sets the composer text
 * @param input the textarea
 * @returns the wiring
 */
export function useMentionAutocomplete(
  conversationId: string,
  text: string,
  setText: (t: string) => void,
  input: RefObject<HTMLTextAreaElement | null>,
): MentionAutocomplete {
  const { state } = useApp();
  const c = state.conversations[conversationId];
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);
  const picked = useRef<Record<string, string>>({});
  const listId = useId();
  const at = c?.kind === 'group' ? activeMention(text, caret) : undefined;
  const memberIds = c?.members.map((m) => m.userId) ?? [];
  const candidates =
    at && at.start !== dismissedAt
      ? mentionCandidates(memberIds, state.users, state.me?.id, at.query)
      : [];
  const index = Math.min(active, Math.max(candidates.length - 1, 0));

  const pick = (m: MentionCandidate) => {
    if (!at) return;
    const next = insertMention(text, caret, at.start, m.username);
    picked.current[m.username] = m.userId;
    setText(next.text);
    setCaret(next.caret);
    setActive(0);
    requestAnimationFrame(() => {
      input.current?.focus();
      input.current?.setSelectionRange(next.caret, next.caret);
    });
  };

  return {
    candidates,
    active: index,
    listId,
    optionId: (i) => `${listId}-${i}`,
    onKeyDown: (e) => {
      if (candidates.length === 0) return false;
      const n = candidates.length;
      if (e.key === 'ArrowDown') setActive((index + 1) % n);
      else if (e.key === 'ArrowUp') setActive((index - 1 + n) % n);
      else if (e.key === 'Enter' || e.key === 'Tab') pick(candidates[index] as MentionCandidate);
      else if (e.key === 'Escape') setDismissedAt(at?.start ?? null);
      else return false;
      e.preventDefault();
      return true;
    },
    onCaret: (pos) => {
      setCaret(pos);
      if (dismissedAt !== null && activeMention(text, pos)?.start !== dismissedAt)
        setDismissedAt(null);
    },
    pick,
    mentionsFor: (t) => mentionsInText(t, picked.current),
    reset: () => {
      picked.current = {};
    },
  };
}

/**
 * The list of members under the composer while an `@` is being typed.
 * @param props.auto the autocomplete wiring
 */
export function MentionPopup({ auto }: { auto: MentionAutocomplete }) {
  const { t } = useTranslation('chat');
  if (auto.candidates.length === 0) return null;
  return (
    <ul className="mention-popup" role="listbox" id={auto.listId} aria-label={t('mentionList')}>
      {auto.candidates.map((m, i) => (
        <li
          key={m.userId}
          id={auto.optionId(i)}
          role="option"
          aria-selected={i === auto.active}
          className={i === auto.active ? 'active' : ''}
          // Keep the focus in the textarea.
          onMouseDown={(e) => {
            e.preventDefault();
            auto.pick(m);
          }}
        >
          <span className="mention-name">{m.displayName}</span>{' '}
          <span className="muted small">@{m.username}</span>
        </li>
      ))}
    </ul>
  );
}
