// The background refresh scheduler against a fake core, a fake wall clock and
// fake timers. Sleep is modelled the way laptops behave: the wall clock jumps
// while timers armed before sleep are late by the whole nap.
import { describe, expect, it } from 'vitest';
import { refreshMarginMs } from '../../electron/core/accounts/account-status';
import { TokentrayError } from '../../electron/core/errors';
import { createRefreshScheduler, type SchedulerTimers } from '../../electron/core/refresh/scheduler';
import type { AccountSummary, TokenInspection } from '../../electron/shared/models';

const MIN = 60_000;
const HOUR = 60 * MIN;
const START = Date.parse('2030-01-01T08:00:00Z');

class FakeTime implements SchedulerTimers {
  now = START;
  private next = 1;
  private readonly queue = new Map<number, { at: number; callback: () => void }>();

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.next++;
    this.queue.set(id, { at: this.now + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.queue.delete(handle as number);
  }

  /** Runs every timer due within `ms`, in order, letting the promises they start settle. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      await settle();
      let first: [number, { at: number; callback: () => void }] | null = null;
      for (const item of this.queue) if (item[1].at <= end && (!first || item[1].at < first[1].at)) first = item;
      if (!first) break;
      this.queue.delete(first[0]);
      this.now = Math.max(this.now, first[1].at);
      first[1].callback();
    }
    this.now = end;
    await settle();
  }

  /** The machine sleeps: the wall clock moves, pending timers are late by the same amount. */
  sleep(ms: number): void {
    this.now += ms;
    for (const item of this.queue.values()) item.at += ms;
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

interface FakeAccount {
  id: string;
  provider: string;
  issuedAt: number;
  expiresAt: number | null;
  refreshable: boolean;
  state: 'ok' | 'reconnect';
}

/** The core's timing rules (refreshMarginMs is the real one) over in-memory accounts. */
class FakeCore {
  readonly accounts = new Map<string, FakeAccount>();
  readonly refreshes: { id: string; at: number; expiresAt: number | null }[] = [];
  failWith: ((id: string) => Error | null) | null = null;
  lifetimeMs = HOUR;

  constructor(private readonly time: FakeTime) {}

  add(id: string, expiresInMs: number, options: { refreshable?: boolean; lifetimeMs?: number } = {}): void {
    const lifetime = options.lifetimeMs ?? this.lifetimeMs;
    this.accounts.set(id, {
      id,
      provider: options.refreshable === false ? 'ticktick' : 'oidc',
      issuedAt: this.time.now + expiresInMs - lifetime,
      expiresAt: this.time.now + expiresInMs,
      refreshable: options.refreshable ?? true,
      state: 'ok',
    });
  }

  private summary(a: FakeAccount): AccountSummary {
    const now = this.time.now;
    return {
      id: a.id,
      provider: a.provider,
      providerName: a.provider === 'ticktick' ? 'TickTick' : 'OIDC',
      label: a.id,
      status: a.state === 'reconnect' ? 'reconnect' : a.expiresAt !== null && now >= a.expiresAt ? 'expired' : 'ok',
      statusDetail: null,
      expiresAt: a.expiresAt === null ? null : new Date(a.expiresAt).toISOString(),
      lastRefreshAt: null,
      connectedAt: new Date(START).toISOString(),
      scopes: [],
      workspaces: [],
      fingerprint: 'f',
      canRefresh: a.refreshable,
      demo: false,
    };
  }

  private dueAt(a: FakeAccount): number | null {
    if (a.expiresAt === null) return null;
    return a.refreshable ? a.expiresAt - refreshMarginMs(a.issuedAt, a.expiresAt) : a.expiresAt - 14 * 24 * HOUR;
  }

  async listAccounts(): Promise<AccountSummary[]> {
    return [...this.accounts.values()].map((a) => this.summary(a));
  }

  async inspect(id: string): Promise<TokenInspection> {
    const a = this.accounts.get(id);
    if (!a) throw new TokentrayError('NOT_FOUND', 'no such account');
    const s = this.summary(a);
    const due = this.dueAt(a);
    return {
      accountId: id,
      provider: a.provider,
      label: id,
      status: s.status,
      statusDetail: null,
      tokenKind: 'opaque',
      issuedAt: new Date(a.issuedAt).toISOString(),
      expiresAt: s.expiresAt,
      secondsLeft: null,
      lifetimeSeconds: null,
      refreshDueAt: due === null ? null : new Date(due).toISOString(),
      scopes: [],
      jwt: null,
      lastRefreshAt: null,
      fingerprint: 'f',
      hasRefreshToken: a.refreshable,
      canRefresh: a.refreshable,
      refreshHistory: [],
    };
  }

  async refresh(id: string): Promise<AccountSummary> {
    const a = this.accounts.get(id);
    if (!a) throw new TokentrayError('NOT_FOUND', 'no such account');
    const failure = this.failWith?.(id) ?? null;
    this.refreshes.push({ id, at: this.time.now, expiresAt: a.expiresAt });
    if (failure) {
      if (failure instanceof TokentrayError && failure.code === 'RECONNECT_REQUIRED') a.state = 'reconnect';
      throw failure;
    }
    a.issuedAt = this.time.now;
    a.expiresAt = this.time.now + this.lifetimeMs;
    return this.summary(a);
  }

  count(id: string): number {
    return this.refreshes.filter((r) => r.id === id).length;
  }
}

function setup(options: { random?: () => number } = {}) {
  const time = new FakeTime();
  const core = new FakeCore(time);
  const expiryDue: string[] = [];
  const failures: { id: string; retryAt: number | null }[] = [];
  let seed = 7;
  const random =
    options.random ??
    (() => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    });
  const scheduler = createRefreshScheduler({
    core,
    clock: { now: () => time.now },
    timers: time,
    random,
    onExpiryDue: (account) => expiryDue.push(account.id),
    onRefreshFailed: (id, _error, retryAt) => failures.push({ id, retryAt }),
  });
  return { time, core, scheduler, expiryDue, failures };
}

describe('refresh scheduler', () => {
  it('refreshes each account before its token expires, and keeps doing so', async () => {
    const { time, core, scheduler } = setup();
    core.add('a', 40 * MIN);
    core.add('b', 2 * HOUR, { lifetimeMs: 3 * HOUR });
    await scheduler.replan();
    expect(core.refreshes).toEqual([]);

    await time.advance(6 * HOUR);
    for (const id of ['a', 'b']) {
      const done = core.refreshes.filter((r) => r.id === id);
      expect(done.length).toBeGreaterThanOrEqual(5);
      for (const refresh of done) expect(refresh.at).toBeLessThan(refresh.expiresAt as number);
    }
    // An hour-long token is refreshed about once an hour, not in a loop.
    expect(core.count('a')).toBeLessThanOrEqual(8);
    scheduler.stop();
  });

  it('never refreshes a token that is far from its due time', async () => {
    const { time, core, scheduler } = setup();
    core.add('long', 30 * 24 * HOUR, { lifetimeMs: 60 * 24 * HOUR });
    await scheduler.replan();
    await time.advance(24 * HOUR);
    expect(core.refreshes).toEqual([]);
    scheduler.stop();
  });

  for (const skewMs of [-10 * MIN, 0, 10 * MIN]) {
    it(`after sleeping past expiry (clock skew ${skewMs / MIN} min), refreshes each account exactly once`, async () => {
      const { time, core, scheduler } = setup();
      const ids = Array.from({ length: 12 }, (_, i) => `acct-${i}`);
      ids.forEach((id, i) => core.add(id, 30 * MIN + i * MIN));
      await scheduler.replan();
      time.sleep(45 * MIN + skewMs);
      // The resume event and a timer that was already late may both arrive: still one refresh each.
      await Promise.all([scheduler.onResume(), scheduler.replan()]);
      await time.advance(2 * MIN);
      for (const id of ids) expect(core.count(id)).toBe(1);
      const times = core.refreshes.map((r) => r.at);
      // Spread out, not a burst in the same instant.
      expect(new Set(times).size).toBeGreaterThan(ids.length / 2);
      // Once fresh, nobody is refreshed again until the new token nears its end.
      await time.advance(40 * MIN);
      for (const id of ids) expect(core.count(id)).toBe(1);
      scheduler.stop();
    });
  }

  it('leaves a token that another process already refreshed alone', async () => {
    const { time, core, scheduler } = setup();
    core.add('a', 30 * MIN);
    await scheduler.replan();
    await time.advance(10 * MIN);
    // The CLI refreshed it: a new hour-long token is in the store.
    const stored = core.accounts.get('a') as FakeAccount;
    stored.issuedAt = time.now;
    stored.expiresAt = time.now + HOUR;
    await time.advance(30 * MIN);
    expect(core.count('a')).toBe(0);
    scheduler.stop();
  });

  it('backs off after a passing failure and succeeds later, one refresh in flight at a time', async () => {
    const { time, core, scheduler, failures } = setup();
    core.add('a', 20 * MIN);
    let outage = true;
    core.failWith = () => (outage ? new TokentrayError('PROVIDER_UNAVAILABLE', 'down') : null);
    await scheduler.replan();
    await time.advance(20 * MIN);
    const attemptsDuringOutage = core.count('a');
    expect(attemptsDuringOutage).toBeGreaterThanOrEqual(2);
    // 30 s doubling: a handful of tries in the outage, not one per second.
    expect(attemptsDuringOutage).toBeLessThanOrEqual(8);
    const retryGaps = failures
      .map((f) => f.retryAt as number)
      .map((at, i, all) => (i === 0 ? 0 : at - (all[i - 1] ?? 0)));
    expect(retryGaps.slice(2).every((gap) => gap > 0)).toBe(true);
    expect(scheduler.retrying().has('a')).toBe(true);

    outage = false;
    await time.advance(40 * MIN);
    expect(core.refreshes.at(-1)?.id).toBe('a');
    expect(scheduler.retrying().has('a')).toBe(false);
    expect(core.accounts.get('a')?.expiresAt).toBeGreaterThan(time.now);
    scheduler.stop();
  });

  it('stops trying an account whose grant was revoked until it is reconnected', async () => {
    const { time, core, scheduler } = setup();
    core.add('a', 20 * MIN);
    core.failWith = () => new TokentrayError('RECONNECT_REQUIRED', 'revoked');
    await scheduler.replan();
    await time.advance(3 * HOUR);
    expect(core.count('a')).toBe(1);

    // Reconnected: a fresh token, refreshed again on schedule.
    core.failWith = null;
    core.add('a', HOUR);
    await scheduler.replan();
    await time.advance(HOUR);
    expect(core.count('a')).toBe(2);
    scheduler.stop();
  });

  it('reports tokens that cannot be refreshed when their warning time comes, and never refreshes them', async () => {
    const { time, core, scheduler, expiryDue } = setup();
    core.add('tick', 20 * 24 * HOUR, { refreshable: false, lifetimeMs: 180 * 24 * HOUR });
    await scheduler.replan();
    await time.advance(5 * 24 * HOUR);
    expect(expiryDue).toEqual([]);
    await time.advance(2 * 24 * HOUR);
    expect(expiryDue).toContain('tick');
    expect(core.refreshes).toEqual([]);
    scheduler.stop();
  });

  it('forgets disconnected accounts and does nothing once stopped', async () => {
    const { time, core, scheduler } = setup();
    core.add('a', 20 * MIN);
    core.add('b', 20 * MIN);
    await scheduler.replan();
    core.accounts.delete('b');
    await scheduler.replan();
    expect([...scheduler.planned().keys()]).toEqual(['a']);
    scheduler.stop();
    await time.advance(HOUR);
    expect(core.refreshes).toEqual([]);
  });
});
