// The one IPC contract. Electron main registers a handler per channel named
// here, the preload exposes one method per channel, the development bridge
// speaks the same channels over a WebSocket, and the renderer calls them typed.
// A channel that is not in this file does not exist.
//
// No response schema has a field that could carry a token, a refresh token or a
// client secret: secrets go in (setProvider, connectWithToken) and never come back.
import { z } from 'zod';
import { endpointUrlProblem } from './endpoint-url';
import {
  accountSummarySchema,
  appErrorSchema,
  providerSummarySchema,
  storageStatusSchema,
  taskListSchema,
  tokenInspectionSchema,
  type Result,
} from './models';
import { taskViewChannels } from './task-view-contract';

const providerId = z.string().trim().min(1).max(64);
const accountId = z.string().trim().min(1).max(200);
const label = z.string().trim().min(1).max(100).optional();
const host = z.string().trim().min(1).max(253).optional();
/**
 * Marks a refusal whose message is a fixed sentence (never the payload), so the
 * router may show it to the user instead of a bare "malformed request".
 */
export const USER_FACING_ISSUE = { userFacing: true } as const;

/** The first refusal in a failed parse that the user may read word for word, if any. */
export function userFacingIssue(error: z.ZodError): string | null {
  for (const issue of error.issues) {
    if (issue.code === 'custom' && (issue.params as { userFacing?: unknown } | undefined)?.userFacing === true)
      return issue.message;
  }
  return null;
}

const REDIRECT_URI_REFUSED =
  'The redirect URI must be https, tokentray://, or plain http on this machine only (127.0.0.0/8, ::1, localhost).';
const redirectUriField = z
  .string()
  .trim()
  .max(2048)
  .refine((value) => value === '' || endpointUrlProblem(value, 'The redirect URI', { appScheme: true }) === null, {
    message: REDIRECT_URI_REFUSED,
    params: USER_FACING_ISSUE,
  })
  .nullable()
  .optional();

/**
 * Endpoint overrides decide where refresh tokens and the client secret are sent, so the
 * renderer (untrusted) may not set them: only the command line, run by the user, can.
 */
function cliOnly(option: string) {
  return z
    .custom<never>(() => false, {
      message: `Endpoints can only be overridden from the command line (tokentray provider set <provider> ${option} <url>), not from the app's window.`,
      params: USER_FACING_ISSUE,
    })
    .optional();
}

/** Channels that take no arguments accept nothing (or an empty object). */
const noRequest = z.strictObject({}).optional();

export const languageSchema = z.enum(['system', 'en', 'ru', 'de']);
export type LanguagePreference = z.infer<typeof languageSchema>;

/** The theme is not a preference: it follows the operating system. */
export const preferencesSchema = z.object({ language: languageSchema });
export type Preferences = z.infer<typeof preferencesSchema>;
export const DEFAULT_PREFERENCES: Preferences = { language: 'system' };

export const connectPhaseSchema = z.enum(['waiting-for-browser', 'exchanging-code', 'verifying-identity', 'stored']);

export const connectStartedSchema = z.object({
  attemptId: z.string(),
  provider: z.string(),
  authorizeUrl: z.string(),
  /** The loopback URL the browser returns to; null when the user must paste the address instead. */
  redirectUri: z.string().nullable(),
});
export type ConnectStarted = z.infer<typeof connectStartedSchema>;

function channel<Req extends z.ZodType, Res extends z.ZodType>(request: Req, response: Res) {
  return { request, response };
}

// Start at login (Settings → "Start Tokentray when I log in"). Kept as its own block, spread into the contract below.
export const startAtLoginSchema = z.object({
  supported: z.boolean(),
  enabled: z.boolean(),
  /** Why it cannot be set here (a development run, no installed app); null when supported. */
  reason: z.string().nullable(),
});
export type StartAtLoginStatus = z.infer<typeof startAtLoginSchema>;
const startAtLoginChannels = {
  getStartAtLogin: channel(noRequest, startAtLoginSchema),
  setStartAtLogin: channel(z.strictObject({ enabled: z.boolean() }), startAtLoginSchema),
};

