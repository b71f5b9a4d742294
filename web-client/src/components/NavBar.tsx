import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink } from 'react-router';
import { pathFor } from '../routing/routes.js';
import type { View } from '../state/index.js';
import { totalShownUnread } from '../state/mentions-state.js';
import { useApp } from '../state/store.js';
import { LogOutDialog } from './LogOutDialog.js';

const items: Array<{ name: View['name']; view: View }> = [
  { name: 'chats', view: { name: 'chats' } },
  { name: 'people', view: { name: 'people' } },
  { name: 'devices', view: { name: 'devices' } },
  { name: 'settings', view: { name: 'settings' } },
];

/** Main navigation (links to each section's URL) plus the log-out button. */
export function NavBar() {
  const { state } = useApp();
  const { t } = useTranslation();
  const [loggingOut, setLoggingOut] = useState(false);
  const totalUnread = totalShownUnread(state);
  return (
    <header className="navbar">
      <div className="brand">
        <img src="/logo.png" alt="" width="28" height="28" />
        <span>{t('appName')}</span>
      </div>
      <nav aria-label={t('nav.main')}>
        <ul>
          {items.map((item) => (
            <li key={item.name}>
              {/* NavLink marks the current section with aria-current="page" (also /chats/<id>). */}
              <NavLink className="nav-link" to={pathFor(item.view)}>
                {t(`nav.${item.name}`)}
                {item.name === 'chats' && totalUnread > 0 && (
                  <span className="badge" aria-label={t('nav.unread', { count: totalUnread })}>
                    {totalUnread}
                  </span>
                )}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <div className="nav-me">
        <span className="nav-me-name" title={state.me?.email}>
          {state.me?.displayName}
        </span>
        <button type="button" className="secondary" onClick={() => setLoggingOut(true)}>
          {t('nav.logOut')}
        </button>
      </div>
      {loggingOut && <LogOutDialog onClose={() => setLoggingOut(false)} />}
    </header>
  );
}
