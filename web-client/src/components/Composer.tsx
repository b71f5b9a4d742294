import { useEffect, useId, useRef, useState } from 'react';
import type { FormEvent, KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { describeError } from '../state/index.js';
import { useApp } from '../state/store.js';
import { MentionPopup, useMentionAutocomplete } from './MentionPopup.js';
import { PaperclipIcon } from './PaperclipIcon.js';
import { authorName } from './ReplyQuote.js';
import { useReply } from './reply-context.js';
import { TransferBar } from './TransferBar.js';
import { useAttachmentSend } from './useAttachmentSend.js';
import { useDropTarget } from './useDropTarget.js';
import { VoiceRecorder } from './VoiceRecorder.js';

/** Refresh "typing on" at most this often; send "off" after this long without keystrokes. */
const TYPING_REFRESH_MS = 3000;
/**
 * Message input: Enter sends, Shift+Enter adds a line; a file is attached with the file button,
 * by pasting it or by dropping it on the conversation, or recorded as a voice note (each
 * encrypted before upload, with progress and Cancel; over the server's limit it is refused
 * before anything is encrypted). Typing state is throttled so a fast typist does not flood the socket.
 * @param props.conversationId the conversation
 * @param props.blockedReason when set, sending is disabled and this says why
 */
export function Composer({
  conversationId,
  blockedReason,
}: {
  conversationId: string;
  blockedReason?: string;
}) {
  const { api, actions, state } = useApp();
  const [text, setText] = useState('');
  const textarea = useRef<HTMLTextAreaElement>(null);
  const { quote, setQuote } = useReply();
  const auto = useMentionAutocomplete(conversationId, text, setText, textarea);
  // Choosing Reply moves the focus here.
  useEffect(() => {
    if (quote) textarea.current?.focus();
  }, [quote]);
  const [error, setError] = useState<string | null>(null);
  const { t } = useTranslation('att');
  const { t: tc } = useTranslation('conversation');
  const form = useRef<HTMLFormElement>(null);
  const files = useAttachmentSend(conversationId, quote ? { replyTo: quote.id } : undefined, () => setQuote(null));
  const busy = files.upload !== null;
  const dragging = useDropTarget(form, (file) => void onFile(file), !!blockedReason || busy);
  const inputId = useId();
  const fileId = useId();
  const lastTypingOn = useRef(0);
  const stopTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const stopTyping = () => {
    clearTimeout(stopTimer.current);
    if (lastTypingOn.current) {
      lastTypingOn.current = 0;
      api.setTyping(conversationId, false);
    }
  };
  const stopRef = useRef(stopTyping);
  stopRef.current = stopTyping;
  // Leaving the conversation ends "typing".
  useEffect(() => () => stopRef.current(), [conversationId]);

  const onType = (value: string) => {
    setText(value);
    if (blockedReason) return;
    const now = Date.now();
    if (value && now - lastTypingOn.current > TYPING_REFRESH_MS) {
      lastTypingOn.current = now;
      api.setTyping(conversationId, true);
    }
    clearTimeout(stopTimer.current);
    stopTimer.current = setTimeout(stopTyping, TYPING_REFRESH_MS);
    if (!value) stopTyping();
  };

  const send = async (e?: FormEvent) => {
    e?.preventDefault();
    const body = text.trim();
    if (!body || blockedReason) return;
    setText('');
    setError(null);
    stopTyping();
    const mentions = auto.mentionsFor(body);
    const extra = {
      ...(quote ? { replyTo: quote.id } : {}),
      ...(mentions.length ? { mentions } : {}),
    };
    try {
      await actions.sendText(conversationId, body, extra);
      setQuote(null);
      auto.reset();
    } catch (err) {
      // The SDK normally records a failed send as a "failed" message with a Retry button;
      // this is for errors before the message exists (for example a blocked identity).
      setError(describeError(err));
      setText(body);
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (auto.onKeyDown(e)) return;
    if (e.key === 'Escape' && quote) {
      e.preventDefault();
      setQuote(null);
      return;
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    }
  };

  const onFile = async (file: File | undefined, voiceDurationMs?: number) => {
    if (!file || blockedReason) return;
    setError(null);
    await files.send(file, voiceDurationMs);
  };

  return (
    <form className="composer" onSubmit={send} aria-label={tc('composer.label')} ref={form}>
      {dragging && (
        <div className="drop-zone" data-testid="drop-zone">
          {t('dropHere')}
        </div>
      )}
      {blockedReason && (
        <p className="muted small composer-blocked" role="status">
          {blockedReason}
        </p>
      )}
      {(error ?? files.error) && (
        <p className="error small" role="alert">
          {error ?? files.error}
        </p>
      )}
      {quote && (
        <div className="reply-box" data-testid="reply-box">
          <div className="reply-quote-preview">
            <span className="reply-author">
              {tc('composer.replyingTo', { name: authorName(state, quote.senderUserId) })}
            </span>
            <span className="reply-excerpt">
              {quote.text || quote.attachment?.fileName || tc('attachment')}
            </span>
          </div>
          <button
            type="button"
            className="link small"
            aria-label={tc('composer.cancelReply')}
            onClick={() => {
              setQuote(null);
              textarea.current?.focus();
            }}
          >
            ×
          </button>
        </div>
      )}
      <MentionPopup auto={auto} />
      <div className="composer-row">
        <label
          htmlFor={fileId}
          className={`file-button ${blockedReason || busy ? 'disabled' : ''}`}
          title={tc('composer.attach')}
        >
          <PaperclipIcon />
          <span className="visually-hidden">{tc('composer.attach')}</span>
        </label>
        <input
          id={fileId}
          type="file"
          className="visually-hidden"
          disabled={!!blockedReason || busy}
          onChange={(e) => {
            void onFile(e.target.files?.[0]);
            e.target.value = '';
          }}
        />
        <label htmlFor={inputId} className="visually-hidden">
          {tc('composer.message')}
        </label>
        <textarea
          id={inputId}
          ref={textarea}
          aria-autocomplete={auto.candidates.length ? 'list' : undefined}
          aria-expanded={auto.candidates.length ? true : undefined}
          aria-controls={auto.candidates.length ? auto.listId : undefined}
          aria-activedescendant={
            auto.candidates.length ? auto.optionId(auto.active) : undefined
          }
          onSelect={(e) => auto.onCaret(e.currentTarget.selectionStart)}
          rows={1}
          value={text}
          placeholder={blockedReason ? tc('composer.paused') : tc('composer.placeholder')}
          disabled={!!blockedReason}
          onChange={(e) => {
            onType(e.target.value);
            auto.onCaret(e.target.selectionStart);
          }}
          onKeyDown={onKeyDown}
          onBlur={stopTyping}
          onPaste={(e) => {
            const file = e.clipboardData.files[0];
            if (!file || blockedReason) return;
            e.preventDefault();
            void onFile(file);
          }}
        />
        <VoiceRecorder disabled={!!blockedReason || busy} onRecorded={(file, ms) => void onFile(file, ms)} />
        <button type="submit" disabled={!!blockedReason || !text.trim()}>
          {tc('composer.send')}
        </button>
      </div>
      {files.upload && (
        <TransferBar
          label={t('uploading', { name: files.upload.name })}
          percent={files.upload.percent}
          onCancel={files.upload.cancel}
        />
      )}
    </form>
  );
}
