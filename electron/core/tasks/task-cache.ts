/**
 * The offline task list per account, and the base the incremental sync (task-sync.ts) works from.
 *
 * One file per account, `tasks-<id>.json`, in JSON Lines: a header line, then one task per line.
 *
 *   {"version":2,"accountId":…,"fetchedAt":…,"fullWalkAt":…,"mode":"full"|"incremental","cursors":{…}}
 *   {"id":"…",…task…}
 *   …
 *
 * - `fetchedAt`: when the list was last brought up to date with the provider (a full walk or an
 *   incremental sync); `fullWalkAt`: when the last full walk ended, the one that also notices
 *   deletions and moves (the feeds report neither; task-sync.ts repeats it at most daily).
 * - `cursors`: what each resource needs to ask "what changed since?", opaque to everything but its
 *   provider (ClickUp: the highest `date_updated` seen per workspace; amoCRM: the highest
 *   `updated_at` and the `Last-Modified` to send as `If-Modified-Since`; Basecamp: each list page's
 *   `ETag`/`Last-Modified`; TickTick: none, it has no change feed).
 *
 * Why lines and not one JSON document, and not an embedded database: a sync changes a handful of
 * tasks, and its memory must not grow with the account (the bench holds 100,000 tasks to ≤ 1.5× the
 * peak of 10,000). `merge` streams the old file into a new one a line at a time, replacing the
 * changed tasks by id and appending the new ones, so it holds only the changes; reading the header
 * alone (`state`) costs one small read. An embedded database would add a native module for an access
 * pattern of "whole list for the view, a few rows per sync" that a streamed rewrite serves.
 *
 * Atomic: every write goes to a temporary file that is fsynced and renamed over the old one, and only
 * after the provider's answers were all in (task-sync.ts), so a crash mid-sync leaves the previous
 * complete list and its cursors, never a list newer than its cursors or the other way round.
 *
 * Version 1 files (one JSON document, no cursors) are still read; they make the next sync a full walk.
 * Tasks hold no secrets, so a plain file is fine.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { taskSchema, type Task } from '../../shared/models';
import { CORRUPT, readJsonFile, writeAtomic } from '../vault/atomic-file';
import { assertSafeId } from '../vault/metadata';

const v1Schema = z.object({
  version: z.literal(1),
  accountId: z.string(),
  fetchedAt: z.number(),
  tasks: z.array(taskSchema),
});

const headerSchema = z.object({
  version: z.literal(2),
  accountId: z.string(),
  fetchedAt: z.number(),
  fullWalkAt: z.number().nullable(),
  mode: z.enum(['full', 'incremental']),
  cursors: z.record(z.string(), z.string()),
});

/** What the sync knows about an account's list besides its tasks. */
export interface SyncState {
  fetchedAt: number;
  /** null for a list saved before the sync existed (version 1): the next sync walks everything. */
  fullWalkAt: number | null;
  mode: 'full' | 'incremental';
  cursors: Record<string, string>;
}

export interface CachedList {
  fetchedAt: number;
  tasks: Task[];
  state: SyncState;
}

/** A task line starts with its id (JSON.stringify keeps the schema's key order): read it without parsing the line. */
const ID_PREFIX = /^\{"id":("(?:[^"\\]|\\.)*")/;

function idOfLine(line: string): string | null {
  const match = ID_PREFIX.exec(line);
  try {
    if (match) return JSON.parse(match[1]!) as string;
    const parsed = JSON.parse(line) as { id?: unknown };
    return typeof parsed.id === 'string' ? parsed.id : null;
  } catch {
    return null;
  }
}

function headerLine(accountId: string, state: SyncState): string {
  return JSON.stringify({ version: 2, accountId, ...state });
}

/**
 * Lines written to a temporary file, fsynced, renamed over `path`, the folder fsynced: a reader sees
 * the old file or the new one. The lines come from an iterator so a large list is never one string.
 */
async function writeLinesAtomic(path: string, lines: AsyncIterable<string> | Iterable<string>): Promise<void> {
  await writeAtomic(path, async (handle) => {
    let chunk: string[] = [];
    let size = 0;
    for await (const line of lines) {
      chunk.push(line, '\n');
      size += line.length + 1;
      if (size > 1 << 20) {
        await handle.write(chunk.join(''));
        chunk = [];
        size = 0;
      }
    }
    if (chunk.length > 0) await handle.write(chunk.join(''));
  });
}

