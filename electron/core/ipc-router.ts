// The single place renderer requests are dispatched: Electron main (through
// ipcMain.handle) and the development bridge (through a WebSocket) both call
// `handle`. The renderer is untrusted, so every request is validated against
// the contract, and every answer is parsed through the contract's response
// schema, which also strips any field the contract does not name.
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import {
  DEFAULT_PREFERENCES,
  ipcContract,
  ipcEvents,
  isIpcChannel,
  preferencesSchema,
  type IpcChannel,
  type IpcEvent,
  type IpcEventPayload,
  type IpcRequest,
  type IpcResponse,
  type Preferences,
  userFacingIssue,
} from '../shared/ipc-contract';
import { OPENABLE_URLS_TEXT, isOpenableUrl } from '../shared/endpoint-url';
import type { AppError, Result } from '../shared/models';
import { TokentrayError, toAppError } from './errors';
import { taskViewHandlers } from './tasks/task-view-handlers';
import { TaskViewStore } from './tasks/task-view-store';
import type { ConnectAttempt, TokentrayService } from './service-api';
import type { StartAtLoginControl } from './login-item/start-at-login';

export interface PreferencesStore {
  get(): Promise<Preferences>;
  set(next: Preferences): Promise<void>;
}

export interface IpcActions {
  /** Reads a fresh token in the main process and writes it to the clipboard, cleared after 60 seconds. */
  copyToken(accountId: string): Promise<void>;
  /**
   * Opens an already allow-listed URL in the user's browser. Resolve `false`
   * when the caller's page should open it itself (the bridge: the page already is a browser).
   */
  openExternal(url: string): Promise<void | boolean>;
  preferences?: PreferencesStore;
  /** Settings' "Start Tokentray when I log in"; absent means unsupported in this process. */
  startAtLogin?: StartAtLoginControl;
}

export type IpcPush = <E extends IpcEvent>(event: E, payload: IpcEventPayload<E>) => void;

export interface IpcRouter {
  handle(channel: string, payload: unknown): Promise<Result<unknown>>;
  subscribe(push: IpcPush): () => void;
  /** For main's background refresher: push an event to every subscriber (validated like the rest). */
  emit<E extends IpcEvent>(event: E, payload: IpcEventPayload<E>): void;
  close(): void;
}

type Handlers = { [C in IpcChannel]: (request: IpcRequest<C>) => Promise<IpcResponse<C>> };

const NO_START_AT_LOGIN = {
  supported: false,
  enabled: false,
  reason: 'this copy of Tokentray cannot register itself to start at login.',
};

function invalid(message: string): AppError {
  return { code: 'IPC_INVALID', message };
}

/** The one rule for opened URLs (electron/shared/endpoint-url.ts); kept under this name for main and the tests. */
export const isAllowedExternalUrl = isOpenableUrl;

export function memoryPreferences(initial: Preferences = DEFAULT_PREFERENCES): PreferencesStore {
  let current = { ...initial };
  return {
    get: async () => ({ ...current }),
    set: async (next) => {
      current = { ...next };
    },
  };
}

