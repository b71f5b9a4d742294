import { useId, useState } from 'react';
import { useApp } from '../state/store.js';

/**
 * Groups a key in blocks of four for reading aloud or copying by hand. The SDK's dashes are
 * replaced by spaces so the key wraps between blocks; typing it back with or without them works.
 */
export function groupKey(key: string): string {
  const compact = key.replace(/[\s-]+/g, '');
  return compact.match(/.{1,4}/g)?.join(' ') ?? compact;
}

/**
 * Shows the recovery key exactly once, right after sign-up. It lives only in memory here and is
 * dropped as soon as the user confirms they saved it.
 */
export function RecoveryKeyPage() {
  const { state, dispatch } = useApp();
  const [saved, setSaved] = useState(false);
  const [copied, setCopied] = useState(false);
  const checkId = useId();
  const key = state.recoveryKey ?? '';
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(key);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <main className="center-page">
      <section className="card recovery-card" aria-labelledby="recovery-title">
        <h1 id="recovery-title">Save your recovery key</h1>
        <p>
          This key is shown <strong>only once</strong>. If you forget your password, it is the only
          way to keep your message keys: without it, a password reset starts a new identity.
        </p>
        <p className="recovery-key" data-testid="recovery-key" aria-label="Recovery key">
          {groupKey(key)}
        </p>
        <div className="actions">
          <button type="button" className="secondary" onClick={copy}>
            Copy
          </button>
          {copied && <span role="status">Copied to the clipboard.</span>}
        </div>
        <p className="muted small">
          Store it in a password manager or on paper, not in this browser.
        </p>
        <div className="check">
          <input
            id={checkId}
            type="checkbox"
            checked={saved}
            onChange={(e) => setSaved(e.target.checked)}
          />
          <label htmlFor={checkId}>I have saved my recovery key somewhere safe</label>
        </div>
        <button
          type="button"
          disabled={!saved}
          onClick={() => dispatch({ type: 'recoveryKeyConfirmed' })}
        >
          Continue
        </button>
      </section>
    </main>
  );
}
