// Data shapes shared by core, CLI, Electron main, preload and renderer.
// Nothing here may hold a secret: these objects cross IPC and are printed by the CLI.
import { z } from 'zod';

export const ERROR_CODES = [
  'USAGE',
  'NOT_FOUND',
  'AMBIGUOUS_ACCOUNT',
  'PROVIDER_NOT_CONFIGURED',
  'PROVIDER_CONFIG_INVALID',
  'RECONNECT_REQUIRED',
  'PROVIDER_UNAVAILABLE',
  'RATE_LIMITED',
  'FORBIDDEN',
  'KEYCHAIN_UNAVAILABLE',
  'KEYCHAIN_ITEM_MISSING',
  'STATE_MISMATCH',
  'CALLBACK_INVALID',
  'ACCESS_DENIED',
  'AUTH_CODE_INVALID',
  'TOKEN_INVALID',
  'TOKEN_RESPONSE_INVALID',
  'CONNECT_TIMEOUT',
  'CONNECT_CANCELLED',
  'PORT_IN_USE',
  'STATE_DIR_UNREADABLE',
  'IPC_INVALID',
  'INTERNAL',
] as const;
export const errorCodeSchema = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof errorCodeSchema>;

export const appErrorSchema = z.object({
  code: errorCodeSchema,
  message: z.string(),
  /** Seconds to wait before trying again (rate limits, outages), when known. */
  retryAfterSeconds: z.number().optional(),
});
export type AppError = z.infer<typeof appErrorSchema>;

export type Result<T> = { ok: true; data: T } | { ok: false; error: AppError };

export const accountStatusSchema = z.enum(['ok', 'expiring', 'expired', 'reconnect', 'error']);
export type AccountStatus = z.infer<typeof accountStatusSchema>;

export const connectMethodSchema = z.enum(['loopback', 'paste', 'token']);
export type ConnectMethod = z.infer<typeof connectMethodSchema>;

export const workspaceSchema = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string().nullable().default(null),
});
export type Workspace = z.infer<typeof workspaceSchema>;

export const accountSummarySchema = z.object({
  id: z.string(),
  provider: z.string(),
  providerName: z.string(),
  label: z.string(),
  status: accountStatusSchema,
  /** One sentence for the user when status is not ok. */
  statusDetail: z.string().nullable(),
  expiresAt: z.string().nullable(),
  lastRefreshAt: z.string().nullable(),
  connectedAt: z.string(),
  scopes: z.array(z.string()),
  workspaces: z.array(workspaceSchema),
  /** Short, non-reversible fingerprint of the access token (sha256, 12 hex chars). */
  fingerprint: z.string(),
  canRefresh: z.boolean(),
  demo: z.boolean(),
});
export type AccountSummary = z.infer<typeof accountSummarySchema>;

export const providerSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['builtin', 'generic', 'demo']),
  configured: z.boolean(),
  methods: z.array(connectMethodSchema),
  /** The exact redirect URI the user must register with the provider. */
  redirectUri: z.string().nullable(),
  /** amoCRM/Kommo: the paste flow needs the account host with a bare code. */
  needsHost: z.boolean(),
  /** With needsHost: an account address to show as an example (example.amocrm.ru). */
  hostExample: z.string().nullable(),
  /** Where the user registers an app (client id/secret). */
  registerUrl: z.string().nullable(),
  personalTokenHint: z.string().nullable(),
});
export type ProviderSummary = z.infer<typeof providerSummarySchema>;

export const jwtInfoSchema = z.object({
  header: z.record(z.string(), z.unknown()),
  claims: z.record(z.string(), z.unknown()),
});

export const refreshEventSchema = z.object({
  at: z.string(),
  outcome: z.enum(['ok', 'failed']),
  code: errorCodeSchema.nullable(),
});
export type RefreshEvent = z.infer<typeof refreshEventSchema>;