export const ipcContract = {
  listProviders: channel(noRequest, z.array(providerSummarySchema)),
  setProvider: channel(
    z.strictObject({
      provider: providerId,
      clientId: z.string().trim().min(1).max(512),
      /** Goes to the keychain through the core; never echoed back. */
      clientSecret: z.string().max(4096).nullable().optional(),
      redirectUri: redirectUriField,
      authorizeUrl: cliOnly('--authorize-url'),
      tokenUrl: cliOnly('--token-url'),
      apiUrl: cliOnly('--api-url'),
    }),
    providerSummarySchema,
  ),
  addGenericProvider: channel(
    z.strictObject({
      name: z.string().trim().min(1).max(64),
      issuer: z.string().trim().min(1).max(2048),
      clientId: z.string().trim().min(1).max(512),
      clientSecret: z.string().max(4096).nullable().optional(),
      scopes: z.array(z.string().trim().min(1).max(200)).max(50).optional(),
    }),
    providerSummarySchema,
  ),
  removeDemo: channel(noRequest, z.object({ removed: z.literal(true) })),
  startConnect: channel(
    z.strictObject({
      provider: providerId,
      label,
      /** False for the paste flow: no loopback listener, the user pastes where the browser landed. */
      listen: z.boolean().optional(),
    }),
    connectStartedSchema,
  ),
  completeConnectWithUrl: channel(
    z.strictObject({ provider: providerId, url: z.string().trim().min(1).max(8192), label }),
    accountSummarySchema,
  ),
  completeConnectWithCode: channel(
    z.strictObject({ provider: providerId, code: z.string().trim().min(1).max(4096), host, label }),
    accountSummarySchema,
  ),
  connectWithToken: channel(
    z.strictObject({ provider: providerId, token: z.string().trim().min(1).max(65_536), host, label }),
    accountSummarySchema,
  ),
  cancelConnect: channel(
    z.strictObject({ attemptId: z.string().min(1).max(100) }),
    z.object({ cancelled: z.boolean() }),
  ),
  listAccounts: channel(noRequest, z.array(accountSummarySchema)),
  inspect: channel(z.strictObject({ accountId }), tokenInspectionSchema),
  refresh: channel(z.strictObject({ accountId }), accountSummarySchema),
  disconnect: channel(z.strictObject({ accountId }), z.object({ disconnected: z.literal(true) })),
  tasks: channel(
    z.strictObject({ accountId, offline: z.boolean().optional(), full: z.boolean().optional() }),
    taskListSchema,
  ),
  /** Main writes the clipboard itself; the token never reaches the renderer. */
  copyToken: channel(
    z.strictObject({ accountId }),
    z.object({ copied: z.literal(true), clearsInSeconds: z.literal(60) }),
  ),
  /** Allow-listed: https anywhere, http only on loopback, or a URL the core itself handed out. */
  openExternal: channel(z.strictObject({ url: z.string().trim().min(1).max(8192) }), z.object({ opened: z.boolean() })),
  /** The keychain or the shared store, and whether the shared store answers (the window's "shared store unreachable"). */
  getStorageStatus: channel(noRequest, storageStatusSchema),
  getPreferences: channel(noRequest, preferencesSchema),
  setPreferences: channel(preferencesSchema.partial().strict(), preferencesSchema),
  ...startAtLoginChannels,
  /** The paged tasks view: taskViewOpen, taskViewWindow, taskViewClose (see task-view-contract.ts). */
  ...taskViewChannels,
};

export type IpcContract = typeof ipcContract;
export type IpcChannel = keyof IpcContract;
export const IPC_CHANNELS = Object.keys(ipcContract) as IpcChannel[];

export function isIpcChannel(value: unknown): value is IpcChannel {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ipcContract, value);
}

export type IpcRequest<C extends IpcChannel> = z.input<IpcContract[C]['request']>;
export type IpcResponse<C extends IpcChannel> = z.output<IpcContract[C]['response']>;

export function resultSchema<T extends z.ZodType>(data: T) {
  return z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), data }),
    z.object({ ok: z.literal(false), error: appErrorSchema }),
  ]);
}

