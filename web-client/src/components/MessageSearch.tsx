import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { pathFor } from '../routing/routes.js';
import { conversationTitle } from '../state/index.js';
import type { SearchHitView, SearchProgressView } from '../state/index.js';
import { useApp } from '../state/store.js';
import { useReply } from './reply-context.js';
import { localDateTime } from './time-format.js';

/** How long typing pauses before the query runs (ms). */
const DEBOUNCE_MS = 200;
/** Hits shown at most. */
const LIMIT = 50;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/** @param q the query as typed @returns whether the index can answer it (3+ characters, or any CJK) */
export function searchable(q: string): boolean {
  const text = q.trim();
  return Array.from(text).length >= 3 || (text !== '' && CJK.test(text));
}

/** @param conversationId chat @param messageId message @returns the URL that opens the chat at that message */
export function messageLink(conversationId: string, messageId: string): string {
  return `${pathFor({ name: 'chats', conversationId })}?message=${encodeURIComponent(messageId)}`;
}

type Status =
  | { kind: 'idle' }
  | { kind: 'short' }
  | { kind: 'indexing'; progress: SearchProgressView | null }
  | { kind: 'searching' }
  | { kind: 'done'; hits: SearchHitView[] }
  | { kind: 'failed' };

/**
 * The search field over this browser's messages (local encrypted index, docs/web-client.md
 * "Search") and its results, newest first; a result opens its chat at the message.
 */
export function MessageSearch() {
  const { state, api } = useApp();
  const { t } = useTranslation('search');
  const [query, setQuery] = useState('');
  const [status, setStatus] = useState<Status>({ kind: 'idle' });
  const run = useRef(0);

  useEffect(() => {
    const mine = (run.current += 1);
    if (query.trim() === '') return setStatus({ kind: 'idle' });
    if (!searchable(query)) return setStatus({ kind: 'short' });
    const timer = setTimeout(() => {
      void (async () => {
        setStatus({ kind: 'indexing', progress: null });
        // A browser from before search builds its index once; later this returns at once.
        await api.prepareSearch((progress) => {
          if (mine === run.current) setStatus({ kind: 'indexing', progress });
        });
        if (mine !== run.current) return;
        setStatus({ kind: 'searching' });
        const hits = await api.searchMessages(query, { limit: LIMIT });
        if (mine === run.current) setStatus({ kind: 'done', hits });
      })().catch(() => {
        if (mine === run.current) setStatus({ kind: 'failed' });
      });
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [query, api]);

  const title = (id: string) => {
    const c = state.conversations[id];
    return c ? conversationTitle(state, c) : t('unknownChat');
  };
  const sender = (h: SearchHitView) =>
    h.direction === 'out' ? t('you') : (state.users[h.senderUserId]?.displayName ?? t('someone'));

  return (
    <div className="message-search">
      <form role="search" onSubmit={(e) => e.preventDefault()}>
        <input
          type="search"
          aria-label={t('label')}
          placeholder={t('placeholder')}
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') setQuery('');
          }}
        />
      </form>
      <div aria-live="polite" className="muted small search-status">
        {status.kind === 'short' && t('tooShort')}
        {status.kind === 'indexing' &&
          (status.progress?.total
            ? t('indexingProgress', {
                percent: Math.floor((100 * status.progress.done) / status.progress.total),
              })
            : t('indexing'))}
        {status.kind === 'failed' && t('failed')}
        {status.kind === 'done' && status.hits.length === 0 && t('none')}
        {status.kind === 'done' &&
          status.hits.length > 0 &&
          t('count', { count: status.hits.length })}
      </div>
      {status.kind === 'done' && status.hits.length > 0 && (
        <ul className="search-results" aria-label={t('results')}>
          {status.hits.map((h) => (
            <li key={`${h.conversationId}/${h.messageId}`}>
              <Link to={messageLink(h.conversationId, h.messageId)} data-testid="search-hit">
                <span className="search-hit-head">
                  <strong>{title(h.conversationId)}</strong>{' '}
                  <span className="muted small">
                    {sender(h)} · {localDateTime(h.sentAt)}
                  </span>
                </span>
                <span className="search-snippet">
                  {h.snippet.text.slice(0, h.snippet.start)}
                  <mark>{h.snippet.text.slice(h.snippet.start, h.snippet.end)}</mark>
                  {h.snippet.text.slice(h.snippet.end)}
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * Opens the message a link names (`?message=<id>`, from a search result): once the chat's first
 * history page is loaded, jumps to it (loading older pages as needed) and highlights it, then
 * drops the parameter so a reload does not jump again. Sits inside the chat's ReplyProvider,
 * after the message list that registers the jump.
 * @param props.conversationId the open chat
 */
export function JumpFromUrl({ conversationId }: { conversationId: string }) {
  const [params, setParams] = useSearchParams();
  const target = params.get('message');
  const { state } = useApp();
  const { jumpTo } = useReply();
  const loaded = state.hasMore[conversationId] !== undefined;
  useEffect(() => {
    if (!target || !loaded) return;
    jumpTo(target);
    setParams(
      (p) => {
        p.delete('message');
        return p;
      },
      { replace: true },
    );
  }, [target, loaded, jumpTo, setParams]);
  return null;
}
