import { createContext, useContext } from 'react';
import type { TokentrayApi } from '../../electron/shared/ipc-contract';
import type { AccountSummary, AppError, ProviderSummary } from '../../electron/shared/models';
import type { Language, Translator } from '../i18n';

export type Route =
  | { name: 'accounts' }
  | { name: 'connect'; provider?: string; reconnect?: string }
  | { name: 'inspect'; accountId: string }
  | { name: 'tasks'; accountId: string | null }
  | { name: 'settings' };

export type Toast = { id: number; tone: 'success' | 'error' | 'info'; title: string; detail?: string };

export interface AppContextValue {
  api: TokentrayApi;
  i18n: Translator;
  route: Route;
  navigate(route: Route): void;
  accounts: AccountSummary[] | null;
  accountsError: AppError | null;
  reloadAccounts(): Promise<void>;
  providers: ProviderSummary[] | null;
  reloadProviders(): Promise<void>;
  languagePreference: 'system' | Language;
  setLanguage(language: 'system' | Language): Promise<void>;
  notify(toast: Omit<Toast, 'id'>): void;
  /** Shows an IPC error as a toast: the code's title in the user's language, the core's sentence below. */
  notifyError(error: AppError): void;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('useApp outside <AppContext>');
  return value;
}
