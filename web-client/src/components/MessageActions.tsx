import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { describeError } from '../state/index.js';
import type { MessageView } from '../state/index.js';
import { canChange, DEFAULT_REACTIONS } from '../state/message-actions.js';
import { useMessageActions } from '../state/use-message-actions.js';
import { Dialog } from './Dialog.js';

type Confirm = 'everyone' | 'me' | null;

/**
 * The "…" menu of a message: react (the default set or any emoji), edit (my text within 24 h),
 * delete for everyone (mine within 24 h) and delete for me, each delete after a confirmation.
 * Keyboard: the button opens it, arrows move, Escape closes and returns focus to the button.
 * @param props.message the message
 * @param props.onEdit opens the inline editor
 */
export function MessageActions({ message, onEdit }: { message: MessageView; onEdit: () => void }) {
  const handlers = useMessageActions();
  const { t } = useTranslation('chat');
  const [open, setOpen] = useState(false);
  const [custom, setCustom] = useState('');
  const [confirm, setConfirm] = useState<Confirm>(null);
  const [error, setError] = useState<string | null>(null);
  const trigger = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const deleted = message.deletedAt !== undefined;
  const mine = canChange(message);
  const reactable = !deleted && (message.kind === 'text' || message.kind === 'attachment');

  useEffect(() => {
    if (open) menu.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
  }, [open]);

  const close = () => {
    setOpen(false);
    trigger.current?.focus();
  };
  const run = async (work: () => Promise<void>) => {
    setError(null);
    setOpen(false);
    try {
      await work();
    } catch (e) {
      setError(describeError(e));
    }
  };
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      close();
      return;
    }
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    e.preventDefault();
    const items = [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    const next = (at + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length;
    items[next]?.focus();
  };

  return (
    <div className="message-actions">
      <button
        ref={trigger}
        type="button"
        className="message-actions-trigger"
        aria-label={t('actions.menu')}
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        …
      </button>
      {open && (
        <div
          ref={menu}
          className="message-menu"
          role="menu"
          aria-label={t('actions.menu')}
          onKeyDown={onKey}
        >
          {reactable && (
            <div className="reaction-picker" role="group" aria-label={t('actions.react')}>
              {DEFAULT_REACTIONS.map((emoji) => (
                <button
                  key={emoji}
                  type="button"
                  role="menuitem"
                  aria-label={t('actions.reactWith', { emoji })}
                  onClick={() => void run(() => handlers.react(message, emoji))}
                >
                  {emoji}
                </button>
              ))}
              <form
                className="reaction-custom"
                onSubmit={(e) => {
                  e.preventDefault();
                  const emoji = custom.trim();
                  if (emoji)
                    void run(() => handlers.react(message, emoji)).then(() => setCustom(''));
                }}
              >
                <input
                  aria-label={t('actions.anyEmoji')}
                  placeholder={t('actions.anyEmoji')}
                  value={custom}
                  maxLength={32}
                  onChange={(e) => setCustom(e.target.value)}
                />
                <button type="submit" role="menuitem" className="small">
                  {t('actions.react')}
                </button>
              </form>
            </div>
          )}
          {mine && message.kind !== 'unsupported' && (
            <button type="button" role="menuitem" onClick={() => (setOpen(false), onEdit())}>
              {t('actions.edit')}
            </button>
          )}
          {mine && (
            <button
              type="button"
              role="menuitem"
              onClick={() => (setOpen(false), setConfirm('everyone'))}
            >
              {t('actions.deleteEveryone')}
            </button>
          )}
          <button type="button" role="menuitem" onClick={() => (setOpen(false), setConfirm('me'))}>
            {t('actions.deleteMe')}
          </button>
        </div>
      )}
      {error && (
        <p className="error small" role="alert">
          {error}
        </p>
      )}
      {confirm && (
        <Dialog
          title={confirm === 'everyone' ? t('actions.confirmEveryone') : t('actions.confirmMe')}
          onClose={() => setConfirm(null)}
        >
          <p>{confirm === 'everyone' ? t('actions.explainEveryone') : t('actions.explainMe')}</p>
          <div className="actions">
            <button type="button" className="secondary" onClick={() => setConfirm(null)}>
              {t('actions.cancel')}
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => {
                const which = confirm;
                setConfirm(null);
                void run(() =>
                  which === 'everyone'
                    ? handlers.deleteForEveryone(message)
                    : handlers.deleteForMe(message),
                );
              }}
            >
              {t('actions.delete')}
            </button>
          </div>
        </Dialog>
      )}
    </div>
  );
}
