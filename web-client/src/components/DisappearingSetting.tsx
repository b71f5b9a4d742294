import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ConversationView } from '../state/index.js';
import { describeError } from '../state/index.js';
import {
  DISAPPEARING_OPTIONS,
  maySetDisappearing,
  timerLabel,
  timerShortLabel,
} from '../state/disappearing.js';
import { useApp } from '../state/store.js';

/** A small stopwatch, for the disappearing-messages label. */
function TimerIcon() {
  return (
    <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
      <circle cx="8" cy="9" r="5.5" fill="none" stroke="currentColor" strokeWidth="1.5" />
      <path d="M8 9V6M6.5 1.5h3M12 4l1-1" stroke="currentColor" strokeWidth="1.5" fill="none" />
    </svg>
  );
}

/**
 * The chat header's disappearing-messages label ("⏱ 5m"), shown while a timer is on.
 * @param props.conversation the open chat
 */
export function DisappearingBadge({ conversation }: { conversation: ConversationView }) {
  const { t } = useTranslation('chat');
  const s = conversation.disappearingS;
  if (!s) return null;
  return (
    <span
      className="muted small disappearing-badge"
      data-testid="disappearing-badge"
      title={t('disappearing.badgeTitle', { timer: timerLabel(s) })}
    >
      <TimerIcon /> {timerShortLabel(s)}
    </span>
  );
}

/**
 * Chooses a chat's disappearing timer (off, 5 minutes … 4 weeks). The setting travels end to
 * end (the server never learns it); either member sets it in a direct chat, owners and admins in
 * a group (disabled for the others). The chat announces each change.
 * @param props.conversation the open chat
 */
export function DisappearingSetting({ conversation }: { conversation: ConversationView }) {
  const { api, state, actions } = useApp();
  const { t } = useTranslation('chat');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const allowed = maySetDisappearing(state, conversation);
  const current = conversation.disappearingS ?? 0;
  const change = async (value: number) => {
    setBusy(true);
    setError(null);
    try {
      const seconds = value > 0 ? value : null;
      await actions.upsertConversation(await api.setDisappearingTimer(conversation.id, seconds));
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  // A timer set by a newer client that this list does not offer is still shown.
  const options =
    DISAPPEARING_OPTIONS.includes(current) || !current
      ? DISAPPEARING_OPTIONS
      : [...DISAPPEARING_OPTIONS, current];
  return (
    <span className="small disappearing-setting">
      <select
        aria-label={t('disappearing.label')}
        value={current}
        disabled={!allowed || busy}
        title={allowed ? t('disappearing.label') : t('disappearing.notAllowed')}
        onChange={(e) => void change(Number(e.target.value))}
      >
        <option value={0}>{t('disappearing.off')}</option>
        {options.map((s) => (
          <option key={s} value={s}>
            {t('disappearing.after', { timer: timerLabel(s) })}
          </option>
        ))}
      </select>
      {error && (
        <span className="error small" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
