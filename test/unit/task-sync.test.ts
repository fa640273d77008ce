import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskCache } from '../../electron/core/tasks/task-cache';
import { FULL_WALK_EVERY_MS, syncTasks, type SyncRequest } from '../../electron/core/tasks/task-sync';
import type { HttpClient } from '../../electron/core/http/client';
import type { AccountContext, ProviderDefinition } from '../../electron/core/providers/types';
import type { SkippedSource, Task } from '../../electron/shared/models';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function task(id: string, title: string, updated: number): Task {
  return {
    id,
    accountId: 'acc',
    provider: 'fake',
    title,
    status: 'open',
    due: null,
    priority: { level: 0, original: null },
    project: null,
    workspace: 'W',
    assignees: [],
    url: null,
    updatedAt: new Date(updated).toISOString(),
  };
}

/** A provider over an in-memory account: a change feed by update counter that, like the real ones, names no deletion. */
function fakeProvider() {
  const server = new Map<string, { task: Task; version: number }>();
  let version = 0;
  const calls = { full: 0, incremental: 0 };
  let failNextSync = false;
  let skip: SkippedSource | null = null;
  const provider: Pick<ProviderDefinition, 'fetchTasks' | 'syncTasks'> = {
    async *fetchTasks(_http, _ctx, _progress, onSkip, onCursor) {
      calls.full += 1;
      if (skip) onSkip?.(skip);
      const all = [...server.values()];
      for (let i = 0; i < all.length; i += 2) yield all.slice(i, i + 2).map((e) => e.task);
      onCursor?.('fake:version', String(version));
    },
    async syncTasks(_http, _ctx, base, onSkip) {
      calls.incremental += 1;
      if (failNextSync) {
        failNextSync = false;
        throw new Error('the provider went away mid-sync');
      }
      if (skip) onSkip?.(skip);
      const since = Number(base.cursors['fake:version']);
      const upserts = [...server.values()].filter((e) => e.version > since).map((e) => e.task);
      return { upserts, deletes: [], cursors: { 'fake:version': String(version) }, complete: true };
    },
  };
  return {
    provider,
    calls,
    put(t: Task) {
      version += 1;
      server.set(t.id, { task: t, version });
    },
    remove(id: string) {
      server.delete(id);
    },
    failNextSync() {
      failNextSync = true;
    },
    skip(s: SkippedSource | null) {
      skip = s;
    },
    ids: () => [...server.keys()].sort(),
  };
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'tokentray-sync-'));
  dirs.push(dir);
  const cache = new TaskCache(dir);
  const fake = fakeProvider();
  let now = Date.UTC(2026, 11, 4, 12);
  const request = (extra: Partial<SyncRequest> = {}): SyncRequest => ({
    accountId: 'acc',
    provider: fake.provider,
    http: {} as HttpClient,
    ctx: {} as AccountContext,
    cache,
    now: () => now,
    ...extra,
  });
  return {
    dir,
    cache,
    fake,
    request,
    advance(ms: number) {
      now += ms;
    },
  };
}

