// Background refresh: keeps every refreshable account's token fresh while the
// tray app runs, so a laptop waking from sleep or a script calling the CLI is
// never handed a dead token. The refresh itself is the core's (single-flight,
// lock file, rotation-safe); this module only decides *when*. It never imports
// electron: main hands it the clock and timers, and tests hand it fakes.
import type { AccountSummary, TokenInspection } from '../../shared/models';
import type { Clock } from '../clock';

export interface SchedulerTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The three core calls the scheduler needs (TokentrayService satisfies it). */
export interface SchedulerCore {
  listAccounts(): Promise<AccountSummary[]>;
  inspect(accountId: string): Promise<TokenInspection>;
  refresh(accountId: string): Promise<AccountSummary>;
  /** When to act on an account, from metadata alone; without it the scheduler asks `inspect` (which reads the keychain). */
  refreshPlan?(accountId: string): Promise<Pick<TokenInspection, 'refreshDueAt' | 'canRefresh'>>;
}

export interface SchedulerOptions {
  core: SchedulerCore;
  clock: Clock;
  timers?: SchedulerTimers;
  /** [0, 1); injectable so jitter is reproducible in tests. */
  random?: () => number;
  /** Refresh up to this much *before* the core's due time, so many apps sharing a provider do not refresh in step. */
  jitterMs?: number;
  /** Accounts already due (after sleep, at start-up) are spread over this window instead of all at once. */
  overdueSpreadMs?: number;
  /** A short pause before overdue refreshes: after wake-up the network is often not back yet. */
  overdueDelayMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /**
   * No timer waits longer than this: the account is looked at again then. Catches changes made by
   * the CLI in another process and wall-clock jumps, and keeps below setTimeout's 24.8-day limit.
   */
  recheckMs?: number;
  onRefreshed?(account: AccountSummary): void;
  onRefreshFailed?(accountId: string, error: unknown, retryAt: number | null): void;
  /** A token that cannot be refreshed has reached its warning time (the notice logic decides whether to tell). */
  onExpiryDue?(account: AccountSummary, inspection: TokenInspection): void;
}

export interface RefreshScheduler {
  /** Looks at every account and (re)arms its timer; call after start-up and whenever accounts change. */
  replan(): Promise<void>;
  /** After the machine wakes: timers that slept are thrown away and everything is planned from the clock. */
  onResume(): Promise<void>;
  stop(): void;
  /** When each account will next be looked at (epoch ms). For the tray and tests. */
  planned(): ReadonlyMap<string, number>;
  /** Accounts whose last background refresh failed for a passing reason and are waiting to retry. */
  retrying(): ReadonlySet<string>;
}

/** Errors no retry can fix: the account is left alone until it changes (reconnected, set up again). */
const PERMANENT = new Set([
  'RECONNECT_REQUIRED',
  'USAGE',
  'NOT_FOUND',
  'PROVIDER_NOT_CONFIGURED',
  'PROVIDER_CONFIG_INVALID',
  'KEYCHAIN_ITEM_MISSING',
  'TOKEN_INVALID',
]);

interface Entry {
  timer: unknown;
  at: number;
  inflight: boolean;
  failures: number;
  retryAt: number | null;
  /** The expiry a permanent failure was seen for; a new expiry (reconnect) lifts the block. */
  blockedFor: string | null;
}

function errorCode(error: unknown): string | null {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') return error.code;
  return null;
}

function retryAfterMs(error: unknown): number {
  if (error && typeof error === 'object' && 'retryAfterSeconds' in error && typeof error.retryAfterSeconds === 'number')
    return error.retryAfterSeconds * 1000;
  return 0;
}

