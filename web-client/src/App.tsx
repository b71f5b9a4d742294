import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { NavBar } from './components/NavBar.js';
import { Notifications } from './components/Notifications.js';
import { OfflineBanner } from './components/OfflineBanner.js';
import { AuthPage } from './pages/AuthPage.js';
import { ChatsPage } from './pages/ChatsPage.js';
import { DevicesPage } from './pages/DevicesPage.js';
import { EmailLinkPage, takeEmailLink } from './pages/EmailLinkPage.js';
import { MembersPage } from './pages/MembersPage.js';
import { NewGroupPage } from './pages/NewGroupPage.js';
import { PeoplePage } from './pages/PeoplePage.js';
import { RecoveryKeyPage } from './pages/RecoveryKeyPage.js';
import { SafetyNumberPage } from './pages/SafetyNumberPage.js';
import { SettingsPage } from './pages/SettingsPage.js';
import { NotFoundPage } from './routing/NotFoundPage.js';
import { RouteSync } from './routing/RouteSync.js';
import { viewFromPath } from './routing/routes.js';
import { describeError } from './state/index.js';
import type { MeView } from './state/index.js';
import { useApp } from './state/store.js';

/**
 * Top-level screen switch: loading, signed out, recovery key, or the signed-in shell, whose
 * page is the one the URL names (routing/routes.ts). Signed out, any address shows the log-in
 * page and stays in the address bar, so logging in lands where a deep link pointed.
 */
export function App() {
  const { state, dispatch, api, actions } = useApp();
  const { t } = useTranslation('shell');
  const [loadError, setLoadError] = useState<string | null>(null);
  // A session whose keys are locked on this browser after a reload: ask for the password.
  const [lockedAs, setLockedAs] = useState<MeView | null>(null);
  // An emailed link (verify address, reset password) opens its own page first.
  const [emailLink, setEmailLink] = useState(() => takeEmailLink());
  const location = useLocation();
  const navigate = useNavigate();

  // takeEmailLink rewrote the address behind the router's back: tell the router.
  const tookLink = emailLink !== null;
  useEffect(() => {
    if (tookLink) void navigate('/chats', { replace: true });
  }, [tookLink, navigate]);

  // Resume a session after a reload (cookie + this browser's device keys).
  useEffect(() => {
    let cancelled = false;
    api
      .resume()
      .then((r) => {
        if (cancelled) return;
        setLockedAs(r.kind === 'locked' ? r.me : null);
        dispatch(
          r.kind === 'active' ? { type: 'sessionStarted', me: r.me } : { type: 'signedOut' },
        );
      })
      .catch(() => {
        if (!cancelled) dispatch({ type: 'signedOut' });
      });
    return () => {
      cancelled = true;
    };
  }, [api, dispatch]);

  // Entering the signed-in shell loads conversations, names and security state.
  const signedInAs = state.phase === 'signedIn' ? state.me?.id : undefined;
  useEffect(() => {
    if (!signedInAs) return;
    setLockedAs(null);
    setLoadError(null);
    actions.loadSession().catch((e: unknown) => setLoadError(describeError(e)));
  }, [signedInAs, actions]);

  if (emailLink) {
    return (
      <EmailLinkPage
        link={emailLink}
        onDone={() => {
          // A reset signs out everywhere: ask the SDK again who (if anyone) is logged in.
          setEmailLink(null);
          api.resume().then(
            (r) => {
              setLockedAs(r.kind === 'locked' ? r.me : null);
              dispatch(
                r.kind === 'active' ? { type: 'sessionStarted', me: r.me } : { type: 'signedOut' },
              );
            },
            () => dispatch({ type: 'signedOut' }),
          );
        }}
      />
    );
  }
  if (state.phase === 'loading') {
    return (
      <main className="center-page" aria-busy="true">
        <p role="status">{t('opening')}</p>
      </main>
    );
  }
  if (state.phase === 'signedOut')
    return <AuthPage unlockAs={lockedAs} onForget={() => setLockedAs(null)} />;
  if (state.phase === 'recoveryKey') return <RecoveryKeyPage />;

  const v = viewFromPath(location.pathname);
  if (location.pathname === '/') return <Navigate to="/chats" replace />;
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        {t('skip')}
      </a>
      <RouteSync />
      <NavBar />
      <OfflineBanner />
      <Notifications />
      {loadError && (
        <div className="banner banner-error" role="alert">
          {t('loadError', { reason: loadError })}{' '}
          <button
            type="button"
            onClick={() =>
              actions.loadSession().then(
                () => setLoadError(null),
                (e: unknown) => setLoadError(describeError(e)),
              )
            }
          >
            {t('retry')}
          </button>
        </div>
      )}
      <main id="main" className="shell-main" tabIndex={-1}>
        {!v && <NotFoundPage />}
        {v?.name === 'chats' && <ChatsPage conversationId={v.conversationId} />}
        {v?.name === 'people' && <PeoplePage />}
        {v?.name === 'newGroup' && <NewGroupPage />}
        {v?.name === 'members' && <MembersPage conversationId={v.conversationId} />}
        {v?.name === 'safety' && <SafetyNumberPage userId={v.userId} />}
        {v?.name === 'devices' && <DevicesPage />}
        {v?.name === 'settings' && <SettingsPage />}
      </main>
    </div>
  );
}
