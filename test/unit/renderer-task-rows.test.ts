import { describe, expect, it } from 'vitest';
import type { Task } from '../../electron/shared/models';
import { buildTaskRows, dueGroup } from '../../renderer/lib/task-rows';

let n = 0;
function task(over: Partial<Task> & { date?: string | null }): Task {
  n += 1;
  const { date, ...rest } = over;
  return {
    id: `t${n}`,
    accountId: 'a',
    provider: 'demo',
    title: `Task ${n}`,
    status: 'open',
    due: date ? { date, dateTime: null, timeZone: null } : null,
    priority: { level: 0, original: null },
    project: null,
    workspace: null,
    assignees: [],
    url: null,
    updatedAt: null,
    ...rest,
  };
}

const TODAY = '2025-03-10';

describe('task rows', () => {
  it('groups by calendar day relative to today', () => {
    expect(dueGroup(task({ date: '2025-03-09' }), TODAY)).toBe('overdue');
    expect(dueGroup(task({ date: '2025-03-09', status: 'done' }), TODAY)).toBe('today');
    expect(dueGroup(task({ date: '2025-03-10' }), TODAY)).toBe('today');
    expect(dueGroup(task({ date: '2025-03-11' }), TODAY)).toBe('tomorrow');
    expect(dueGroup(task({ date: '2025-03-17' }), TODAY)).toBe('week');
    expect(dueGroup(task({ date: '2025-03-18' }), TODAY)).toBe('later');
    expect(dueGroup(task({ date: null }), TODAY)).toBe('none');
    // Across a month and a year boundary, still calendar days.
    expect(dueGroup(task({ date: '2026-01-01' }), '2025-12-31')).toBe('tomorrow');
  });

  it('emits a header before each non-empty group, in order, with tasks sorted by due time then priority', () => {
    const tasks = [
      task({ title: 'later', date: '2025-04-01' }),
      task({ title: 'undated' }),
      task({ title: 'today low', date: TODAY, priority: { level: 1, original: 1 } }),
      task({ title: 'today urgent', date: TODAY, priority: { level: 4, original: 'urgent' } }),
      task({ title: 'overdue', date: '2025-03-01' }),
    ];
    const { rows, matched } = buildTaskRows(tasks, { query: '', status: 'open', today: TODAY });
    expect(matched).toBe(5);
    expect(rows.map((r) => (r.kind === 'header' ? `# ${r.group} ${r.count}` : r.task.title))).toEqual([
      '# overdue 1',
      'overdue',
      '# today 2',
      'today urgent',
      'today low',
      '# later 1',
      'later',
      '# none 1',
      'undated',
    ]);
  });

  it('filters by status and searches title, project, workspace and assignees', () => {
    const tasks = [
      task({ title: 'Write release notes', project: 'Docs' }),
      task({ title: 'Ship it', status: 'done', assignees: ['Dana'] }),
      task({ title: 'Call Acme', workspace: 'Sales' }),
    ];
    const count = (query: string, status: 'open' | 'done' | 'all') =>
      buildTaskRows(tasks, { query, status, today: TODAY }).matched;
    expect(count('', 'open')).toBe(2);
    expect(count('', 'done')).toBe(1);
    expect(count('', 'all')).toBe(3);
    expect(count('RELEASE', 'all')).toBe(1);
    expect(count('docs', 'all')).toBe(1);
    expect(count('dana', 'all')).toBe(1);
    expect(count('sales', 'open')).toBe(1);
    expect(count('nothing like this', 'all')).toBe(0);
    expect(buildTaskRows(tasks, { query: 'zzz', status: 'all', today: TODAY }).rows).toEqual([]);
  });

  it('turns 10,000 tasks into 10,000 task rows plus at most six headers', () => {
    const many = Array.from({ length: 10_000 }, (_, i) =>
      task({ date: i % 7 === 0 ? null : `2025-03-${String((i % 28) + 1).padStart(2, '0')}` }),
    );
    const { rows, matched } = buildTaskRows(many, { query: '', status: 'all', today: TODAY });
    expect(matched).toBe(10_000);
    expect(rows.filter((r) => r.kind === 'task')).toHaveLength(10_000);
    expect(rows.filter((r) => r.kind === 'header').length).toBeLessThanOrEqual(6);
  });
});
