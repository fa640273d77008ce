import { useVirtualizer } from '@tanstack/react-virtual';
import { useCallback, useDeferredValue, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { AccountSummary, AppError, Task, TaskList } from '../../electron/shared/models';
import { buildTaskRows, type StatusFilter, type TaskRow } from '../lib/task-rows';
import { formatDay, formatRelative, formatTime, localDay } from '../lib/time';
import { useApp } from '../state/app-context';
import { useNow } from '../state/use-now';
import { CheckIcon, ExternalIcon, ListIcon, OfflineIcon, PlusIcon, RefreshIcon, SearchIcon } from './icons';
import { PageHeader } from './page-header';
import { ProviderIcon } from './provider-icon';
import { EmptyState, ErrorState, Spinner } from './states';

const HEADER_HEIGHT = 40;
const ROW_HEIGHT = 60;

interface Loaded {
  lists: TaskList[];
  failures: Array<{ account: AccountSummary; error: AppError }>;
}

function useTaskLists(accounts: AccountSummary[], accountId: string | null) {
  const { api } = useApp();
  const [reloads, setReloads] = useState(0);
  const [loaded, setLoaded] = useState<(Loaded & { key: string; stale: boolean }) | null>(null);
  const ids = (accountId ? [accountId] : accounts.map((a) => a.id)).join('\n');
  const key = `${ids}|${reloads}`;
  // Labels only: the id list (not every account update) decides when to fetch again.
  const accountsRef = useRef(accounts);
  useEffect(() => {
    accountsRef.current = accounts;
  });

  useEffect(() => {
    let current = true;
    const wanted = ids === '' ? [] : ids.split('\n');
    const collect = (results: Awaited<ReturnType<typeof api.tasks>>[]): Loaded => {
      const lists: TaskList[] = [];
      const failures: Loaded['failures'] = [];
      results.forEach((result, index) => {
        const account = accountsRef.current.find((a) => a.id === wanted[index]);
        if (result.ok) lists.push(result.data);
        else if (account) failures.push({ account, error: result.error });
      });
      return { lists, failures };
    };
    // The offline cache answers without the network, so the last good lists are on screen at
    // once; the live fetch starts after it (so the two never compete for the same thread) and
    // replaces them.
    const live = (): void => {
      void Promise.all(wanted.map((id) => api.tasks({ accountId: id }))).then((results) => {
        if (current) setLoaded({ ...collect(results), key, stale: false });
      });
    };
    void Promise.all(wanted.map((id) => api.tasks({ accountId: id, offline: true })))
      .then((cached) => {
        if (!current || !cached.every((r) => r.ok && r.data.fetchedAt !== null)) return;
        setLoaded({ ...collect(cached), key, stale: true });
      })
      .finally(live);
    return () => {
      current = false;
    };
  }, [api, ids, key]);

  const reload = useCallback(() => setReloads((n) => n + 1), []);
  return { loaded, loading: loaded?.key !== key || loaded.stale, reload };
}

function TaskRowView({
  row,
  index,
  size,
  start,
  active,
  showAccount,
  accountLabels,
  setSize,
  position,
  onOpen,
  onActivate,
}: {
  row: TaskRow;
  index: number;
  size: number;
  start: number;
  active: boolean;
  showAccount: boolean;
  accountLabels: Map<string, string>;
  setSize: number;
  position: number;
  onOpen(task: Task): void;
  onActivate(index: number): void;
}) {
  const { i18n } = useApp();
  const style = { height: size, transform: `translateY(${start}px)` };
  if (row.kind === 'header') {
    return (
      <div className="task-group" style={style} role="presentation" data-index={index}>
        <span className="task-group__title" data-group={row.group}>
          {i18n.t(`tasks.group.${row.group}`)}
        </span>
        <span className="task-group__count">{i18n.tn('tasks.count', row.count)}</span>
      </div>
    );
  }
  const { task } = row;
  const due = task.due;
  const meta = [task.project, task.workspace, task.assignees.join(', ')].filter((v): v is string => Boolean(v));
  return (
    <div
      id={`task-${index}`}
      className="task-row"
      style={style}
      role="option"
      aria-selected={active}
      aria-setsize={setSize}
      aria-posinset={position}
      data-index={index}
      data-task-row=""
      data-status={task.status}
      onClick={() => onActivate(index)}
      onDoubleClick={() => onOpen(task)}
    >
      <span className="task-row__check" data-done={task.status === 'done' || undefined} aria-hidden="true">
        {task.status === 'done' ? <CheckIcon size={12} /> : null}
      </span>
      <div className="task-row__main">
        <span className="task-row__title">
          {task.priority.level >= 3 ? (
            <span className="priority" data-level={task.priority.level}>
              {i18n.t(task.priority.level === 4 ? 'tasks.priority.urgent' : 'tasks.priority.high')}
            </span>
          ) : null}
          {task.title}
        </span>
        <span className="task-row__meta">
          {showAccount ? (
            <span className="task-row__account">
              <ProviderIcon provider={task.provider} size="sm" />
              {accountLabels.get(task.accountId) ?? task.accountId}
            </span>
          ) : null}
          {meta.map((m, i) => (
            <span key={i} className="task-row__meta-item">
              {m}
            </span>
          ))}
        </span>
      </div>
      <span className="task-row__due" data-group={row.group}>
        {due ? formatDay(due.date, i18n.locale) : i18n.t('tasks.noDue')}
        {due?.dateTime ? (
          <span className="task-row__time">{formatTime(due.dateTime, i18n.locale, due.timeZone)}</span>
        ) : null}
      </span>
      {task.url ? (
        // A focusable control inside role="option" is nested-interactive (axe): keyboard and screen-reader users
        // open the active task with Enter on the list, so this mouse shortcut is not a control of its own.
        <span
          className="icon-button icon-button--sm task-row__open"
          aria-hidden="true"
          title={i18n.t('tasks.openShort')}
          onClick={(e) => {
            e.stopPropagation();
            onOpen(task);
          }}
        >
          <ExternalIcon size={15} />
        </span>
      ) : (
        <span className="task-row__open-placeholder" />
      )}
    </div>
  );
}

export function TasksView({ accountId }: { accountId: string | null }) {
  const { api, i18n, accounts, navigate, notifyError } = useApp();
  const list = useMemo(() => accounts ?? [], [accounts]);
  const { loaded, loading, reload } = useTaskLists(list, accountId);
  const [query, setQuery] = useState('');
  const deferredQuery = useDeferredValue(query);
  const [status, setStatus] = useState<StatusFilter>('open');
  const [active, setActive] = useState(-1);
  const now = useNow(60_000);
  const today = localDay(now);
  const scrollRef = useRef<HTMLDivElement>(null);
  const searchRef = useRef<HTMLInputElement>(null);

  const allTasks = useMemo(() => (loaded ? loaded.lists.flatMap((l) => l.tasks) : []), [loaded]);
  const { rows, matched } = useMemo(() => {
    const started = performance.now();
    const built = buildTaskRows(allTasks, { query: deferredQuery, status, today });
    performance.measure('tokentray:task-rows', { start: started });
    return built;
  }, [allTasks, deferredQuery, status, today]);
  const taskPositions = useMemo(() => {
    const map = new Map<number, number>();
    let n = 0;
    rows.forEach((row, i) => {
      if (row.kind === 'task') map.set(i, ++n);
    });
    return map;
  }, [rows]);
  const accountLabels = useMemo(() => new Map(list.map((a) => [a.id, a.label])), [list]);

  // TanStack Virtual is not React-Compiler-safe; this component is not compiled, so the warning does not apply.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => (rows[i]?.kind === 'header' ? HEADER_HEIGHT : ROW_HEIGHT),
    overscan: 6,
  });

  const [resetKey, setResetKey] = useState(rows);
  if (resetKey !== rows) {
    setResetKey(rows);
    setActive(-1);
  }

  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent): void => {
      const target = e.target as HTMLElement | null;
      if (e.key === '/' && target?.tagName !== 'INPUT' && target?.tagName !== 'TEXTAREA') {
        e.preventDefault();
        searchRef.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const open = async (task: Task): Promise<void> => {
    if (!task.url) return;
    const result = await api.openExternal({ url: task.url });
    if (!result.ok) notifyError(result.error);
  };

  const move = (from: number, step: number): number => {
    for (let i = from + step; i >= 0 && i < rows.length; i += step) if (rows[i]?.kind === 'task') return i;
    return from;
  };

  const onListKey = (e: KeyboardEvent<HTMLDivElement>): void => {
    let next = active;
    if (e.key === 'ArrowDown') next = move(active, 1);
    else if (e.key === 'ArrowUp') next = move(active < 0 ? rows.length : active, -1);
    else if (e.key === 'Home') next = move(-1, 1);
    else if (e.key === 'End') next = move(rows.length, -1);
    else if (e.key === 'PageDown') next = move(Math.min(rows.length - 1, active + 9), 1);
    else if (e.key === 'PageUp') next = move(Math.max(0, active - 9), -1);
    else if (e.key === 'Enter') {
      const row = rows[active];
      if (row?.kind === 'task') void open(row.task);
      return;
    } else return;
    e.preventDefault();
    if (next >= 0) {
      setActive(next);
      virtualizer.scrollToIndex(next, { align: 'auto' });
    }
  };

  // While the cached lists stand in for the live fetch they are not "offline", only not yet updated.
  const offline = loaded && !loaded.stale ? loaded.lists.filter((l) => l.offline) : [];
  const oldest = offline.reduce<string | null>(
    (min, l) => (l.fetchedAt && (min === null || l.fetchedAt < min) ? l.fetchedAt : min),
    null,
  );
  const selected = accountId ? list.find((a) => a.id === accountId) : undefined;

  return (
    <div className="view view--fill">
      <PageHeader
        title={i18n.t('tasks.title')}
        subtitle={selected ? `${selected.label} · ${selected.providerName}` : i18n.t('tasks.subtitleAll')}
        actions={
          <button type="button" className="button" onClick={reload} disabled={loading}>
            {loading ? <Spinner /> : <RefreshIcon size={16} />}
            {i18n.t('tasks.reload')}
          </button>
        }
      />
      <div className="toolbar" role="toolbar" aria-label={i18n.t('tasks.filters')}>
        <label className="select-wrap">
          <span className="visually-hidden">{i18n.t('tasks.account')}</span>
          <select
            className="select"
            value={accountId ?? ''}
            onChange={(e) => navigate({ name: 'tasks', accountId: e.target.value === '' ? null : e.target.value })}
          >
            <option value="">{i18n.t('tasks.allAccounts')}</option>
            {list.map((a) => (
              <option key={a.id} value={a.id}>
                {a.label} · {a.providerName}
              </option>
            ))}
          </select>
        </label>
        <div className="search">
          <SearchIcon size={16} className="search__icon" />
          <input
            ref={searchRef}
            type="search"
            className="input search__input"
            placeholder={i18n.t('tasks.search')}
            aria-label={i18n.t('tasks.search')}
            aria-keyshortcuts="/"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
          <kbd className="search__kbd" aria-hidden="true">
            /
          </kbd>
        </div>
        <div className="segmented" role="radiogroup" aria-label={i18n.t('tasks.status')}>
          {(['open', 'done', 'all'] as const).map((s) => (
            <button
              key={s}
              type="button"
              role="radio"
              aria-checked={status === s}
              className="segmented__option"
              onClick={() => setStatus(s)}
            >
              {i18n.t(`tasks.status.${s}`)}
            </button>
          ))}
        </div>
        <span className="toolbar__count" data-testid="task-count" aria-live="polite">
          {loaded ? i18n.tn('tasks.count', matched) : ''}
          {loaded?.stale ? <span className="toolbar__updating"> · {i18n.t('tasks.updating')}</span> : null}
        </span>
      </div>
      {offline.length > 0 ? (
        <div className="offline-banner" data-testid="offline-badge">
          <OfflineIcon size={16} className="offline-banner__icon" />
          <div className="offline-banner__text">
            <span>
              <strong className="offline-banner__badge">{i18n.t('tasks.offline')}</strong>
              {oldest
                ? i18n.t('tasks.cachedAge', { age: formatRelative(oldest, Date.now(), i18n.locale) })
                : i18n.t('tasks.cachedNever')}
            </span>
            {offline
              .map((l) => l.error)
              .filter((e): e is AppError => e !== null)
              .slice(0, 1)
              .map((e) => (
                <span key={e.code} className="offline-banner__reason">
                  {i18n.errorTitle(e.code)} · {e.message}
                </span>
              ))}
          </div>
        </div>
      ) : null}
      {loaded?.failures.map((f) => (
        <div key={f.account.id} className="view__inset">
          <ErrorState error={f.error} />
        </div>
      ))}
      {accounts !== null && list.length === 0 ? (
        <div className="view__body">
          <EmptyState
            icon={<ListIcon size={28} />}
            title={i18n.t('tasks.noAccountsTitle')}
            body={i18n.t('tasks.noAccountsBody')}
            actions={
              <button type="button" className="button button--primary" onClick={() => navigate({ name: 'connect' })}>
                <PlusIcon size={16} />
                {i18n.t('accounts.add')}
              </button>
            }
          />
        </div>
      ) : !loaded ? (
        <div className="view__body loading">
          <Spinner label={i18n.t('common.loading')} />
        </div>
      ) : rows.length === 0 ? (
        <div className="view__body">
          <EmptyState
            icon={<SearchIcon size={28} />}
            title={allTasks.length === 0 ? i18n.t('tasks.emptyTitle') : i18n.t('tasks.noMatchTitle')}
            body={allTasks.length === 0 ? i18n.t('tasks.emptyBody') : i18n.t('tasks.noMatchBody')}
          />
        </div>
      ) : (
        <div
          ref={scrollRef}
          className="task-list"
          role="listbox"
          aria-label={i18n.t('tasks.listLabel')}
          aria-activedescendant={active >= 0 ? `task-${active}` : undefined}
          tabIndex={0}
          onKeyDown={onListKey}
          onFocus={() => {
            if (active < 0) setActive(move(-1, 1));
          }}
          data-testid="task-list"
        >
          <div className="task-list__inner" style={{ height: virtualizer.getTotalSize() }}>
            {virtualizer.getVirtualItems().map((item) => {
              const row = rows[item.index];
              if (!row) return null;
              return (
                <TaskRowView
                  key={item.key}
                  row={row}
                  index={item.index}
                  size={item.size}
                  start={item.start}
                  active={item.index === active}
                  showAccount={accountId === null}
                  accountLabels={accountLabels}
                  setSize={matched}
                  position={taskPositions.get(item.index) ?? 0}
                  onOpen={(task) => void open(task)}
                  onActivate={setActive}
                />
              );
            })}
          </div>
        </div>
      )}
    </div>
  );
}
