// Where the tasks view's list lives. The renderer holds a few windows of rows;
// this keeps every open view's whole list, sorts it once per calendar day,
// filters and searches it, and answers windows of rows (group headers
// included) with the totals the scroll bar needs. A search that a newer one
// overtakes stops at its next chunk and answers `stale`.
import { randomUUID } from 'node:crypto';
import type { Task, TaskList } from '../../shared/models';
import {
  DUE_GROUPS,
  MAX_WINDOW_ROWS,
  type StatusFilter,
  type TaskViewGroup,
  type TaskViewRow,
  type TaskWindow,
} from '../../shared/task-view-contract';
import { TokentrayError } from '../errors';
import { normalizeNeedle, orderTasks, searchText, type ViewOrder } from './task-order';

export interface WindowRequest {
  query: string;
  status: StatusFilter;
  today: string;
  seq: number;
  offset: number;
  count: number;
}

export interface TaskViewStoreOptions {
  /** Views kept at once; opening one more forgets the least recently used. */
  maxViews?: number;
  /** Tasks scanned between two looks at whether a newer query has arrived. */
  chunkSize?: number;
  /** Lets other requests (a newer keystroke) in between chunks. */
  yieldToEventLoop?: () => Promise<void>;
  newId?: () => string;
}

interface Filtered {
  today: string;
  status: StatusFilter;
  needle: string;
  /** Task indexes that match, in display order. */
  indices: Uint32Array;
  groups: TaskViewGroup[];
  total: number;
}

/** What a list costs to prepare, kept with the list so the next view over it starts ready. */
interface Prepared {
  order: { today: string; value: ViewOrder } | null;
  /** Lower-cased search text per task index, built the first time a search needs it. */
  haystack: Array<string | undefined>;
}

interface View {
  id: string;
  tasks: readonly Task[];
  prepared: Prepared;
  last: Filtered | null;
  latestSeq: number;
}

const yieldWithSetImmediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class TaskViewStore {
  private readonly views = new Map<string, View>();
  /**
   * By list: the task cache hands out the same array until the list changes, so opening
   * the tasks view again (cached first, then live) sorts nothing.
   */
  private readonly prepared = new WeakMap<readonly Task[], Prepared>();
  private readonly maxViews: number;
  private readonly chunkSize: number;
  private readonly yieldToEventLoop: () => Promise<void>;
  private readonly newId: () => string;

  constructor(options: TaskViewStoreOptions = {}) {
    this.maxViews = options.maxViews ?? 8;
    this.chunkSize = options.chunkSize ?? 8192;
    this.yieldToEventLoop = options.yieldToEventLoop ?? yieldWithSetImmediate;
    this.newId = options.newId ?? randomUUID;
  }

  /** Opens a view over the lists (not copied when there is one); returns its id. */
  open(lists: readonly TaskList[]): string {
    const id = this.newId();
    const tasks = lists.length === 1 ? lists[0]!.tasks : lists.flatMap((l) => l.tasks);
    let prepared = this.prepared.get(tasks);
    if (!prepared) {
      prepared = { order: null, haystack: [] };
      this.prepared.set(tasks, prepared);
    }
    this.views.set(id, { id, tasks, prepared, last: null, latestSeq: -1 });
    while (this.views.size > this.maxViews) {
      const oldest = this.views.keys().next().value;
      if (oldest === undefined) break;
      this.views.delete(oldest);
    }
    return id;
  }

  close(viewId: string): boolean {
    return this.views.delete(viewId);
  }

  clear(): void {
    this.views.clear();
  }

  get size(): number {
    return this.views.size;
  }

  async window(viewId: string, request: WindowRequest): Promise<TaskWindow> {
    const view = this.views.get(viewId);
    if (!view) {
      throw new TokentrayError('NOT_FOUND', 'That task list is no longer open; reload the tasks view.');
    }
    // Most recently used last, so the oldest view is the one forgotten.
    this.views.delete(viewId);
    this.views.set(viewId, view);
    const stale: TaskWindow = { stale: true, viewId, seq: request.seq };
    if (request.seq < view.latestSeq) return stale;
    view.latestSeq = request.seq;
    const filtered = await this.filter(view, request);
    if (filtered === null || view.latestSeq !== request.seq) return stale;
    return {
      stale: false,
      viewId,
      seq: request.seq,
      total: filtered.total,
      matched: filtered.indices.length,
      unfiltered: view.tasks.length,
      groups: filtered.groups,
      offset: request.offset,
      rows: this.rows(view, filtered, request.offset, Math.min(request.count, MAX_WINDOW_ROWS)),
    };
  }

  private orderFor(view: View, today: string): ViewOrder {
    const p = view.prepared;
    if (p.order?.today !== today) p.order = { today, value: orderTasks(view.tasks, today) };
    return p.order.value;
  }

  /**
   * Builds the search text of a view's list in chunks between requests, so the first
   * keystroke does not pay for lower-casing 100,000 tasks.
   */
  async warmSearch(viewId: string): Promise<void> {
    const view = this.views.get(viewId);
    if (!view) return;
    const { tasks, prepared } = view;
    for (let from = 0; from < tasks.length; from += this.chunkSize) {
      await this.yieldToEventLoop();
      if (!this.views.has(viewId)) return;
      const to = Math.min(tasks.length, from + this.chunkSize);
      for (let i = from; i < to; i += 1) prepared.haystack[i] ??= searchText(tasks[i]!);
    }
  }

  /** The matching tasks for a query, or null when a newer query overtook this one mid-scan. */
  private async filter(view: View, request: WindowRequest): Promise<Filtered | null> {
    const { today, status, seq } = request;
    const needle = normalizeNeedle(request.query);
    const last = view.last;
    if (last && last.today === today && last.status === status && last.needle === needle) return last;
    const { order, groupIndex } = this.orderFor(view, today);
    let indices: Uint32Array;
    if (needle === '' && status === 'all') {
      indices = order;
    } else {
      // Typing one more letter only narrows the previous answer: scan that, not the whole list.
      const refines = last !== null && last.today === today && last.status === status && needle.includes(last.needle);
      const candidates = refines ? last.indices : order;
      const out = new Uint32Array(candidates.length);
      let found = 0;
      const { tasks } = view;
      const { haystack } = view.prepared;
      for (let from = 0; from < candidates.length; from += this.chunkSize) {
        if (from > 0) {
          await this.yieldToEventLoop();
          if (view.latestSeq !== seq) return null;
        }
        const to = Math.min(candidates.length, from + this.chunkSize);
        for (let i = from; i < to; i += 1) {
          const index = candidates[i]!;
          const task = tasks[index]!;
          if (status !== 'all' && task.status !== status) continue;
          if (needle !== '') {
            let text = haystack[index];
            if (text === undefined) {
              text = searchText(task);
              haystack[index] = text;
            }
            if (!text.includes(needle)) continue;
          }
          out[found++] = index;
        }
      }
      indices = out.subarray(0, found);
    }
    const groups: TaskViewGroup[] = [];
    let row = 0;
    for (let i = 0; i < indices.length;) {
      const g = groupIndex[indices[i]!]!;
      let end = i;
      while (end < indices.length && groupIndex[indices[end]!] === g) end += 1;
      groups.push({ group: DUE_GROUPS[g]!, count: end - i, start: row });
      row += 1 + (end - i);
      i = end;
    }
    const filtered: Filtered = { today, status, needle, indices, groups, total: row };
    view.last = filtered;
    return filtered;
  }

  private rows(view: View, filtered: Filtered, offset: number, count: number): TaskViewRow[] {
    const rows: TaskViewRow[] = [];
    const end = Math.min(filtered.total, offset + count);
    let tasksBefore = 0;
    for (const group of filtered.groups) {
      const groupEnd = group.start + 1 + group.count;
      for (let r = Math.max(offset, group.start); r < Math.min(end, groupEnd); r += 1) {
        if (r === group.start) {
          rows.push({ kind: 'header', group: group.group, count: group.count });
        } else {
          const position = tasksBefore + (r - group.start - 1);
          rows.push({
            kind: 'task',
            group: group.group,
            position: position + 1,
            task: view.tasks[filtered.indices[position]!]!,
          });
        }
      }
      tasksBefore += group.count;
    }
    return rows;
  }
}