/** The last good task list per account, for offline use and as the incremental sync's base. */
export class TaskCache {
  /**
   * The list this process last read or wrote per account, with the file's identity then.
   * Reading and validating 10,000 cached tasks costs ~100 ms; the tasks view asks for the
   * cache every time it opens, right after this process wrote it. Another process (the CLI)
   * writing the file changes its mtime or size, which sends the next read to disk again.
   */
  private readonly recent = new Map<string, { stamp: string; value: CachedList }>();

  constructor(private readonly dir: string) {}

  private path(accountId: string): string {
    return join(this.dir, `tasks-${assertSafeId(accountId)}.json`);
  }

  private async stamp(accountId: string): Promise<string | null> {
    const info = await fs.stat(this.path(accountId)).catch(() => null);
    return info ? `${info.mtimeMs}:${info.size}:${info.ino}` : null;
  }

  private async remember(accountId: string, value: CachedList): Promise<void> {
    const stamp = await this.stamp(accountId);
    if (stamp === null) this.recent.delete(accountId);
    else this.recent.set(accountId, { stamp, value });
  }

  /** Whether a list was ever saved for the account, without reading it. */
  async has(accountId: string): Promise<boolean> {
    return (await this.stamp(accountId)) !== null;
  }

  /** The sync state alone (the header line), or null when there is no usable list. */
  async state(accountId: string): Promise<SyncState | null> {
    const stamp = await this.stamp(accountId);
    if (stamp === null) return null;
    const remembered = this.recent.get(accountId);
    if (remembered?.stamp === stamp) return remembered.value.state;
    const first = await this.firstLine(accountId);
    if (first === null) return null;
    if (first.startsWith('{"version":1')) {
      const v1 = await this.read(accountId);
      return v1?.state ?? null;
    }
    try {
      const header = headerSchema.safeParse(JSON.parse(first));
      if (!header.success) return null;
      const { fetchedAt, fullWalkAt, mode, cursors } = header.data;
      return { fetchedAt, fullWalkAt, mode, cursors };
    } catch {
      return null;
    }
  }

  private async firstLine(accountId: string): Promise<string | null> {
    const stream = createReadStream(this.path(accountId), { encoding: 'utf8' });
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    try {
      for await (const line of lines) return line;
      return null;
    } catch {
      return null;
    } finally {
      lines.close();
      stream.destroy();
    }
  }

  async read(accountId: string): Promise<CachedList | null> {
    const stamp = await this.stamp(accountId);
    if (stamp === null) return null;
    const remembered = this.recent.get(accountId);
    if (remembered?.stamp === stamp) return remembered.value;
    const value = await this.readFile(accountId);
    if (value === null) return null;
    this.recent.set(accountId, { stamp, value });
    return value;
  }

  private async readFile(accountId: string): Promise<CachedList | null> {
    const first = await this.firstLine(accountId);
    if (first === null) return null;
    if (first.startsWith('{"version":1')) {
      const raw = await readJsonFile(this.path(accountId)).catch(() => null);
      if (raw === null || raw === CORRUPT) return null;
      const parsed = v1Schema.safeParse(raw);
      if (!parsed.success) return null;
      const { fetchedAt, tasks } = parsed.data;
      return { fetchedAt, tasks, state: { fetchedAt, fullWalkAt: null, mode: 'full', cursors: {} } };
    }
    const text = await fs.readFile(this.path(accountId), 'utf8').catch(() => null);
    if (text === null) return null;
    const lines = text.split('\n');
    try {
      const header = headerSchema.safeParse(JSON.parse(lines[0]!));
      if (!header.success || header.data.accountId !== accountId) return null;
      const tasks: Task[] = [];
      for (let i = 1; i < lines.length; i += 1) {
        if (lines[i] === '') continue;
        const task = taskSchema.safeParse(JSON.parse(lines[i]!));
        if (!task.success) return null;
        tasks.push(task.data);
      }
      const { fetchedAt, fullWalkAt, mode, cursors } = header.data;
      return { fetchedAt, tasks, state: { fetchedAt, fullWalkAt, mode, cursors } };
    } catch {
      return null;
    }
  }

  /** Replaces the whole list (after a full walk). `state` defaults to a full walk ending at `fetchedAt`. */
  async write(
    accountId: string,
    tasks: Task[],
    fetchedAt: number,
    state?: Omit<SyncState, 'fetchedAt'>,
  ): Promise<void> {
    const full: SyncState = { fetchedAt, ...(state ?? { fullWalkAt: fetchedAt, mode: 'full', cursors: {} }) };
    function* lines(): Iterable<string> {
      yield headerLine(accountId, full);
      for (const task of tasks) yield JSON.stringify(task);
    }
    await writeLinesAtomic(this.path(accountId), lines());
    await this.remember(accountId, { fetchedAt, tasks, state: full });
  }