const defaultTimers: SchedulerTimers = {
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    // A pending refresh must not keep a CLI-embedded scheduler (or a test) alive.
    handle.unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export function createRefreshScheduler(options: SchedulerOptions): RefreshScheduler {
  const { core, clock } = options;
  const timers = options.timers ?? defaultTimers;
  const random = options.random ?? Math.random;
  const jitterMs = options.jitterMs ?? 60_000;
  const overdueSpreadMs = options.overdueSpreadMs ?? 30_000;
  const overdueDelayMs = options.overdueDelayMs ?? 5_000;
  const backoffBaseMs = options.backoffBaseMs ?? 30_000;
  const backoffMaxMs = options.backoffMaxMs ?? 30 * 60_000;
  const recheckMs = options.recheckMs ?? 15 * 60_000;

  const entries = new Map<string, Entry>();
  let pollTimer: unknown = null;
  let stopped = false;
  // Replans are serialized: an accountsChanged burst must not interleave two plans of the same account.
  let planning: Promise<void> = Promise.resolve();

  const entryOf = (id: string): Entry => {
    let entry = entries.get(id);
    if (!entry) {
      entry = { timer: null, at: 0, inflight: false, failures: 0, retryAt: null, blockedFor: null };
      entries.set(id, entry);
    }
    return entry;
  };

  const disarm = (entry: Entry): void => {
    if (entry.timer !== null) timers.clearTimeout(entry.timer);
    entry.timer = null;
  };

  const arm = (id: string, entry: Entry, at: number): void => {
    disarm(entry);
    const now = clock.now();
    const capped = Math.min(at, now + recheckMs);
    entry.at = capped;
    entry.timer = timers.setTimeout(
      () => {
        entry.timer = null;
        void fire(id);
      },
      Math.max(0, capped - now),
    );
  };

  /** Overdue work starts after a short pause, each account at its own random moment. */
  const overdueAt = (now: number): number => now + overdueDelayMs + random() * overdueSpreadMs;

  const backoffMs = (failures: number, error: unknown): number => {
    const exponential = Math.min(backoffMaxMs, backoffBaseMs * 2 ** Math.max(0, failures - 1));
    // Half fixed, half random: retries of many accounts after one outage do not line up.
    return Math.max(retryAfterMs(error), exponential / 2 + (random() * exponential) / 2);
  };

  // Planning runs on every account change: it reads metadata, not secrets, when the core can.
  const planOf = (id: string): Promise<Pick<TokenInspection, 'refreshDueAt' | 'canRefresh'>> =>
    core.refreshPlan ? core.refreshPlan(id) : core.inspect(id);

  async function planOne(account: AccountSummary): Promise<void> {
    const entry = entryOf(account.id);
    if (entry.inflight || stopped) return;
    disarm(entry);
    if (account.status === 'reconnect' || account.status === 'error' || account.expiresAt === null) return;
    if (entry.blockedFor !== null) {
      if (entry.blockedFor === account.expiresAt) return;
      entry.blockedFor = null;
    }
    let inspection: Pick<TokenInspection, 'refreshDueAt' | 'canRefresh'>;
    try {
      inspection = await planOf(account.id);
    } catch {
      // A locked keychain or a file being rewritten: look again later rather than give up on the account.
      arm(account.id, entry, clock.now() + recheckMs);
      return;
    }
    if (stopped || entry.inflight) return;
    const now = clock.now();
    const due = inspection.refreshDueAt === null ? null : Date.parse(inspection.refreshDueAt);
    if (due === null || Number.isNaN(due)) return;
    if (!inspection.canRefresh) {
      if (now >= due) {
        if (options.onExpiryDue) {
          const full = await core.inspect(account.id).catch(() => null);
          if (full) options.onExpiryDue(account, full);
        }
        // Past the warning time there is nothing to schedule; a reconnect changes the expiry and replans.
        arm(account.id, entry, now + recheckMs);
      } else {
        arm(account.id, entry, due);
      }
      return;
    }
    if (entry.retryAt !== null && entry.retryAt > now) {
      arm(account.id, entry, entry.retryAt);
      return;
    }
    const early = due - random() * jitterMs;
    arm(account.id, entry, early > now ? early : overdueAt(now));
  }

  async function fire(id: string): Promise<void> {
    if (stopped) return;
    const entry = entryOf(id);
    if (entry.inflight) return;
    let account: AccountSummary | undefined;
    try {
      account = (await core.listAccounts()).find((a) => a.id === id);
    } catch {
      arm(id, entry, clock.now() + recheckMs);
      return;
    }
    if (!account) {
      entries.delete(id);
      return;
    }
    let inspection: Pick<TokenInspection, 'refreshDueAt' | 'canRefresh'>;
    try {
      inspection = await planOf(id);
    } catch {
      arm(id, entry, clock.now() + recheckMs);
      return;
    }
    const due = inspection.refreshDueAt === null ? null : Date.parse(inspection.refreshDueAt);
    const now = clock.now();
    // Re-read before acting: the CLI (or the user, from the window) may have refreshed it since the plan.
    // The jitter let the timer fire up to jitterMs early, so "due" is read with that same allowance.
    const dueNow =
      inspection.canRefresh &&
      account.status !== 'reconnect' &&
      account.status !== 'error' &&
      due !== null &&
      due - jitterMs <= now;
    if (!dueNow) {
      await planOne(account);
      return;
    }
    entry.inflight = true;
    try {
      const refreshed = await core.refresh(id);
      entry.failures = 0;
      entry.retryAt = null;
      entry.inflight = false;
      options.onRefreshed?.(refreshed);
      await planOne(refreshed);
    } catch (error) {
      entry.inflight = false;
      const code = errorCode(error);
      if (code !== null && PERMANENT.has(code)) {
        entry.blockedFor = account.expiresAt;
        entry.retryAt = null;
        options.onRefreshFailed?.(id, error, null);
        return;
      }
      entry.failures += 1;
      entry.retryAt = clock.now() + backoffMs(entry.failures, error);
      options.onRefreshFailed?.(id, error, entry.retryAt);
      if (!stopped) arm(id, entry, entry.retryAt);
    }
  }

  async function planAll(): Promise<void> {
    if (stopped) return;
    let accounts: AccountSummary[];
    try {
      accounts = await core.listAccounts();
    } catch {
      accounts = [];
    }
    const present = new Set(accounts.map((a) => a.id));
    for (const [id, entry] of entries) {
      if (!present.has(id) && !entry.inflight) {
        disarm(entry);
        entries.delete(id);
      }
    }
    for (const account of accounts) await planOne(account);
    armPoll();
  }

  // New accounts connected by the CLI (another process) raise no event here: a slow poll finds them.
  const armPoll = (): void => {
    if (pollTimer !== null) timers.clearTimeout(pollTimer);
    if (stopped) return;
    pollTimer = timers.setTimeout(() => {
      pollTimer = null;
      void replan();
    }, recheckMs);
  };

  function replan(): Promise<void> {
    planning = planning.then(planAll, planAll);
    return planning;
  }

  return {
    replan,
    onResume: () => {
      // Timers armed before sleep count time the machine did not spend awake; the clock is the truth now.
      for (const entry of entries.values()) disarm(entry);
      return replan();
    },
    stop: () => {
      stopped = true;
      for (const entry of entries.values()) disarm(entry);
      if (pollTimer !== null) timers.clearTimeout(pollTimer);
      pollTimer = null;
    },
    planned: () => {
      const out = new Map<string, number>();
      for (const [id, entry] of entries) if (entry.timer !== null) out.set(id, entry.at);
      return out;
    },
    retrying: () => {
      const out = new Set<string>();
      for (const [id, entry] of entries) if (entry.retryAt !== null) out.add(id);
      return out;
    },
  };
}
