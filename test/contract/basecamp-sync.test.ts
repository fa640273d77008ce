// Basecamp's incremental sync is conditional requests (bc3-api README, "Using HTTP caching") on the
// latest-changed to-dos (sections/recordings.md) and, without that feed, on every list page: an
// unchanged account costs a body-less 304, changes cost a page or two, and what the user sees
// equals a full walk's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byId, comparable } from '../support/sync-targets';
import { startBasecampTarget } from '../support/sync-target-basecamp';
import type { Clock } from '../support/sync-target-emulators';

const clock: Clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };
const TODO_PAGES = 'GET /buckets/:id/todolists/:id/todos.json';

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

  it('changes come from the latest-to-dos feed without reading a list; a trashed to-do goes with the full walk', async () => {
    const ids = target.emu.mutate.taskIds();
    target.emu.mutate.update(ids[0]!, { title: 'Renamed by the user', due: '2026-12-24' });
    target.emu.mutate.complete(ids[1]!);
    const created = target.emu.mutate.create(target.emu.mutate.containers()[2]!, { title: 'Brand new', due: null });
    target.emu.mutate.delete(ids[3]!);
    target.emu.mutate.move(ids[4]!, target.emu.mutate.destinations(ids[4]!).at(-1)!);
    const before = { requests: target.emu.stats.apiRequests, lists: target.emu.endpoints.get(TODO_PAGES) };

    const synced = await syncedTasks();
    expect(synced.syncMode).toBe('incremental');
    // authorization.json and each account's feed pages down to the first older change (3 to-dos a
    // page here): no to-do list page at all.
    expect(target.emu.stats.apiRequests - before.requests).toBeLessThanOrEqual(1 + 2 * 3);
    expect(target.emu.endpoints.get(TODO_PAGES)).toBe(before.lists);
    const shown = byId(synced.tasks).map(comparable);
    const full = await fullTasks();
    // The feed names no trashed to-do: until the daily walk it is the one difference.
    expect(shown.filter((t) => t.id !== ids[3])).toEqual(full);
    expect(shown.find((t) => t.id === ids[0])).toMatchObject({
      title: 'Renamed by the user',
      due: { date: '2026-12-24' },
    });
    expect(shown.find((t) => t.id === ids[1])).toMatchObject({ status: 'done' });
    expect(shown.map((t) => t.id)).toContain(created);

    const everything = await target.synced.t.core.tasks(target.synced.accountId, { full: true });
    expect(everything.syncMode).toBe('full');
    expect(byId(everything.tasks).map(comparable)).toEqual(await fullTasks());
  });

  it('without the feed, every list page is asked with its validators: a changed one is read, a hidden one dropped', async () => {
    const ids = target.emu.mutate.taskIds();
    target.emu.mutate.update(ids[5]!, { title: 'Edited while the feed is away' });
    const hidden = target.emu.hideList(target.emu.accountsOf('jason')[0]!.id, 0, 1);
    target.emu.inject({ path: /\/projects\/recordings\.json$/, status: 404, json: { error: 'Not Found' }, times: 2 });
    const before = { requests: target.emu.stats.apiRequests, notModified: target.emu.stats.notModified };

    const synced = await syncedTasks();
    expect(synced.syncMode).toBe('incremental');
    const requests = target.emu.stats.apiRequests - before.requests;
    const notModified = target.emu.stats.notModified - before.notModified;
    expect(notModified).toBeGreaterThan(requests / 2);
    const shownIds = synced.tasks.map((t) => t.id);
    for (const id of hidden.todoIds) expect(shownIds).not.toContain(String(id));
    expect(synced.tasks.find((t) => t.id === ids[5])?.title).toBe('Edited while the feed is away');
    expect(byId(synced.tasks).map(comparable)).toEqual(await fullTasks());
  });
});
