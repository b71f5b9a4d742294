// Must come first: see platform/set-immediate.ts.
import './platform/set-immediate.js';
import './i18n/index.js';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App } from './App.js';
import { registerServiceWorker } from './pwa/register.js';
import { UpdatePrompt } from './pwa/UpdatePrompt.js';
import { createChatApi } from './state/sdk-adapter.js';
import { AppProvider } from './state/store.js';
import './styles/app.css';
import './styles/message-actions.css';
import './styles/route.css';
import './styles/attachments.css';
import './styles/pwa.css';
import './styles/search.css';
import { applyTheme, followSystemTheme, storedTheme } from './theme/theme.js';

// The chosen theme before React's first render (no inline script: the CSP forbids it).
applyTheme(storedTheme());
followSystemTheme();

const root = document.getElementById('root');
if (!root) throw new Error('missing #root');

// One API instance per page: it owns the socket and the local (IndexedDB) stores.
const api = createChatApi();

createRoot(root).render(
  <StrictMode>
    <BrowserRouter>
      <AppProvider api={api}>
        <App />
        <UpdatePrompt />
      </AppProvider>
    </BrowserRouter>
  </StrictMode>,
);

// Offline and installable: the service worker (built from src/sw.ts) caches the app shell.
registerServiceWorker();
