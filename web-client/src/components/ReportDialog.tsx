import { useId, useState } from 'react';
import type { FormEvent } from 'react';
import { describeError } from '../state/index.js';
import type { ReportInput } from '../state/index.js';
import { Dialog } from './Dialog.js';

const REASONS: Array<{ value: ReportInput['reason']; label: string }> = [
  { value: 'spam', label: 'Spam' },
  { value: 'abuse', label: 'Abuse or harassment' },
  { value: 'other', label: 'Something else' },
];

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
  const [reason, setReason] = useState<ReportInput['reason'] | null>(null);
  const [note, setNote] = useState('');
  const [block, setBlock] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = { note: useId(), block: useId(), reason: useId() };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!reason) {
      setError('Choose a reason.');
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
    <Dialog title={`Report ${name}`} onClose={onClose}>
      <form onSubmit={(e) => void submit(e)}>
        <p className="muted small">
          The operators are told who you report and why. {name} is not told, and your messages stay
          end-to-end encrypted: nothing of the conversation is sent.
        </p>
        <fieldset disabled={busy} aria-describedby={ids.reason}>
          <legend id={ids.reason}>Reason</legend>
          {REASONS.map((r) => (
            <div className="check" key={r.value}>
              <input
                id={`${ids.reason}-${r.value}`}
                type="radio"
                name="reason"
                value={r.value}
                checked={reason === r.value}
                onChange={() => setReason(r.value)}
              />
              <label htmlFor={`${ids.reason}-${r.value}`}>{r.label}</label>
            </div>
          ))}
        </fieldset>
        <div className="field">
          <label htmlFor={ids.note}>Note (optional)</label>
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
          <label htmlFor={ids.block}>Also block {name}</label>
        </div>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="actions">
          <button type="button" className="secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" className="danger" disabled={busy}>
            Send report
          </button>
        </div>
      </form>
    </Dialog>
  );
}
