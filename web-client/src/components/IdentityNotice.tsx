import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { describeError } from '../state/index.js';
import { useApp } from '../state/store.js';

/**
 * Blocking notice shown when a contact's identity key changed: sending to them stays blocked
 * until I look at the new safety number or explicitly accept the new key.
 * @param props.userIds contacts in this conversation whose identity changed
 */
export function IdentityNotice({ userIds }: { userIds: string[] }) {
  const { state, api, dispatch, actions } = useApp();
  const { t } = useTranslation('safety');
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
        const name = state.users[userId]?.displayName ?? t('identity.aContact');
        return (
          <div key={userId} className="identity-row">
            <p>
              <strong>{t('identity.changed', { name })}</strong> {t('identity.explain')}
            </p>
            <div className="actions">
              <button
                type="button"
                className="secondary"
                onClick={() => actions.navigate({ name: 'safety', userId })}
              >
                {t('identity.view')}
              </button>
              <button type="button" onClick={() => void accept(userId)} disabled={busy}>
                {t('identity.accept')}
              </button>
            </div>
          </div>
        );
      })}
      {error && <p className="error">{error}</p>}
    </div>
  );
}