export const tokenInspectionSchema = z.object({
  accountId: z.string(),
  provider: z.string(),
  label: z.string(),
  status: accountStatusSchema,
  statusDetail: z.string().nullable(),
  tokenKind: z.enum(['jwt', 'opaque', 'personal']),
  issuedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  secondsLeft: z.number().nullable(),
  lifetimeSeconds: z.number().nullable(),
  /** When the app will refresh (or warn, for tokens that cannot be refreshed). */
  refreshDueAt: z.string().nullable(),
  scopes: z.array(z.string()),
  jwt: jwtInfoSchema.nullable(),
  lastRefreshAt: z.string().nullable(),
  fingerprint: z.string(),
  hasRefreshToken: z.boolean(),
  canRefresh: z.boolean(),
  refreshHistory: z.array(refreshEventSchema),
});
export type TokenInspection = z.infer<typeof tokenInspectionSchema>;

export const taskSchema = z.object({
  id: z.string(),
  accountId: z.string(),
  provider: z.string(),
  title: z.string(),
  status: z.enum(['open', 'done']),
  /**
   * date: the YYYY-MM-DD day the task is due, in `timeZone` (or the user's zone when null): the
   * view groups by it. dateTime: ISO 8601 instant, or null for a date with no time (all-day,
   * date-only; shown as the day alone). timeZone: IANA name the provider's date belongs to.
   * Providers build it with electron/core/tasks/due-date.ts (timedDue / allDayDue).
   */
  due: z.object({ date: z.string(), dateTime: z.string().nullable(), timeZone: z.string().nullable() }).nullable(),
  /** 0 none, 1 low, 2 normal, 3 high, 4 urgent; original is the provider's own value. */
  priority: z.object({
    level: z.number().int().min(0).max(4),
    original: z.union([z.string(), z.number()]).nullable(),
  }),
  project: z.string().nullable(),
  workspace: z.string().nullable(),
  assignees: z.array(z.string()),
  url: z.string().nullable(),
  updatedAt: z.string().nullable(),
});
export type Task = z.infer<typeof taskSchema>;

/**
 * A part of an account's tasks the provider would not hand over while the rest came: one
 * workspace (a Basecamp account that is inactive or expired, a ClickUp workspace the token may not
 * read) or one list (deleted, or hidden from this login). The account itself stays connected.
 */
export const skippedSourceSchema = z.object({
  kind: z.enum(['workspace', 'project', 'list']),
  /** The workspace (Basecamp account, ClickUp workspace) it belongs to. */
  workspace: z.string(),
  /** What was skipped: the workspace, the project, or "project / list". */
  name: z.string(),
  reason: z.enum(['inactive', 'expired', 'not_found', 'not_authorized']),
  /** One sentence for the user: what was skipped and why. */
  message: z.string(),
});
export type SkippedSource = z.infer<typeof skippedSourceSchema>;

export const taskListSchema = z.object({
  accountId: z.string(),
  tasks: z.array(taskSchema),
  fetchedAt: z.string().nullable(),
  /** True when the list came from the offline cache. */
  offline: z.boolean(),
  ageSeconds: z.number().nullable(),
  /** Why the cache was served, when the live fetch failed. */
  error: appErrorSchema.nullable(),
  /** What the live fetch skipped while listing the rest; absent or empty when nothing was. */
  skipped: z.array(skippedSourceSchema).optional(),
  /**
   * How the list was last brought up to date: `incremental` asked the provider what changed since
   * the saved list, `full` walked the whole account (which also notices deletions and moves).
   * Absent for lists saved before the sync existed.
   */
  syncMode: z.enum(['full', 'incremental']).optional(),
  /** When the last full walk of the account ended (ISO 8601), or null when none is saved. */
  fullWalkAt: z.string().nullable().optional(),
});
export type TaskList = z.infer<typeof taskListSchema>;

/**
 * Where this installation keeps its secrets, and whether that place answers. `shared` is the
 * PostgreSQL store (`tokentray store use postgres://…`); while it is unreachable the app serves
 * access tokens cached on this machine and refreshes wait for the database.
 */
export const storageStatusSchema = z.object({
  backend: z.enum(['keychain', 'shared']),
  reachable: z.boolean(),
});
export type StorageStatus = z.infer<typeof storageStatusSchema>;
