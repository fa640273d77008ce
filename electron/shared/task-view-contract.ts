// The paged tasks view's part of the IPC contract. The core keeps each open
// view's whole list, sorted and grouped; the renderer asks for windows of rows
// (headers and tasks) and gets group headers and totals with every answer, so
// no message grows with the list. Spread into `ipcContract` as one block.
import { z } from 'zod';
import { appErrorSchema, skippedSourceSchema, taskSchema } from './models';

export const dueGroupSchema = z.enum(['overdue', 'today', 'tomorrow', 'week', 'later', 'none']);
export type DueGroup = z.infer<typeof dueGroupSchema>;
export const DUE_GROUPS: readonly DueGroup[] = dueGroupSchema.options;

export const statusFilterSchema = z.enum(['open', 'done', 'all']);
export type StatusFilter = z.infer<typeof statusFilterSchema>;

/** Most rows one answer carries: a few screens, never the list. */
export const MAX_WINDOW_ROWS = 500;

const accountId = z.string().trim().min(1).max(200);
const viewId = z.string().min(1).max(100);

/** What the renderer is looking at: filter, search text and its own calendar day. */
const viewQuery = {
  query: z.string().max(500),
  status: statusFilterSchema,
  /** Today in the user's calendar (YYYY-MM-DD); due groups are relative to it. */
  today: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  /** Grows with every new query; the core drops work and answers for an older one. */
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
};

const windowRange = {
  offset: z.number().int().min(0),
  count: z.number().int().min(0).max(MAX_WINDOW_ROWS),
};

export const taskViewRowSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('header'), group: dueGroupSchema, count: z.number().int() }),
  /** position: 1-based place among the matching tasks (aria-posinset). */
  z.object({ kind: z.literal('task'), group: dueGroupSchema, position: z.number().int(), task: taskSchema }),
]);
export type TaskViewRow = z.infer<typeof taskViewRowSchema>;

export const taskViewGroupSchema = z.object({
  group: dueGroupSchema,
  /** Matching tasks in the group. */
  count: z.number().int(),
  /** Row index of the group's header. */
  start: z.number().int(),
});
export type TaskViewGroup = z.infer<typeof taskViewGroupSchema>;

export const taskWindowSchema = z.discriminatedUnion('stale', [
  z.object({
    stale: z.literal(false),
    viewId,
    seq: z.number().int(),
    /** Rows (headers + tasks) the filtered list has. */
    total: z.number().int(),
    /** Tasks that match the filter and search. */
    matched: z.number().int(),
    /** Tasks in the view before any filter. */
    unfiltered: z.number().int(),
    groups: z.array(taskViewGroupSchema),
    offset: z.number().int(),
    rows: z.array(taskViewRowSchema),
  }),
  /** A newer query arrived first: this one was cancelled and has no rows. */
  z.object({ stale: z.literal(true), viewId, seq: z.number().int() }),
]);
export type TaskWindow = z.infer<typeof taskWindowSchema>;

/** One account's list in a view, without its tasks. */
export const taskViewSourceSchema = z.object({
  accountId: z.string(),
  fetchedAt: z.string().nullable(),
  offline: z.boolean(),
  ageSeconds: z.number().nullable(),
  error: appErrorSchema.nullable(),
  /** Workspaces and lists the live fetch skipped while listing the rest (TaskList.skipped). */
  skipped: z.array(skippedSourceSchema),
  /** TaskList.syncMode: how fresh the list is, incremental or a full walk. */
  syncMode: z.enum(['full', 'incremental']).nullable().default(null),
  /** TaskList.fullWalkAt: when the account was last walked in full. */
  fullWalkAt: z.string().nullable().default(null),
});
export type TaskViewSource = z.infer<typeof taskViewSourceSchema>;

export const taskViewChannels = {
  /** Fetches (or, with offline, reads the cache of) every account's list and opens a view over them. */
  taskViewOpen: {
    request: z.strictObject({
      accountIds: z.array(accountId).max(200),
      offline: z.boolean().optional(),
      /** "Refresh everything": walk each account in full (deletions and moves) instead of syncing what changed. */
      full: z.boolean().optional(),
      ...viewQuery,
      count: windowRange.count,
    }),
    response: z.object({
      viewId,
      sources: z.array(taskViewSourceSchema),
      failures: z.array(z.object({ accountId: z.string(), error: appErrorSchema })),
      window: taskWindowSchema,
    }),
  },
  /** A window of rows of an open view, under a (possibly new) filter and search. */
  taskViewWindow: {
    request: z.strictObject({ viewId, ...viewQuery, ...windowRange }),
    response: taskWindowSchema,
  },
  taskViewClose: {
    request: z.strictObject({ viewId }),
    response: z.object({ closed: z.boolean() }),
  },
};
