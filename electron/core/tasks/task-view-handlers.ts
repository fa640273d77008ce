// The router's handlers for the paged tasks view: fetch (or read the cache of)
// every wanted account's list, keep it in the view store, answer windows.
import type { IpcRequest, IpcResponse } from '../../shared/ipc-contract';
import type { AppError, TaskList } from '../../shared/models';
import { toAppError } from '../errors';
import type { TokentrayService } from '../service-api';
import type { TaskViewStore } from './task-view-store';

type Channel = 'taskViewOpen' | 'taskViewWindow' | 'taskViewClose';
type TaskViewHandlers = { [C in Channel]: (request: IpcRequest<C>) => Promise<IpcResponse<C>> };

export function taskViewHandlers(service: Pick<TokentrayService, 'tasks'>, store: TaskViewStore): TaskViewHandlers {
  return {
    taskViewOpen: async ({ accountIds, offline, full, count, ...query }) => {
      const options = { ...(offline === undefined ? {} : { offline }), ...(full === undefined ? {} : { full }) };
      const settled = await Promise.all(
        accountIds.map((accountId) =>
          service.tasks(accountId, options).then(
            (list): { list: TaskList } => ({ list }),
            (error: unknown): { accountId: string; error: AppError } => ({ accountId, error: toAppError(error) }),
          ),
        ),
      );
      const lists: TaskList[] = [];
      const failures: Array<{ accountId: string; error: AppError }> = [];
      for (const s of settled) {
        if ('list' in s) lists.push(s.list);
        else failures.push(s);
      }
      const viewId = store.open(lists);
      const window = await store.window(viewId, { ...query, offset: 0, count });
      // After the first window is on its way: the search text, a chunk at a time between requests.
      setImmediate(() => void store.warmSearch(viewId));
      const sources = lists.map((l) => ({
        accountId: l.accountId,
        fetchedAt: l.fetchedAt,
        offline: l.offline,
        ageSeconds: l.ageSeconds,
        error: l.error,
        skipped: l.skipped ?? [],
        syncMode: l.syncMode ?? null,
        fullWalkAt: l.fullWalkAt ?? null,
      }));
      return { viewId, sources, failures, window };
    },
    taskViewWindow: async ({ viewId, ...request }) => store.window(viewId, request),
    taskViewClose: async ({ viewId }) => ({ closed: store.close(viewId) }),
  };
}
