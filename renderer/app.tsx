import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { TokentrayApi } from '../electron/shared/ipc-contract';
import type { AccountSummary, AppError, ProviderSummary, StorageStatus } from '../electron/shared/models';
import { AccountsView } from './components/accounts-view';
import { ConnectView } from './components/connect-view';
import { InspectorView } from './components/inspector-view';
import { SettingsView } from './components/settings-view';
import { Sidebar } from './components/sidebar';
import { StorageBanner } from './components/storage-banner';
import { TasksView } from './components/tasks-view';
import { Toasts } from './components/toasts';
import { createTranslator, resolveLanguage, type Language } from './i18n';
import { AppContext, type AppContextValue, type Route, type Toast } from './state/app-context';
import './app.css';

const TOAST_MS = 6000;

export function App({ api }: { api: TokentrayApi }) {
  // The counter remounts the view on every navigation, so choosing "Add account" again starts over.
  // Main opens a new window on a view with a #hash (the tray's "Connect account…"); pushes `navigate` to an open one.
  const [location, setLocation] = useState<{ route: Route; visit: number }>(() => ({
    route: routeFromHash(window.location.hash),
    visit: 0,
  }));
  const route = location.route;
  const navigate = useCallback((next: Route) => setLocation((l) => ({ route: next, visit: l.visit + 1 })), []);
  const [accounts, setAccounts] = useState<AccountSummary[] | null>(null);
  const [accountsError, setAccountsError] = useState<AppError | null>(null);
  const [providers, setProviders] = useState<ProviderSummary[] | null>(null);
  const [languagePreference, setLanguagePreference] = useState<'system' | Language>('system');
  const [storage, setStorage] = useState<StorageStatus | null>(null);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextToast = useRef(1);

  const i18n = useMemo(
    () => createTranslator(resolveLanguage(languagePreference, navigator.languages), navigator.languages),
    [languagePreference],
  );

  useEffect(() => {
    document.documentElement.lang = i18n.language;
    document.title = `Tokentray · ${i18n.t('app.tagline')}`;
  }, [i18n]);

  const dismiss = useCallback((id: number) => setToasts((list) => list.filter((t) => t.id !== id)), []);
  const notify = useCallback(
    (toast: Omit<Toast, 'id'>) => {
      const id = nextToast.current++;
      setToasts((list) => [...list.slice(-3), { ...toast, id }]);
      setTimeout(() => dismiss(id), toast.tone === 'error' ? TOAST_MS * 2 : TOAST_MS);
    },
    [dismiss],
  );
  const notifyError = useCallback(
    (error: AppError) => notify({ tone: 'error', title: i18n.errorTitle(error.code), detail: error.message }),
    [notify, i18n],
  );

  const reloadAccounts = useCallback(
    () =>
      api.listAccounts().then((result) => {
        if (result.ok) {
          setAccounts(result.data);
          setAccountsError(null);
        } else setAccountsError(result.error);
      }),
    [api],
  );

  const reloadProviders = useCallback(
    () =>
      api.listProviders().then((result) => {
        if (result.ok) setProviders(result.data);
      }),
    [api],
  );

  useEffect(() => {
    const offAccounts = api.on('accountsChanged', (list) => {
      setAccounts(list);
      setAccountsError(null);
    });
    const offRefresh = api.on('refreshResult', () => void reloadAccounts());
    const offNavigate = api.on('navigate', ({ to }) => navigate(routeFromHash(`#${to}`)));
    const offStorage = api.on('storageChanged', setStorage);
    void api.getStorageStatus().then((result) => {
      if (result.ok) setStorage(result.data);
    });
    void api.getPreferences().then((result) => {
      if (result.ok) setLanguagePreference(result.data.language);
    });
    return () => {
      offAccounts();
      offRefresh();
      offNavigate();
      offStorage();
    };
  }, [api, reloadAccounts, navigate]);

  useEffect(() => {
    void Promise.all([reloadAccounts(), reloadProviders()]);
  }, [reloadAccounts, reloadProviders]);

  const setLanguage = useCallback(
    async (language: 'system' | Language) => {
      setLanguagePreference(language);
      const result = await api.setPreferences({ language });
      if (!result.ok) notifyError(result.error);
    },
    [api, notifyError],
  );

  const value: AppContextValue = {
    api,
    i18n,
    route,
    navigate,
    accounts,
    accountsError,
    reloadAccounts,
    providers,
    reloadProviders,
    languagePreference,
    setLanguage,
    notify,
    notifyError,
  };

  return (
    <AppContext.Provider value={value}>
      <div className="shell">
        <a className="skip-link" href="#main">
          {i18n.t('nav.skip')}
        </a>
        <Sidebar />
        <main id="main" className="main" data-route={route.name}>
          <StorageBanner status={storage} />
          <View key={location.visit} route={route} />
        </main>
        <Toasts toasts={toasts} onDismiss={dismiss} />
      </div>
    </AppContext.Provider>
  );
}

function View({ route }: { route: Route }) {
  switch (route.name) {
    case 'accounts':
      return <AccountsView />;
    case 'connect':
      return <ConnectView providerId={route.provider} reconnect={route.reconnect} />;
    case 'inspect':
      return <InspectorView accountId={route.accountId} />;
    case 'tasks':
      return <TasksView accountId={route.accountId} />;
    case 'settings':
      return <SettingsView />;
  }
}

function routeFromHash(hash: string): Route {
  switch (hash) {
    case '#connect':
      return { name: 'connect' };
    case '#tasks':
      return { name: 'tasks', accountId: null };
    case '#settings':
      return { name: 'settings' };
    default:
      return { name: 'accounts' };
  }
}
