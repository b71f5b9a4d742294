import { useState } from 'react';
import { describeError } from '../state/index.js';
import { useApp } from '../state/store.js';

/**
 * Blocking notice shown when a contact's identity key changed: sending to them stays blocked
 * until I look at the new safety number or explicitly accept the new key.
 * @param props.userIds contacts in this conversation whose identity changed
 */
export function IdentityNotice({ userIds }: { userIds: string[] }) {
  const { state, api, dispatch, actions } = useApp();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (userIds.length === 0) return null;
  const accept = async (userId: string) => {
    setBusy(true);
    setError(null);
    try {
      await api.acceptIdentity(userId);
      dispatch({ type: 'identityAccepted', userId });
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="notice notice-danger" role="alert" data-testid="identity-changed">
      {userIds.map((userId) => {
        const name = state.users[userId]?.displayName ?? 'A contact';
        return (
          <div key={userId} className="identity-row">
            <p>
              <strong>{name}'s safety number has changed.</strong> This happens when they reinstall
              or reset their account, but it can also mean someone is intercepting your messages.
              Sending is paused until you review it.
            </p>
            <div className="actions">
              <button
                type="button"
                className="secondary"
                onClick={() => actions.navigate({ name: 'safety', userId })}
              >
                View safety number
              </button>
              <button type="button" onClick={() => void accept(userId)} disabled={busy}>
                Accept new safety number
              </button>
            </div>
          </div>
        );
      })}
      {error && <p className="error">{error}</p>}
    </div>
  );
}
