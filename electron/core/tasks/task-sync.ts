/**
 * The incremental task sync: the cost of refreshing a list grows with what changed, not with the
 * size of the account (issue 22).
 *
 * - The base is the offline cache (task-cache.ts): the tasks plus each resource's cursor.
 * - Incremental, through the provider's `syncTasks` (its documented change feed: ClickUp's
 *   `date_updated_gt`, amoCRM's `filter[updated_at][from]` with `If-Modified-Since`, Basecamp's
 *   conditional requests), when a base with cursors exists and its last full walk ended less
 *   than `FULL_WALK_EVERY_MS` ago.
 * - A full walk (`fetchTasks`) otherwise: no base, a base from before the sync existed, a provider
 *   without a feed (TickTick), a feed that cannot answer from its cursors (`complete: false`), the
 *   daily reconciliation, and an explicit "Refresh everything" (`full`). The feeds do not report
 *   deletions, nor tasks moved out of reach; only this walk does, so it bounds how long a deleted
 *   task can linger to a day.
 * - Nothing is written until every answer is in, and then in one atomic rename: a crash or a
 *   failed request mid-sync leaves the previous complete list and its cursors.
 * - Workspaces and lists the provider refuses are reported in both modes (`onSkip`).
 */
import type { SkippedSource, Task } from '../../shared/models';
import type { HttpClient } from '../http/client';
import type { AccountContext, ProviderDefinition, TaskSyncBase } from '../providers/types';
import type { SyncState, TaskCache } from './task-cache';

/** The deletions-and-moves reconciliation runs at most this often per account (and on "Refresh everything"). */
export const FULL_WALK_EVERY_MS = 24 * 60 * 60 * 1000;

export type SyncMode = 'full' | 'incremental';

export interface SyncRequest {
  accountId: string;
  provider: Pick<ProviderDefinition, 'fetchTasks' | 'syncTasks'>;
  http: HttpClient;
  ctx: AccountContext;
  cache: TaskCache;
  now(): number;
  /** "Refresh everything": walk the whole account even if an incremental sync could answer. */
  full?: boolean;
  /** Applied to every task before it is kept (task-service.ts drops links Tokentray would not open). */
  clean?: (task: Task) => Task;
  onSkip?: (skipped: SkippedSource) => void;
  onProgress?: (count: number) => void;
  /**
   * The API origin the tasks' links are built on (amoCRM: the account's host). A base saved on
   * another origin is walked again: its unchanged tasks would keep links to the old address.
   */
  origin?: string;
}

/** Kept with the providers' cursors in the base; never handed to a provider. */
const ORIGIN_KEY = 'tokentray:origin';

export interface SyncOutcome {
  mode: SyncMode;
  /** Tasks in the list after the sync. */
  count: number;
  /** Tasks the provider sent (all of them on a full walk). */
  received: number;
  /** The whole list, when this sync had it in hand (a full walk); an incremental sync leaves it in the cache. */
  tasks: Task[] | null;
  state: SyncState;
  skipped: SkippedSource[];
}

/** Whether the base can be brought up to date incrementally, or the account must be walked. */
export function syncModeFor(
  state: SyncState | null,
  hasFeed: boolean,
  now: number,
  options: { full?: boolean } = {},
): SyncMode {
  if (options.full === true || !hasFeed || state === null || state.fullWalkAt === null) return 'full';
  // A clock set back makes the age negative: walk rather than trust a base from the "future".
  const age = now - state.fullWalkAt;
  if (age < 0 || age >= FULL_WALK_EVERY_MS) return 'full';
  return Object.keys(state.cursors).length > 0 ? 'incremental' : 'full';
}

export async function syncTasks(request: SyncRequest): Promise<SyncOutcome> {
  const { accountId, provider, http, ctx, cache, now } = request;
  const clean = request.clean ?? ((task: Task) => task);
  const saved = await cache.state(accountId);
  const { [ORIGIN_KEY]: savedOrigin, ...providerCursors } = saved?.cursors ?? {};
  const state = saved && { ...saved, cursors: providerCursors };
  const sameOrigin = request.origin === undefined || savedOrigin === request.origin;
  const withOrigin = (cursors: Record<string, string>): Record<string, string> =>
    request.origin === undefined ? cursors : { ...cursors, [ORIGIN_KEY]: request.origin };
  if (
    sameOrigin &&
    syncModeFor(state, provider.syncTasks !== undefined, now(), request) === 'incremental' &&
    state !== null
  ) {
    const skipped: SkippedSource[] = [];
    const base: TaskSyncBase = {
      cursors: state.cursors,
      fetchedAt: state.fetchedAt,
      tasksWhere: (predicate) => cache.tasksWhere(accountId, predicate),
    };
    const result = await provider.syncTasks!(http, ctx, base, (s) => skipped.push(s));
    if (result.complete) {
      const next: SyncState = {
        fetchedAt: now(),
        fullWalkAt: state.fullWalkAt,
        mode: 'incremental',
        cursors: withOrigin(result.cursors),
      };
      const upserts = result.upserts.map(clean);
      const count = await cache.merge(accountId, { upserts, deletes: result.deletes }, next);
      for (const s of skipped) request.onSkip?.(s);
      return { mode: 'incremental', count, received: upserts.length, tasks: null, state: next, skipped };
    }
  }
  const skipped: SkippedSource[] = [];
  const cursors: Record<string, string> = {};
  const tasks: Task[] = [];
  for await (const page of provider.fetchTasks(
    http,
    ctx,
    request.onProgress,
    (s) => skipped.push(s),
    (key, value) => {
      cursors[key] = value;
    },
  )) {
    for (const task of page) tasks.push(clean(task));
  }
  const at = now();
  const next: SyncState = { fetchedAt: at, fullWalkAt: at, mode: 'full', cursors: withOrigin(cursors) };
  await cache.write(accountId, tasks, at, { fullWalkAt: at, mode: 'full', cursors: next.cursors });
  for (const s of skipped) request.onSkip?.(s);
  return { mode: 'full', count: tasks.length, received: tasks.length, tasks, state: next, skipped };
}
