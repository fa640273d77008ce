import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { z } from 'zod';
// Shared styles first: the bundle keeps import order, and every component's CSS builds on these.
import './styles/tokens.css';
import './styles/base.css';
import './styles/controls.css';
import { getApi } from './api/get-api';
import { App } from './app';
import { LogoMark } from './components/icons';
import { createTranslator, languageFromLocales } from './i18n';
import './no-connection.css';

// The page's CSP forbids eval; tell zod not to probe for it.
z.config({ jitless: true });

function NoConnection() {
  const i18n = createTranslator(languageFromLocales(navigator.languages), navigator.languages);
  return (
    <main className="no-connection">
      <LogoMark size={40} />
      <h1>{i18n.t('bridge.title')}</h1>
      <p>{i18n.t('bridge.body')}</p>
      <code>npm run dev:web</code>
    </main>
  );
}

const container = document.getElementById('root');
if (container) {
  const api = getApi();
  createRoot(container).render(<StrictMode>{api ? <App api={api} /> : <NoConnection />}</StrictMode>);
}
