import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TaskCache } from '../../electron/core/tasks/task-cache';
import type { Task } from '../../electron/shared/models';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function task(id: string, title: string): Task {
  return {
    id,
    accountId: 'acc',
    provider: 'demo',
    title,
    status: 'open',
    due: null,
    priority: { level: 0, original: null },
    project: null,
    workspace: null,
    assignees: [],
    url: null,
    updatedAt: null,
  };
}

describe('offline task cache', () => {
  it('serves what another process wrote after this one read the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokentray-cache-'));
    dirs.push(dir);
    const app = new TaskCache(dir);
    await app.write('acc', [task('1', 'first')], 1000);
    expect((await app.read('acc'))?.tasks.map((t) => t.title)).toEqual(['first']);

    // The CLI (another process, another TaskCache) refreshes the cache file.
    await new TaskCache(dir).write('acc', [task('1', 'first'), task('2', 'second')], 2000);
    const seen = await app.read('acc');
    expect(seen?.fetchedAt).toBe(2000);
    expect(seen?.tasks.map((t) => t.title)).toEqual(['first', 'second']);
  });

  it('treats a damaged or foreign file as no cache, and a deleted one as gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokentray-cache-'));
    dirs.push(dir);
    const cache = new TaskCache(dir);
    await cache.write('acc', [task('1', 'first')], 1000);
    writeFileSync(join(dir, 'tasks-acc.json'), '{"version":1,"accountId":"acc","fetchedAt":1,"tasks":[{"id":1}]}');
    expect(await cache.read('acc')).toBeNull();
    await cache.write('acc', [task('1', 'first')], 1000);
    await cache.delete('acc');
    expect(await cache.read('acc')).toBeNull();
  });
});
