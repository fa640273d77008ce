/**
 * The tray keeps every account's task list fresh in the background, so the tasks view opens on a
 * list minutes old at most. Each round syncs the accounts one after another (never all at once:
 * amoCRM blocks bursts, ClickUp counts per token); a sync is incremental (task-sync.ts), so an
 * unchanged account costs one request per workspace, and the daily full walk that notices
 * deletions happens here too when it is due. A failure is left for the next round: the saved list
 * stays as it was (a failed sync writes nothing), and the view names the error when it is opened.
 */
import type { AccountSummary } from '../../shared/models';
import type { SyncSummary } from '../service-api';

export const BACKGROUND_SYNC_EVERY_MS = 15 * 60_000;
/** The first round waits a little after start-up: the network and the token refreshes come first. */
const FIRST_ROUND_AFTER_MS = 60_000;

export interface BackgroundSyncOptions {
  listAccounts(): Promise<AccountSummary[]>;
  /** Brings one account's saved list up to date (TokentrayCore.syncTasks: the list is not read whole). */
  sync(accountId: string): Promise<SyncSummary>;
  everyMs?: number;
  firstAfterMs?: number;
  /** After an account's list was brought up to date. */
  onSynced?(summary: SyncSummary): void;
  setTimeout?(callback: () => void, ms: number): unknown;
  clearTimeout?(handle: unknown): void;
}

export interface BackgroundSync {
  /** Runs a round now (after the machine wakes, say), unless one is running. */
  runNow(): Promise<void>;
  stop(): void;
}

export function startBackgroundSync(options: BackgroundSyncOptions): BackgroundSync {
  const everyMs = options.everyMs ?? BACKGROUND_SYNC_EVERY_MS;
  const setTimer = options.setTimeout ?? ((callback, ms) => setTimeout(callback, ms).unref());
  const clearTimer = options.clearTimeout ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>));
  let timer: unknown = null;
  let running: Promise<void> | null = null;
  let stopped = false;

  const round = async (): Promise<void> => {
    const accounts = await options.listAccounts().catch(() => []);
    for (const account of accounts) {
      if (stopped) return;
      // An account waiting for a new consent has nothing to sync until it is reconnected.
      if (account.status === 'reconnect') continue;
      try {
        const summary = await options.sync(account.id);
        options.onSynced?.(summary);
      } catch {
        // Offline, rate limited, refused: the next round tries again; the view shows why when opened.
      }
    }
  };

  const schedule = (ms: number): void => {
    if (stopped) return;
    timer = setTimer(() => {
      void runNow().finally(() => schedule(everyMs));
    }, ms);
  };

  const runNow = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    running ??= round().finally(() => {
      running = null;
    });
    return running;
  };

  schedule(options.firstAfterMs ?? FIRST_ROUND_AFTER_MS);
  return {
    runNow,
    stop() {
      stopped = true;
      if (timer !== null) clearTimer(timer);
    },
  };
}
