import { useEffect, useId, useRef, useState } from 'react';
import type { FormEvent, KeyboardEvent } from 'react';
import { describeError } from '../state/index.js';
import { useApp } from '../state/store.js';
import { PaperclipIcon } from './PaperclipIcon.js';

/** Refresh "typing on" at most this often; send "off" after this long without keystrokes. */
const TYPING_REFRESH_MS = 3000;
/** Largest attachment accepted (nginx allows 50 MB of ciphertext). */
export const MAX_ATTACHMENT_BYTES = 45 * 1024 * 1024;

/**
 * Message input: Enter sends, Shift+Enter adds a line, a file button attaches (encrypted before
 * upload). Typing state is throttled so a fast typist does not flood the socket.
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
  const { api, actions } = useApp();
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
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
    try {
      await actions.sendText(conversationId, body);
    } catch (err) {
      // The SDK normally records a failed send as a "failed" message with a Retry button;
      // this is for errors before the message exists (for example a blocked identity).
      setError(describeError(err));
      setText(body);
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    }
  };

  const onFile = async (file: File | undefined) => {
    if (!file || blockedReason) return;
    if (file.size > MAX_ATTACHMENT_BYTES) {
      setError(`That file is too large (the limit is ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MB).`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await actions.sendFile(conversationId, file);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="composer" onSubmit={send} aria-label="Send a message">
      {blockedReason && (
        <p className="muted small composer-blocked" role="status">
          {blockedReason}
        </p>
      )}
      {error && (
        <p className="error small" role="alert">
          {error}
        </p>
      )}
      <div className="composer-row">
        <label
          htmlFor={fileId}
          className={`file-button ${blockedReason || busy ? 'disabled' : ''}`}
          title="Attach a file"
        >
          <PaperclipIcon />
          <span className="visually-hidden">Attach a file</span>
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
          Message
        </label>
        <textarea
          id={inputId}
          rows={1}
          value={text}
          placeholder={blockedReason ? 'Sending is paused' : 'Write a message'}
          disabled={!!blockedReason}
          onChange={(e) => onType(e.target.value)}
          onKeyDown={onKeyDown}
          onBlur={stopTyping}
        />
        <button type="submit" disabled={!!blockedReason || !text.trim()}>
          Send
        </button>
      </div>
      {busy && (
        <p className="muted small" role="status">
          Encrypting and uploading…
        </p>
      )}
    </form>
  );
}
