// Must come first: see platform/set-immediate.ts.
import './platform/set-immediate.js';
import './i18n/index.js';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { createChatApi } from './state/sdk-adapter.js';
import { AppProvider } from './state/store.js';
import './styles/app.css';
import './styles/message-actions.css';
import './styles/attachments.css';

const root = document.getElementById('root');
if (!root) throw new Error('missing #root');

// One API instance per page: it owns the socket and the local (IndexedDB) stores.
const api = createChatApi();

createRoot(root).render(
  <StrictMode>
    <AppProvider api={api}>
      <App />
    </AppProvider>
  </StrictMode>,
);
