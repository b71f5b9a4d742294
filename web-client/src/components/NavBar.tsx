import { useState } from 'react';
import type { View } from '../state/index.js';
import { totalShownUnread } from '../state/mentions-state.js';
import { useApp } from '../state/store.js';
import { LogOutDialog } from './LogOutDialog.js';

const items: Array<{ name: View['name']; label: string; view: View }> = [
  { name: 'chats', label: 'Chats', view: { name: 'chats' } },
  { name: 'people', label: 'People', view: { name: 'people' } },
  { name: 'devices', label: 'Devices', view: { name: 'devices' } },
  { name: 'settings', label: 'Settings', view: { name: 'settings' } },
];

/** Main navigation plus the log-out button. */
export function NavBar() {
  const { state, actions } = useApp();
  const [loggingOut, setLoggingOut] = useState(false);
  const totalUnread = totalShownUnread(state);
  return (
    <header className="navbar">
      <div className="brand">
        <img src="/logo.png" alt="" width="28" height="28" />
        <span>CipherChat</span>
      </div>
      <nav aria-label="Main">
        <ul>
          {items.map((item) => (
            <li key={item.name}>
              <button
                type="button"
                className="nav-link"
                aria-current={state.view.name === item.name ? 'page' : undefined}
                onClick={() => actions.navigate(item.view)}
              >
                {item.label}
                {item.name === 'chats' && totalUnread > 0 && (
                  <span className="badge" aria-label={`${totalUnread} unread`}>
                    {totalUnread}
                  </span>
                )}
              </button>
            </li>
          ))}
        </ul>
      </nav>
      <div className="nav-me">
        <span className="nav-me-name" title={state.me?.email}>
          {state.me?.displayName}
        </span>
        <button type="button" className="secondary" onClick={() => setLoggingOut(true)}>
          Log out
        </button>
      </div>
      {loggingOut && <LogOutDialog onClose={() => setLoggingOut(false)} />}
    </header>
  );
}
