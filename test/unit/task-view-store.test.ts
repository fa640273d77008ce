import { describe, expect, it } from 'vitest';
import type { Task, TaskList } from '../../electron/shared/models';
import type { TaskViewRow, TaskWindow } from '../../electron/shared/task-view-contract';
import { dueGroup, orderTasks } from '../../electron/core/tasks/task-order';
import { TaskViewStore, type WindowRequest } from '../../electron/core/tasks/task-view-store';

let n = 0;
function task(over: Partial<Task> & { date?: string | null }): Task {
  n += 1;
  const { date, ...rest } = over;
  return {
    id: `t${String(n).padStart(6, '0')}`,
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

function list(tasks: Task[], accountId = 'a'): TaskList {
  return { accountId, tasks, fetchedAt: '2025-03-10T08:00:00.000Z', offline: false, ageSeconds: 0, error: null };
}

const TODAY = '2025-03-10';
const ask = (over: Partial<WindowRequest> = {}): WindowRequest => ({
  query: '',
  status: 'all',
  today: TODAY,
  seq: 0,
  offset: 0,
  count: 500,
  ...over,
});

function fresh(win: TaskWindow): Extract<TaskWindow, { stale: false }> {
  if (win.stale) throw new Error(`query ${win.seq} was answered stale`);
  return win;
}

const label = (r: TaskViewRow): string => (r.kind === 'header' ? `# ${r.group} ${r.count}` : r.task.title);

describe('task view store: order and groups', () => {
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

  it('emits a header before each non-empty group, in order, with tasks sorted by due time then priority', async () => {
    const store = new TaskViewStore();
    const id = store.open([
      list([
        task({ title: 'later', date: '2025-04-01' }),
        task({ title: 'undated' }),
        task({ title: 'today low', date: TODAY, priority: { level: 1, original: 1 } }),
        task({ title: 'today urgent', date: TODAY, priority: { level: 4, original: 'urgent' } }),
        task({ title: 'overdue', date: '2025-03-01' }),
      ]),
    ]);
    const win = fresh(await store.window(id, ask({ status: 'open' })));
    expect(win.matched).toBe(5);
    expect(win.total).toBe(9);
    expect(win.rows.map(label)).toEqual([
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
    expect(win.groups).toEqual([
      { group: 'overdue', count: 1, start: 0 },
      { group: 'today', count: 2, start: 2 },
      { group: 'later', count: 1, start: 5 },
      { group: 'none', count: 1, start: 7 },
    ]);
  });

  it('regroups when the renderer says the day has changed', async () => {
    const store = new TaskViewStore();
    const id = store.open([list([task({ title: 'due 11th', date: '2025-03-11' })])]);
    expect(fresh(await store.window(id, ask())).groups[0]?.group).toBe('tomorrow');
    expect(fresh(await store.window(id, ask({ today: '2025-03-11', seq: 1 }))).groups[0]?.group).toBe('today');
  });

  it('merges the lists of several accounts into one order', async () => {
    const store = new TaskViewStore();
    const id = store.open([
      list([task({ title: 'b later', date: '2025-04-01' })], 'a'),
      list([task({ title: 'c overdue', date: '2025-03-01', accountId: 'b' })], 'b'),
    ]);
    const win = fresh(await store.window(id, ask()));
    expect(win.rows.map(label)).toEqual(['# overdue 1', 'c overdue', '# later 1', 'b later']);
    expect(win.unfiltered).toBe(2);
  });
});

describe('task order', () => {
  it('orders by group, due, priority (high first), title and id, the same as comparing field by field', () => {
    let seed = 7;
    const random = (k: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % k;
    };
    const tasks = Array.from({ length: 3000 }, () => {
      const day = `2025-03-${String(1 + random(28)).padStart(2, '0')}`;
      return task({
        title: ['Écrire', 'ecrire', 'Zeta', 'alpha', 'Beta'][random(5)]!,
        date: random(6) === 0 ? null : day,
        status: random(4) === 0 ? 'done' : 'open',
        priority: { level: random(5), original: null },
        ...(random(3) === 0 ? {} : { due: { date: day, dateTime: `${day}T0${random(9)}:00:00Z`, timeZone: null } }),
      });
    });
    const collator = new Intl.Collator();
    const group = (t: Task): number =>
      ['overdue', 'today', 'tomorrow', 'week', 'later', 'none'].indexOf(dueGroup(t, TODAY));
    const due = (t: Task): string => (t.due ? (t.due.dateTime ?? `${t.due.date}T99`) : '9999-12-31');
    const code = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
    const expected = [...tasks].sort(
      (a, b) =>
        group(a) - group(b) ||
        code(due(a), due(b)) ||
        b.priority.level - a.priority.level ||
        collator.compare(a.title, b.title) ||
        code(a.id, b.id),
    );
    const { order } = orderTasks(tasks, TODAY);
    expect([...order].map((i) => tasks[i]!.id)).toEqual(expected.map((t) => t.id));
  });
});

describe('task view store: filter and search', () => {
  const tasks = [
    task({ title: 'Write release notes', project: 'Docs' }),
    task({ title: 'Ship it', status: 'done', assignees: ['Dana'] }),
    task({ title: 'Call Acme', workspace: 'Sales' }),
  ];

  it('filters by status and searches title, project, workspace and assignees', async () => {
    const store = new TaskViewStore();
    const id = store.open([list(tasks)]);
    let seq = 0;
    const count = async (query: string, status: 'open' | 'done' | 'all'): Promise<number> =>
      fresh(await store.window(id, ask({ query, status, seq: seq++ }))).matched;
    expect(await count('', 'open')).toBe(2);
    expect(await count('', 'done')).toBe(1);
    expect(await count('', 'all')).toBe(3);
    expect(await count('RELEASE', 'all')).toBe(1);
    expect(await count('  docs ', 'all')).toBe(1);
    expect(await count('dana', 'all')).toBe(1);
    expect(await count('sales', 'open')).toBe(1);
    expect(await count('nothing like this', 'all')).toBe(0);
    // A match never runs from one field into the next ("notes" + "Docs").
    expect(await count('notesdocs', 'all')).toBe(0);
    const none = fresh(await store.window(id, ask({ query: 'zzz', seq: seq++ })));
    expect(none.rows).toEqual([]);
    expect(none.total).toBe(0);
    expect(none.unfiltered).toBe(3);
  });

  it('answers the same after the search text was built ahead of the first keystroke', async () => {
    const store = new TaskViewStore({ chunkSize: 2 });
    const id = store.open([list(tasks)]);
    await store.warmSearch(id);
    expect(fresh(await store.window(id, ask({ query: 'dana' }))).matched).toBe(1);
    // A second view over the same list (the live list after the cached one) shares the work.
    const again = store.open([list(tasks)]);
    expect(fresh(await store.window(again, ask({ query: 'acme' }))).rows.map(label)).toEqual(['# none 1', 'Call Acme']);
  });

  it('answers a narrowing search (one more letter) the same as a search from scratch', async () => {
    const many = Array.from({ length: 3000 }, (_, i) =>
      task({ title: `item ${i} ${['alpha', 'alps', 'beta'][i % 3]}`, status: i % 5 === 0 ? 'done' : 'open' }),
    );
    const typed = new TaskViewStore({ chunkSize: 256 });
    const typedId = typed.open([list(many)]);
    let seq = 0;
    let last: Extract<TaskWindow, { stale: false }> | null = null;
    for (const q of ['a', 'al', 'alp', 'alph'])
      last = fresh(await typed.window(typedId, ask({ query: q, seq: seq++ })));
    const scratch = new TaskViewStore();
    const direct = fresh(await scratch.window(scratch.open([list(many)]), ask({ query: 'alph' })));
    expect(last?.matched).toBe(1000);
    expect(last?.rows.map(label)).toEqual(direct.rows.map(label));
    // Widening again (deleting letters) is not a narrowing: the whole list is scanned.
    expect(fresh(await typed.window(typedId, ask({ query: 'al', seq: seq++ }))).matched).toBe(2000);
  });
});

describe('task view store: windows', () => {
  const many = Array.from({ length: 10_000 }, (_, i) =>
    task({ date: i % 7 === 0 ? null : `2025-03-${String((i % 28) + 1).padStart(2, '0')}` }),
  );

  it('answers any window of 10,000 tasks with only that window of rows and the totals', async () => {
    const store = new TaskViewStore();
    const id = store.open([list(many)]);
    const first = fresh(await store.window(id, ask({ count: 50 })));
    expect(first.rows).toHaveLength(50);
    expect(first.matched).toBe(10_000);
    expect(first.groups.length).toBeLessThanOrEqual(6);
    expect(first.total).toBe(10_000 + first.groups.length);
    expect(first.groups.reduce((sum, g) => sum + g.count, 0)).toBe(10_000);

    // A window across a group boundary holds that group's header at its start row.
    const second = first.groups[1]!;
    const across = fresh(await store.window(id, ask({ offset: second.start - 2, count: 5 })));
    expect(across.rows.map((r) => r.kind)).toEqual(['task', 'task', 'header', 'task', 'task']);
    expect(across.rows[2]).toEqual({ kind: 'header', group: second.group, count: second.count });
    const positions = across.rows.flatMap((r) => (r.kind === 'task' ? [r.position] : []));
    // Headers take rows, not positions: the task after the header is the next task.
    expect(positions).toEqual([second.start - 2, second.start - 1, second.start, second.start + 1]);

    // Scrolled to the end: the last row is the 10,000th task.
    const end = fresh(await store.window(id, ask({ offset: first.total - 3, count: 50 })));
    expect(end.rows).toHaveLength(3);
    expect(end.rows.at(-1)).toMatchObject({ kind: 'task', position: 10_000 });
    const past = fresh(await store.window(id, ask({ offset: first.total + 10, count: 50 })));
    expect(past.rows).toEqual([]);

    // Windows laid end to end are the whole list, each task once, in order.
    const seen: string[] = [];
    for (let offset = 0; offset < first.total; offset += 500) {
      for (const r of fresh(await store.window(id, ask({ offset, count: 500 }))).rows) {
        if (r.kind === 'task') seen.push(r.task.id);
      }
    }
    expect(seen).toHaveLength(10_000);
    expect(new Set(seen).size).toBe(10_000);
  });

  it('never sends more than 500 rows in one answer', async () => {
    const store = new TaskViewStore();
    const id = store.open([list(many)]);
    expect(fresh(await store.window(id, ask({ count: 10_000 }))).rows).toHaveLength(500);
  });

  it('forgets the least recently used view past its limit, and a closed view says how to recover', async () => {
    const store = new TaskViewStore({ maxViews: 2 });
    const a = store.open([list(many.slice(0, 10))]);
    const b = store.open([list(many.slice(0, 20))]);
    await store.window(a, ask());
    store.open([list(many.slice(0, 30))]);
    expect(store.size).toBe(2);
    await expect(store.window(b, ask())).rejects.toMatchObject({ code: 'NOT_FOUND', message: /reload the tasks view/ });
    expect(fresh(await store.window(a, ask())).matched).toBe(10);
    expect(store.close(a)).toBe(true);
    expect(store.close(a)).toBe(false);
    await expect(store.window(a, ask())).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('task view store: stale queries', () => {
  it('cancels a search that a newer keystroke overtakes, mid-scan, and answers the newer one', async () => {
    const gates: Array<() => void> = [];
    const store = new TaskViewStore({
      chunkSize: 100,
      yieldToEventLoop: () => new Promise<void>((resolve) => gates.push(resolve)),
    });
    const id = store.open([list(Array.from({ length: 1000 }, (_, i) => task({ title: `row ${i}` })))]);
    const older = store.window(id, ask({ query: 'row 1', seq: 1 }));
    // The older scan is parked after its first chunk; the newer keystroke arrives.
    await Promise.resolve();
    expect(gates).toHaveLength(1);
    const newer = store.window(id, ask({ query: 'row 12', seq: 2 }));
    while (gates.length > 0) {
      gates.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const [a, b] = await Promise.all([older, newer]);
    expect(a).toEqual({ stale: true, viewId: id, seq: 1 });
    const answer = fresh(b);
    expect(answer.seq).toBe(2);
    // row 12, row 120–129
    expect(answer.matched).toBe(11);
  });

  it('answers a query older than one already seen as stale without scanning', async () => {
    let yields = 0;
    const store = new TaskViewStore({
      chunkSize: 10,
      yieldToEventLoop: async () => {
        yields += 1;
      },
    });
    const id = store.open([list(Array.from({ length: 100 }, (_, i) => task({ title: `row ${i}` })))]);
    fresh(await store.window(id, ask({ query: 'row', seq: 5 })));
    const before = yields;
    expect(await store.window(id, ask({ query: 'r', seq: 4 }))).toEqual({ stale: true, viewId: id, seq: 4 });
    expect(yields).toBe(before);
    // Further pages of the current query are still answered.
    expect(fresh(await store.window(id, ask({ query: 'row', seq: 5, offset: 50, count: 10 }))).rows).toHaveLength(10);
  });
});
