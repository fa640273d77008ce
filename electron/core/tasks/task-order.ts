// The order the tasks view shows: groups by due date relative to the user's
// today, then due time, priority, title and id inside a group. Moved here from
// the renderer so the core sorts once per list instead of the UI thread sorting
// on every change.
import type { Task } from '../../shared/models';
import { DUE_GROUPS, type DueGroup } from '../../shared/task-view-contract';

/** Whole calendar days from one YYYY-MM-DD to another. */
function dayDiff(from: string, to: string): number {
  const ymd = (day: string): [number, number, number] => {
    const [y = 1970, m = 1, d = 1] = day.split('-').map(Number);
    return [y, m - 1, d];
  };
  return Math.round((Date.UTC(...ymd(to)) - Date.UTC(...ymd(from))) / 86_400_000);
}

export function dueGroup(task: Task, today: string): DueGroup {
  if (!task.due) return 'none';
  const days = dayDiff(today, task.due.date);
  if (days < 0) return task.status === 'done' ? 'today' : 'overdue';
  if (days === 0) return 'today';
  if (days === 1) return 'tomorrow';
  if (days <= 7) return 'week';
  return 'later';
}

function dueKey(task: Task): string {
  if (!task.due) return '9999-12-31';
  return task.due.dateTime ?? `${task.due.date}T99`;
}

/**
 * Lower-cased searchable fields joined by a character no needle can hold, so a
 * match never spans two fields: the same answers as testing each field alone.
 */
export const FIELD_SEPARATOR = '\u0000';
export function searchText(task: Task): string {
  return [task.title, task.project ?? '', task.workspace ?? '', ...task.assignees].join(FIELD_SEPARATOR).toLowerCase();
}

export function normalizeNeedle(query: string): string {
  return query.trim().toLowerCase().replaceAll(FIELD_SEPARATOR, '');
}

// One collator for every comparison: String#localeCompare builds one per call, which made
// sorting 10,000 tasks cost more than everything else the view does.
const collator = new Intl.Collator();
const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export interface ViewOrder {
  /** Task indexes in display order, every status together: filtering keeps this order. */
  order: Uint32Array;
  /** Each task's group index (into DUE_GROUPS), by task index. */
  groupIndex: Uint8Array;
}

/** Sorts a whole list once; every filter and search after that is a scan of this order. */
export function orderTasks(tasks: readonly Task[], today: string): ViewOrder {
  const groupIndex = new Uint8Array(tasks.length);
  // Many tasks share a due day; the day arithmetic runs once per distinct day and status.
  const groupOfDay = new Map<string, number>();
  const titleRank = new Map<string, number>();
  tasks.forEach((task, i) => {
    const dayKey = task.due ? `${task.due.date}|${task.status}` : '';
    let group = groupOfDay.get(dayKey);
    if (group === undefined) {
      group = DUE_GROUPS.indexOf(dueGroup(task, today));
      groupOfDay.set(dayKey, group);
    }
    groupIndex[i] = group;
    titleRank.set(task.title, 0);
  });
  // Titles repeat (recurring tasks, templates): collate each distinct title once, then sort by rank.
  [...titleRank.keys()].sort(collator.compare).forEach((title, rank) => titleRank.set(title, rank));
  // Keys computed once per task, not once per comparison; ISO dates and ids order by code unit.
  const keys = tasks.map((task) => ({ due: dueKey(task), title: titleRank.get(task.title) ?? 0 }));
  const order = Uint32Array.from(tasks.keys());
  order.sort((ia, ib) => {
    const a = tasks[ia]!;
    const b = tasks[ib]!;
    const ka = keys[ia]!;
    const kb = keys[ib]!;
    return (
      groupIndex[ia]! - groupIndex[ib]! ||
      byCodeUnit(ka.due, kb.due) ||
      b.priority.level - a.priority.level ||
      ka.title - kb.title ||
      byCodeUnit(a.id, b.id)
    );
  });
  return { order, groupIndex };
}