describe('incremental task sync', () => {
  it('walks once, then asks only for what changed, and keeps the list equal to what the provider holds', async () => {
    const s = setup();
    for (let i = 0; i < 5; i += 1) s.fake.put(task(`t${i}`, `task ${i}`, i));
    const first = await syncTasks(s.request());
    expect(first.mode).toBe('full');
    expect(first.count).toBe(5);

    s.advance(60_000);
    s.fake.put(task('t2', 'renamed', 100));
    s.fake.put(task('t9', 'new', 101));
    const second = await syncTasks(s.request());
    expect(second.mode).toBe('incremental');
    expect(second.received).toBe(2);
    expect(second.count).toBe(6);
    const list = await new TaskCache(s.dir).read('acc');
    expect(list?.tasks.map((t) => t.id).sort()).toEqual(s.fake.ids());
    expect(list?.tasks.find((t) => t.id === 't2')?.title).toBe('renamed');
    expect(list?.state.mode).toBe('incremental');
    expect(s.fake.calls).toEqual({ full: 1, incremental: 1 });
  });

  it('notices a deletion with the daily full walk, and at once when asked to refresh everything', async () => {
    const s = setup();
    for (let i = 0; i < 3; i += 1) s.fake.put(task(`t${i}`, `task ${i}`, i));
    await syncTasks(s.request());
    s.fake.remove('t1');
    s.advance(60_000);
    expect((await syncTasks(s.request())).count).toBe(3);
    // "Refresh everything".
    const full = await syncTasks(s.request({ full: true }));
    expect(full.mode).toBe('full');
    expect((await s.cache.read('acc'))?.tasks.map((t) => t.id)).toEqual(['t0', 't2']);

    s.fake.remove('t2');
    s.advance(FULL_WALK_EVERY_MS - 60_000);
    expect((await syncTasks(s.request())).mode).toBe('incremental');
    s.advance(60_000);
    const daily = await syncTasks(s.request());
    expect(daily.mode).toBe('full');
    expect((await s.cache.read('acc'))?.tasks.map((t) => t.id)).toEqual(['t0']);
  });

  it('leaves the previous complete list and its cursors when a sync fails midway', async () => {
    const s = setup();
    s.fake.put(task('a', 'first', 1));
    await syncTasks(s.request());
    const before = readFileSync(join(s.dir, 'tasks-acc.json'), 'utf8');
    s.fake.put(task('a', 'changed', 2));
    s.fake.failNextSync();
    await expect(syncTasks(s.request())).rejects.toThrow('went away');
    expect(readFileSync(join(s.dir, 'tasks-acc.json'), 'utf8')).toBe(before);
    expect(readdirSync(s.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // The next sync starts from the same cursor and so still sees the change.
    await syncTasks(s.request());
    expect((await s.cache.read('acc'))?.tasks.map((t) => t.title)).toEqual(['changed']);
  });

  it('reports a skipped workspace in an incremental sync too', async () => {
    const s = setup();
    s.fake.put(task('a', 'first', 1));
    await syncTasks(s.request());
    const skipped: SkippedSource = {
      kind: 'workspace',
      workspace: 'Other',
      name: 'Other',
      reason: 'not_authorized',
      message: 'Other is skipped.',
    };
    s.fake.skip(skipped);
    const seen: SkippedSource[] = [];
    const outcome = await syncTasks(s.request({ onSkip: (x) => seen.push(x) }));
    expect(outcome.mode).toBe('incremental');
    expect(outcome.skipped).toEqual([skipped]);
    expect(seen).toEqual([skipped]);
  });

  it('walks in full when the saved list predates the sync (no cursors) or the provider has no feed', async () => {
    const s = setup();
    s.fake.put(task('a', 'first', 1));
    await s.cache.write('acc', [task('a', 'old', 0)], 1000, { fullWalkAt: null, mode: 'full', cursors: {} });
    expect((await syncTasks(s.request())).mode).toBe('full');
    const { syncTasks: _feed, ...walkOnly } = s.fake.provider;
    expect((await syncTasks(s.request({ provider: walkOnly }))).mode).toBe('full');
    expect(s.fake.calls.incremental).toBe(0);
  });
});

describe('the sync base on disk', () => {
  it('merges changes into a list this process holds and into one another process wrote, the same way', async () => {
    const s = setup();
    const tasks = [task('1', 'one', 1), task('2', 'two', 2), task('3', 'three', 3)];
    await s.cache.write('acc', tasks, 1000);
    const held = await s.cache.read('acc');
    const state = { fetchedAt: 2000, fullWalkAt: 1000, mode: 'incremental' as const, cursors: { k: 'v' } };
    const count = await s.cache.merge(
      'acc',
      { upserts: [task('2', 'TWO', 5), task('4', 'four', 6)], deletes: ['1'] },
      state,
    );
    expect(count).toBe(3);
    const patched = await s.cache.read('acc');
    const fromDisk = await new TaskCache(s.dir).read('acc');
    expect(patched?.tasks).toEqual(fromDisk?.tasks);
    expect(fromDisk?.tasks.map((t) => t.title)).toEqual(['TWO', 'three', 'four']);
    expect(fromDisk?.state).toEqual(state);
    // The list handed out before is not changed under its holder.
    expect(held?.tasks.map((t) => t.title)).toEqual(['one', 'two', 'three']);
  });
});