/** Preferences as a small JSON file next to the rest of the app's state (no secrets in it). */
export function filePreferences(path: string): PreferencesStore {
  return {
    async get() {
      try {
        const parsed = preferencesSchema.safeParse(JSON.parse(await fs.readFile(path, 'utf8')));
        return parsed.success ? parsed.data : { ...DEFAULT_PREFERENCES };
      } catch {
        return { ...DEFAULT_PREFERENCES };
      }
    },
    async set(next) {
      await fs.mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const temp = `${path}.${process.pid}.tmp`;
      await fs.writeFile(temp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
      await fs.rename(temp, path);
    },
  };
}

export function createIpcRouter(service: TokentrayService, actions: IpcActions): IpcRouter {
  const preferences = actions.preferences ?? memoryPreferences();
  const subscribers = new Set<IpcPush>();
  const attempts = new Map<string, ConnectAttempt>();
  // The tasks view's lists live here, beside the core, for as long as the router does.
  const taskViews = new TaskViewStore();

  const emit = <E extends IpcEvent>(event: E, payload: IpcEventPayload<E>): void => {
    const parsed = ipcEvents[event].safeParse(payload);
    if (!parsed.success) return;
    for (const push of subscribers) {
      try {
        push(event, parsed.data as IpcEventPayload<E>);
      } catch {
        // One broken window (or a closed socket) must not stop the others from hearing about it.
      }
    }
  };

  const unsubscribeService = [
    service.onAccountsChanged((accounts) => emit('accountsChanged', accounts)),
    service.onConnectProgress((progress) => emit('connectProgress', progress)),
    service.onStorageChanged((status) => emit('storageChanged', status)),
  ];

  const handlers: Handlers = {
    listProviders: async () => service.listProviders(),
    // Named fields only: endpoint overrides never come from the renderer (the contract refuses them too),
    // and neither does leave to change a provider that accounts use: that is the command line's `--replace`.
    setProvider: async ({ provider, clientId, clientSecret, redirectUri }) =>
      service.setProvider(provider, {
        clientId,
        ...(clientSecret === undefined ? {} : { clientSecret }),
        ...(redirectUri === undefined ? {} : { redirectUri }),
        whenInUse: 'refuse',
      }),
    addGenericProvider: async ({ name, issuer, clientId, clientSecret, scopes }) =>
      service.addGenericProvider({
        name,
        issuer,
        clientId,
        ...(clientSecret === undefined ? {} : { clientSecret }),
        ...(scopes === undefined ? {} : { scopes }),
        replace: false,
      }),
    removeDemo: async () => {
      await service.removeDemo();
      return { removed: true as const };
    },
    startConnect: async ({ provider, label, listen }) => {
      const attempt = await service.startConnect(provider, {
        ...(label === undefined ? {} : { label }),
        ...(listen === undefined ? {} : { listen }),
      });
      attempts.set(attempt.attemptId, attempt);
      attempt.result.then(
        (account) => emit('connectResult', { attemptId: attempt.attemptId, provider, ok: true, account }),
        (error: unknown) =>
          emit('connectResult', { attemptId: attempt.attemptId, provider, ok: false, error: toAppError(error) }),
      );
      void attempt.result.catch(() => undefined).finally(() => attempts.delete(attempt.attemptId));
      return {
        attemptId: attempt.attemptId,
        provider: attempt.provider,
        authorizeUrl: attempt.authorizeUrl,
        redirectUri: attempt.redirectUri,
      };
    },
    completeConnectWithUrl: async ({ provider, url, label }) =>
      service.completeConnectWithUrl(provider, url, label === undefined ? undefined : { label }),
    completeConnectWithCode: async ({ provider, code, host, label }) =>
      service.completeConnectWithCode(provider, code, {
        ...(host === undefined ? {} : { host }),
        ...(label === undefined ? {} : { label }),
      }),
    connectWithToken: async ({ provider, token, host, label }) =>
      service.connectWithToken(provider, token, {
        ...(host === undefined ? {} : { host }),
        ...(label === undefined ? {} : { label }),
      }),
    cancelConnect: async ({ attemptId }) => {
      const attempt = attempts.get(attemptId);
      if (!attempt) return { cancelled: false };
      attempt.cancel();
      attempts.delete(attemptId);
      return { cancelled: true };
    },
    listAccounts: async () => service.listAccounts(),
    inspect: async ({ accountId }) => service.inspect(accountId),
    refresh: async ({ accountId }) => {
      try {
        const account = await service.refresh(accountId);
        emit('refreshResult', { accountId, ok: true, account });
        return account;
      } catch (error) {
        emit('refreshResult', { accountId, ok: false, error: toAppError(error) });
        throw error;
      }
    },
    disconnect: async ({ accountId }) => {
      await service.disconnect(accountId);
      return { disconnected: true as const };
    },
    tasks: async ({ accountId, offline, full }) =>
      service.tasks(accountId, {
        ...(offline === undefined ? {} : { offline }),
        ...(full === undefined ? {} : { full }),
      }),
    copyToken: async ({ accountId }) => {
      await actions.copyToken(accountId);
      return { copied: true as const, clearsInSeconds: 60 as const };
    },
    openExternal: async ({ url }) => {
      // No exception for URLs the core handed out: a provider's task link or a discovered
      // authorize URL is as untrusted as the renderer's own (issue 20).
      if (!isOpenableUrl(url)) {
        throw new TokentrayError('USAGE', `Tokentray opens only ${OPENABLE_URLS_TEXT} in your browser.`);
      }
      const opened = await actions.openExternal(url);
      return { opened: opened !== false };
    },
    ...taskViewHandlers(service, taskViews),
    getStorageStatus: async () => service.storageStatus(),
    getPreferences: async () => preferences.get(),
    setPreferences: async (patch) => {
      const next = preferencesSchema.parse({ ...(await preferences.get()), ...patch });
      await preferences.set(next);
      return next;
    },
    getStartAtLogin: async () => (actions.startAtLogin ? actions.startAtLogin.state() : NO_START_AT_LOGIN),
    setStartAtLogin: async ({ enabled }) => {
      if (!actions.startAtLogin)
        throw new TokentrayError('USAGE', `Start at login is not available here: ${NO_START_AT_LOGIN.reason}`);
      return actions.startAtLogin.set(enabled);
    },
  };

  async function dispatch<C extends IpcChannel>(channel: C, payload: unknown): Promise<Result<unknown>> {
    const contract = ipcContract[channel];
    const request = contract.request.safeParse(payload);
    if (!request.success) {
      // The payload is never echoed: it may hold a client secret or a pasted token.
      return {
        ok: false,
        error: invalid(userFacingIssue(request.error) ?? `The request to "${channel}" was malformed.`),
      };
    }
    let data: unknown;
    try {
      const handler = handlers[channel] as (request: unknown) => Promise<unknown>;
      data = await handler(request.data);
    } catch (error) {
      return { ok: false, error: toAppError(error) };
    }
    const response = contract.response.safeParse(data);
    if (!response.success) return { ok: false, error: toAppError(new Error('response did not match the contract')) };
    return { ok: true, data: response.data };
  }

  return {
    handle: async (channel, payload) => {
      if (!isIpcChannel(channel)) return { ok: false, error: invalid('That request is not part of Tokentray.') };
      return dispatch(channel, payload);
    },
    subscribe: (push) => {
      subscribers.add(push);
      return () => {
        subscribers.delete(push);
      };
    },
    emit,
    close: () => {
      for (const off of unsubscribeService) off();
      subscribers.clear();
      for (const attempt of attempts.values()) attempt.cancel();
      attempts.clear();
      taskViews.clear();
    },
  };
}
