import { describe, expect, it } from 'vitest';
import { startBackgroundSync } from '../../electron/core/tasks/background-sync';
import type { SyncSummary } from '../../electron/core/service-api';
import type { AccountSummary } from '../../electron/shared/models';

const account = (id: string, status: AccountSummary['status'] = 'ok'): AccountSummary =>
  ({ id, status }) as AccountSummary;

describe('background task sync (the tray)', () => {
  it('syncs the accounts one at a time each round, skips those awaiting a new consent, and survives a failure', async () => {
    const timers: Array<() => void> = [];
    const order: string[] = [];
    let inFlight = 0;
    let most = 0;
    const sync = startBackgroundSync({
      listAccounts: async () => [account('a'), account('b', 'reconnect'), account('c'), account('d')],
      sync: async (id) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight -= 1;
        order.push(id);
        if (id === 'c') throw new Error('offline');
        return { accountId: id } as SyncSummary;
      },
      setTimeout: (callback) => timers.push(callback),
      clearTimeout: () => undefined,
    });
    expect(order).toEqual([]);
    await sync.runNow();
    expect(order).toEqual(['a', 'c', 'd']);
    expect(most).toBe(1);
    // The scheduled round runs and plans the next one.
    timers.shift()!();
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual(['a', 'c', 'd', 'a', 'c', 'd']);
    expect(timers).toHaveLength(1);
    sync.stop();
    await sync.runNow();
    expect(order).toHaveLength(6);
  });
});
