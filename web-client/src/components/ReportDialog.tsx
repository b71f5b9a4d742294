import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { describeError } from '../state/index.js';
import type { ReportInput } from '../state/index.js';
import { Dialog } from './Dialog.js';

/** The reasons offered, in order (each worded by `requests:report.reasons.<reason>`). */
const REASONS: Array<ReportInput['reason']> = ['spam', 'abuse', 'other'];

/**
 * Asks why someone is reported (a reason, an optional note, "also block"), then sends it.
 * Nothing of the conversation's content goes with it: the operators cannot read it.
 * @param props.name who is reported, as shown
 * @param props.onSubmit sends the report
 * @param props.onClose closes the dialog (after sending, or on Cancel)
 */
export function ReportDialog({
  name,
  onSubmit,
  onClose,
}: {
  name: string;
  onSubmit: (r: Pick<ReportInput, 'reason' | 'note' | 'block'>) => Promise<void>;
  onClose: () => void;
}) {
  const { t } = useTranslation('requests');
  const [reason, setReason] = useState<ReportInput['reason'] | null>(null);
  const [note, setNote] = useState('');
  const [block, setBlock] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = { note: useId(), block: useId(), reason: useId() };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!reason) {
      setError(t('report.chooseReason'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onSubmit({ reason, block, ...(note.trim() ? { note: note.trim() } : {}) });
      onClose();
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };
  return (
    <Dialog title={t('report.title', { name })} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)}>
        <p className="muted small">{t('report.explain', { name })}</p>
        <fieldset disabled={busy} aria-describedby={ids.reason}>
          <legend id={ids.reason}>{t('report.reason')}</legend>
          {REASONS.map((r) => (
            <div className="check" key={r}>
              <input
                id={`${ids.reason}-${r}`}
                type="radio"
                name="reason"
                value={r}
                checked={reason === r}
                onChange={() => setReason(r)}
              />
              <label htmlFor={`${ids.reason}-${r}`}>{t(`report.reasons.${r}`)}</label>
            </div>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor={ids.note}>{t('report.note')}</label>
          <textarea
            id={ids.note}
            value={note}
            maxLength={500}
            disabled={busy}
            onChange={(e) => setNote(e.target.value)}
          />
        </div>
        <div className="check">
          <input
            id={ids.block}
            type="checkbox"
            checked={block}
            disabled={busy}
            onChange={(e) => setBlock(e.target.checked)}
          />
          <label htmlFor={ids.block}>{t('report.alsoBlock', { name })}</label>
        </div>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="actions">
          <button type="button" className="secondary" onClick={onClose} disabled={busy}>
            {t('cancel')}
          </button>
          <button type="submit" className="danger" disabled={busy}>
            {t('report.submit')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
