// Turns a flat task list into the rows the virtualized list draws: group
// headers by due date, then tasks. Pure and fast enough for 10,000 tasks per keystroke.
import type { Task } from '../../electron/shared/models';
import { dayDiff } from './time';

export type DueGroup = 'overdue' | 'today' | 'tomorrow' | 'week' | 'later' | 'none';
export const DUE_GROUPS: readonly DueGroup[] = ['overdue', 'today', 'tomorrow', 'week', 'later', 'none'];

export type StatusFilter = 'open' | 'done' | 'all';

export type TaskRow =
  { kind: 'header'; group: DueGroup; count: number } | { kind: 'task'; task: Task; group: DueGroup };

export interface TaskFilter {
  query: string;
  status: StatusFilter;
  /** Today in the user's calendar, YYYY-MM-DD. */
  today: string;
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

export function matchesQuery(task: Task, needle: string): boolean {
  if (needle === '') return true;
  if (task.title.toLowerCase().includes(needle)) return true;
  if (task.project?.toLowerCase().includes(needle)) return true;
  if (task.workspace?.toLowerCase().includes(needle)) return true;
  return task.assignees.some((a) => a.toLowerCase().includes(needle));
}

export function buildTaskRows(tasks: readonly Task[], filter: TaskFilter): { rows: TaskRow[]; matched: number } {
  const needle = filter.query.trim().toLowerCase();
  const buckets = new Map<DueGroup, Task[]>(DUE_GROUPS.map((g) => [g, []]));
  let matched = 0;
  for (const task of tasks) {
    if (filter.status !== 'all' && task.status !== filter.status) continue;
    if (!matchesQuery(task, needle)) continue;
    buckets.get(dueGroup(task, filter.today))?.push(task);
    matched += 1;
  }
  const rows: TaskRow[] = [];
  for (const group of DUE_GROUPS) {
    const list = buckets.get(group) ?? [];
    if (list.length === 0) continue;
    list.sort(
      (a, b) =>
        dueKey(a).localeCompare(dueKey(b)) ||
        b.priority.level - a.priority.level ||
        a.title.localeCompare(b.title) ||
        a.id.localeCompare(b.id),
    );
    rows.push({ kind: 'header', group, count: list.length });
    for (const task of list) rows.push({ kind: 'task', task, group });
  }
  return { rows, matched };
}