  /**
   * Applies an incremental sync's changes to the saved list: changed tasks replace theirs by id in
   * place, new ones come last, deleted ids go. Streams the file (memory grows with the changes, not
   * the list); a list this process holds is patched in memory instead of being read again.
   * Returns the number of tasks in the new list.
   */
  async merge(
    accountId: string,
    change: { upserts: readonly Task[]; deletes: readonly string[] },
    state: SyncState,
  ): Promise<number> {
    const path = this.path(accountId);
    const stamp = await this.stamp(accountId);
    const remembered = stamp !== null ? this.recent.get(accountId) : undefined;
    const held = remembered?.stamp === stamp ? remembered.value : null;
    const pending = new Map(change.upserts.map((t) => [t.id, t] as const));
    const deleted = new Set(change.deletes);
    let count = 0;
    const first = stamp === null ? null : await this.firstLine(accountId);
    if (first !== null && first.startsWith('{"version":1')) {
      // An old single-document list: read it once, write it as lines.
      const old = await this.read(accountId);
      if (old) {
        const tasks = applyChange(old.tasks, pending, deleted);
        await this.write(accountId, tasks, state.fetchedAt, state);
        return tasks.length;
      }
    }
    const previous = first === null ? null : path;
    async function* lines(): AsyncIterable<string> {
      yield headerLine(accountId, state);
      if (previous !== null) {
        const stream = createReadStream(previous, { encoding: 'utf8' });
        const input = createInterface({ input: stream, crlfDelay: Infinity });
        let header = true;
        try {
          for await (const line of input) {
            if (header) {
              header = false;
              continue;
            }
            if (line === '') continue;
            const id = idOfLine(line);
            if (id !== null && deleted.has(id)) continue;
            const replacement = id === null ? undefined : pending.get(id);
            if (replacement) {
              pending.delete(id!);
              count += 1;
              yield JSON.stringify(replacement);
            } else {
              count += 1;
              yield line;
            }
          }
        } finally {
          input.close();
          stream.destroy();
        }
      }
      for (const task of pending.values()) {
        if (deleted.has(task.id)) continue;
        count += 1;
        yield JSON.stringify(task);
      }
    }
    const remaining = new Map(pending);
    await writeLinesAtomic(path, lines());
    if (held) {
      const tasks = applyChange(held.tasks, remaining, deleted);
      await this.remember(accountId, { fetchedAt: state.fetchedAt, tasks, state });
    } else {
      this.recent.delete(accountId);
    }
    return count;
  }

  /** The saved tasks that match, streamed from the file (or filtered from the list this process holds). */
  async tasksWhere(accountId: string, predicate: (task: Task) => boolean): Promise<Task[]> {
    const stamp = await this.stamp(accountId);
    if (stamp === null) return [];
    const remembered = this.recent.get(accountId);
    if (remembered?.stamp === stamp) return remembered.value.tasks.filter(predicate);
    const first = await this.firstLine(accountId);
    if (first === null) return [];
    if (first.startsWith('{"version":1')) return ((await this.read(accountId))?.tasks ?? []).filter(predicate);
    const out: Task[] = [];
    const stream = createReadStream(this.path(accountId), { encoding: 'utf8' });
    const input = createInterface({ input: stream, crlfDelay: Infinity });
    let header = true;
    try {
      for await (const line of input) {
        if (header || line === '') {
          header = false;
          continue;
        }
        const task = taskSchema.safeParse(JSON.parse(line));
        if (task.success && predicate(task.data)) out.push(task.data);
      }
    } finally {
      input.close();
      stream.destroy();
    }
    return out;
  }

  async delete(accountId: string): Promise<void> {
    this.recent.delete(accountId);
    await fs.rm(this.path(accountId), { force: true });
  }
}

/** The list with `upserts` replacing theirs by id (new ones last) and `deleted` ids gone; the input is not changed. */
export function applyChange(
  tasks: readonly Task[],
  upserts: ReadonlyMap<string, Task>,
  deleted: ReadonlySet<string>,
): Task[] {
  const pending = new Map(upserts);
  const out: Task[] = [];
  for (const task of tasks) {
    if (deleted.has(task.id)) continue;
    const replacement = pending.get(task.id);
    if (replacement) pending.delete(task.id);
    out.push(replacement ?? task);
  }
  for (const task of pending.values()) if (!deleted.has(task.id)) out.push(task);
  return out;
}
