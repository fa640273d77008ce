// Basecamp's incremental sync is conditional requests (bc3-api README, "Using HTTP caching"): an
// unchanged account costs a 304 per page and no body, a changed list is read again, and what the
// user sees equals a full walk's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byId, comparable } from '../support/sync-targets';
import { startBasecampTarget } from '../support/sync-target-basecamp';
import type { Clock } from '../support/sync-target-emulators';

const clock: Clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };

describe('Basecamp incremental sync against the emulator', () => {
  let target: Awaited<ReturnType<typeof startBasecampTarget>>;
  beforeAll(async () => {
    target = await startBasecampTarget(clock);
  });
  afterAll(async () => {
    await target.close();
  });

  const syncedTasks = () => target.synced.t.core.tasks(target.synced.accountId);
  const fullTasks = async () =>
    byId((await target.reference.t.core.tasks(target.reference.accountId, { full: true })).tasks).map(comparable);

  it('an unchanged account costs authorization.json and one 304 per Basecamp account, and keeps every to-do', async () => {
    const walked = await target.synced.t.core.tasks(target.synced.accountId, { full: true });
    expect(walked.syncMode).toBe('full');
    const walkRequests = target.emu.stats.apiRequests;
    const before = { notModified: target.emu.stats.notModified, requests: walkRequests };

    const synced = await syncedTasks();
    expect(synced.syncMode).toBe('incremental');
    const requests = target.emu.stats.apiRequests - before.requests;
    const notModified = target.emu.stats.notModified - before.notModified;
    // authorization.json is the one request answered whole; each Basecamp account's latest-to-dos
    // page answers 304, so none of its list pages is asked for at all.
    expect(notModified).toBe(requests - 1);
    expect(requests).toBe(1 + target.emu.accountsOf('jason').length);
    expect(target.emu.stats.conditionalRequests).toBeGreaterThan(0);
    expect(byId(synced.tasks).map(comparable)).toEqual(byId(walked.tasks).map(comparable));
  });

  it('a changed list is read again and the result equals a full walk: edit, complete, create, trash, move', async () => {
    const ids = target.emu.mutate.taskIds();
    target.emu.mutate.update(ids[0]!, { title: 'Renamed by the user', due: '2026-12-24' });
    target.emu.mutate.complete(ids[1]!);
    const created = target.emu.mutate.create(target.emu.mutate.containers()[2]!, { title: 'Brand new', due: null });
    target.emu.mutate.delete(ids[3]!);
    target.emu.mutate.move(ids[4]!, target.emu.mutate.destinations(ids[4]!).at(-1)!);
    const before = { notModified: target.emu.stats.notModified, requests: target.emu.stats.apiRequests };

    const synced = await syncedTasks();
    expect(synced.syncMode).toBe('incremental');
    // The changed account's pages are asked for with their validators: the unchanged ones are 304s.
    const whole = target.emu.stats.apiRequests - before.requests - (target.emu.stats.notModified - before.notModified);
    expect(whole).toBeGreaterThan(1);
    expect(whole).toBeLessThan(target.emu.stats.apiRequests - before.requests);
    expect(target.emu.endpoints.get('GET /buckets/:id/todolists/:id/todos.json')).toBeGreaterThan(0);
    const shown = byId(synced.tasks).map(comparable);
    expect(shown).toEqual(await fullTasks());
    expect(shown.find((t) => t.id === ids[0])).toMatchObject({
      title: 'Renamed by the user',
      due: { date: '2026-12-24' },
    });
    expect(shown.find((t) => t.id === ids[1])).toMatchObject({ status: 'done' });
    expect(shown.map((t) => t.id)).toContain(created);
    expect(shown.map((t) => t.id)).not.toContain(ids[3]);
  });

  it('a list hidden from the login drops its to-dos at the next sync, as a full walk does', async () => {
    const hidden = target.emu.hideList(target.emu.accountsOf('jason')[0]!.id, 0, 1);
    const synced = await syncedTasks();
    expect(synced.syncMode).toBe('incremental');
    const shownIds = synced.tasks.map((t) => t.id);
    for (const id of hidden.todoIds) expect(shownIds).not.toContain(String(id));
    expect(byId(synced.tasks).map(comparable)).toEqual(await fullTasks());
  });
});