/** Events main pushes to the renderer. */
export const ipcEvents = {
  accountsChanged: z.array(accountSummarySchema),
  connectProgress: z.object({ attemptId: z.string(), provider: z.string(), phase: connectPhaseSchema }),
  /** A browser sign-in finished (loopback redirect, deep link, or a paste that completed it). */
  connectResult: z.discriminatedUnion('ok', [
    z.object({ attemptId: z.string(), provider: z.string(), ok: z.literal(true), account: accountSummarySchema }),
    z.object({ attemptId: z.string(), provider: z.string(), ok: z.literal(false), error: appErrorSchema }),
  ]),
  /** A refresh finished: asked for by the renderer or run in the background. */
  refreshResult: z.discriminatedUnion('ok', [
    z.object({ accountId: z.string(), ok: z.literal(true), account: accountSummarySchema }),
    z.object({ accountId: z.string(), ok: z.literal(false), error: appErrorSchema }),
  ]),
  /** The shared store went away or came back. */
  storageChanged: storageStatusSchema,
  /** Main asks the window to show a view (the tray's "Connect account…"). */
  navigate: z.object({ to: z.enum(['accounts', 'connect', 'tasks', 'settings']) }),
};

export type IpcEvents = typeof ipcEvents;
export type IpcEvent = keyof IpcEvents;
export type IpcEventPayload<E extends IpcEvent> = z.output<IpcEvents[E]>;
export const IPC_EVENTS = Object.keys(ipcEvents) as IpcEvent[];

export function isIpcEvent(value: unknown): value is IpcEvent {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ipcEvents, value);
}

/** The Electron channel name of a contract channel (`ipcMain.handle(ipcChannelName(c), …)`). */
export function ipcChannelName(channel: IpcChannel): string {
  return `tokentray:${channel}`;
}

/** The Electron channel name main sends a pushed event on (`webContents.send(ipcEventName(e), payload)`). */
export function ipcEventName(event: IpcEvent): string {
  return `tokentray:event:${event}`;
}

type Method<C extends IpcChannel> =
  undefined extends IpcRequest<C>
    ? (request?: IpcRequest<C>) => Promise<Result<IpcResponse<C>>>
    : (request: IpcRequest<C>) => Promise<Result<IpcResponse<C>>>;

/** What the renderer sees as `window.tokentray`: one verb per channel plus `on` for pushed events. */
export type TokentrayApi = { readonly [C in IpcChannel]: Method<C> } & {
  on<E extends IpcEvent>(event: E, listener: (payload: IpcEventPayload<E>) => void): () => void;
};

export interface IpcTransport {
  invoke(channel: IpcChannel, request: unknown): Promise<unknown>;
  subscribe(event: IpcEvent, listener: (payload: unknown) => void): () => void;
}

/**
 * Builds the API object from the contract's channel list, so the preload and
 * the bridge client cannot drift apart. A transport answer that is not a
 * Result (a broken bridge, a crashed handler) becomes an IPC_INVALID error.
 */
export function createTokentrayApi(transport: IpcTransport): TokentrayApi {
  const api: Record<string, unknown> = {};
  for (const name of IPC_CHANNELS) {
    api[name] = async (request?: unknown): Promise<Result<unknown>> => {
      try {
        return asResult(await transport.invoke(name, request));
      } catch {
        return {
          ok: false,
          error: { code: 'IPC_INVALID', message: 'Tokentray could not reach its background process; try again.' },
        };
      }
    };
  }
  api['on'] = (event: IpcEvent, listener: (payload: unknown) => void): (() => void) => {
    if (!isIpcEvent(event)) throw new TypeError(`Unknown Tokentray event "${String(event)}".`);
    return transport.subscribe(event, listener);
  };
  return Object.freeze(api) as TokentrayApi;
}

function asResult(value: unknown): Result<unknown> {
  if (value && typeof value === 'object' && 'ok' in value) {
    const v = value as { ok: unknown; data?: unknown; error?: unknown };
    if (v.ok === true) return { ok: true, data: v.data };
    const parsed = appErrorSchema.safeParse(v.error);
    if (v.ok === false && parsed.success) return { ok: false, error: parsed.data };
  }
  return { ok: false, error: { code: 'IPC_INVALID', message: 'Tokentray received a malformed answer; try again.' } };
}
