import { isOpenableUrl } from '../../shared/endpoint-url';
import type { TaskList, Task } from '../../shared/models';
import type { Clock } from '../clock';
import { TokentrayError, toAppError } from '../errors';
import type { HttpClient } from '../http/client';
import type { AccountRepository } from '../accounts/account-repository';
import { pinnedAccountContext } from '../accounts/pinned-context';
import type { ProviderRegistry } from '../providers/registry';
import type { Refresher } from '../refresh/refresher';
import type { StoredTokens } from '../providers/types';
import type { SyncSummary, TaskFetchOptions } from '../service-api';
import type { CachedList, TaskCache } from './task-cache';
import { syncTasks, type SyncOutcome } from './task-sync';
import { withTokenRecovery } from './token-recovery';

const SERVE_CACHE_ON = new Set(['PROVIDER_UNAVAILABLE', 'RATE_LIMITED']);

/**
 * A provider's task link, kept only when Tokentray would open it (https, or http on loopback):
 * a `file:`, `javascript:` or `ms-msdt:` link from a provider is dropped, so no view shows a link
 * that must not be followed.
 */
function withOpenableLink(task: Task): Task {
  return task.url === null || isOpenableUrl(task.url) ? task : { ...task, url: null };
}

export interface TaskServiceOptions {
  repo: AccountRepository;
  registry: ProviderRegistry;
  refresher: Refresher;
  http: HttpClient;
  cache: TaskCache;
  clock: Clock;
  onChange(): void;
}

/**
 * Brings an account's task list up to date (incrementally when it can, task-sync.ts), keeps the last
 * good one, and serves it with its age when offline.
 */
export class TaskService {
  constructor(private readonly o: TaskServiceOptions) {}

  async tasks(accountId: string, options: TaskFetchOptions = {}): Promise<TaskList> {
    if (options.offline) {
      const cached = await this.o.cache.read(accountId);
      if (!cached) {
        throw new TokentrayError(
          'NOT_FOUND',
          `There is no saved task list for "${accountId}" yet; fetch it once while online.`,
        );
      }
      return this.fromCache(accountId, cached, null);
    }
    try {
      const outcome = await this.syncLive(accountId, options.full === true);
      const tasks = outcome.tasks ?? (await this.o.cache.read(accountId))?.tasks;
      if (!tasks) {
        throw new TokentrayError('INTERNAL', `The task list of "${accountId}" could not be read back; try again.`);
      }
      const { fetchedAt, fullWalkAt, mode } = outcome.state;
      return {
        accountId,
        tasks,
        fetchedAt: new Date(fetchedAt).toISOString(),
        offline: false,
        ageSeconds: 0,
        error: null,
        skipped: outcome.skipped,
        syncMode: mode,
        fullWalkAt: fullWalkAt === null ? null : new Date(fullWalkAt).toISOString(),
      };
    } catch (error) {
      const code = error instanceof TokentrayError ? error.code : null;
      if (code !== null && SERVE_CACHE_ON.has(code)) {
        const cached = await this.o.cache.read(accountId);
        if (cached) return this.fromCache(accountId, cached, error);
      }
      throw error;
    }
  }

  /**
   * Brings the saved list up to date without handing it out (the tray's background sync): an
   * incremental sync then holds only the changes, never the account's whole list.
   */
  async sync(accountId: string, options: { full?: boolean } = {}): Promise<SyncSummary> {
    const outcome = await this.syncLive(accountId, options.full === true);
    return {
      accountId,
      mode: outcome.mode,
      count: outcome.count,
      received: outcome.received,
      fetchedAt: new Date(outcome.state.fetchedAt).toISOString(),
      skipped: outcome.skipped,
    };
  }

  private fromCache(accountId: string, cached: CachedList, error: unknown): TaskList {
    const { fullWalkAt, mode } = cached.state;
    return {
      accountId,
      tasks: cached.tasks.map(withOpenableLink),
      fetchedAt: new Date(cached.fetchedAt).toISOString(),
      offline: true,
      ageSeconds: Math.max(0, Math.round((this.o.clock.now() - cached.fetchedAt) / 1000)),
      error: error === null ? null : toAppError(error),
      syncMode: mode,
      fullWalkAt: fullWalkAt === null ? null : new Date(fullWalkAt).toISOString(),
    };
  }

  private async syncLive(accountId: string, full: boolean): Promise<SyncOutcome> {
    await this.o.refresher.getValidToken(accountId, 60);
    const { meta, secret } = await this.o.repo.load(accountId);
    const provider = await this.o.registry.get(meta.provider);
    const { ctx } = await pinnedAccountContext(this.o, provider, { meta, secret }, { requireClient: !meta.personal });
    const baseOf = (tokens: StoredTokens): string | null => {
      try {
        return provider.apiBase(ctx, tokens);
      } catch {
        return null;
      }
    };
    const http = withTokenRecovery(this.o.http, {
      tokens: secret.tokens,
      header: (tokens) => provider.authorizationHeader(tokens),
      recover: (rejected) => this.o.refresher.refreshAfterRejection(accountId, rejected),
      base: baseOf,
    });
    // The origin the tasks' links are built on. A refresh during the sync may move the account
    // (amoCRM's subdomain change); then the tasks the sync did not bring still link to the old one.
    const origin = baseOf(secret.tokens) ?? '';
    try {
      const outcome = await syncTasks({
        accountId,
        provider,
        http,
        ctx: { ...ctx, tasksReadBefore: await this.o.cache.has(accountId) },
        cache: this.o.cache,
        now: () => this.o.clock.now(),
        full,
        clean: withOpenableLink,
        origin,
      });
      if (outcome.mode === 'full') return outcome;
      const moved = (baseOf((await this.o.repo.load(accountId)).secret.tokens) ?? '') !== origin;
      // The account moved while syncing: walk it again from its new address (a fresh context).
      return moved ? await this.syncLive(accountId, true) : outcome;
    } catch (error) {
      if (error instanceof TokentrayError && error.code === 'RECONNECT_REQUIRED') {
        // The provider refused the token and a refresh could not mend it (or there is none to make):
        // the account needs a new consent. A 403 (FORBIDDEN, or a block) never lands here.
        const latest = (await this.o.repo.load(accountId)).meta;
        await this.o.repo.saveMeta({
          ...this.o.repo.withHistory(latest, { outcome: 'failed', code: error.code }),
          state: 'reconnect',
          stateDetail: error.message,
          lastErrorCode: error.code,
        });
        this.o.onChange();
      }
      throw error;
    }
  }
}
