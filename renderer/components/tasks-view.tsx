import { memo, useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { AppError, Task } from '../../electron/shared/models';
import type { StatusFilter, TaskViewGroup, TaskViewRow } from '../../electron/shared/task-view-contract';
import { formatDay, formatRelative, formatTime, localDay } from '../lib/time';
import { useApp } from '../state/app-context';
import { useNow } from '../state/use-now';
import { useGroupedRows } from '../state/use-grouped-rows';
import { PAGE_ROWS, useTaskView } from '../state/use-task-view';
import { AlertIcon, CheckIcon, ExternalIcon, ListIcon, PlusIcon, RefreshIcon, SearchIcon } from './icons';
import { PageHeader } from './page-header';
import { ProviderIcon } from './provider-icon';
import { EmptyState, ErrorState, Spinner } from './states';
import { WarningBanner } from './warning-banner';
import './tasks-view.css';

/** A saved copy younger than this reads "saved just now", not "saved now" or "in 0 seconds". */
const JUST_NOW_MS = 45_000;

const HEADER_HEIGHT = 40;
const ROW_HEIGHT = 60;
const NO_GROUPS: readonly TaskViewGroup[] = [];

function TaskRowView({
  row,
  index,
  size,
  start,
  active,
  showAccount,
  accountLabels,
  setSize,
  onOpen,
  onActivate,
}: {
  row: TaskViewRow;
  index: number;
  size: number;
  start: number;
  active: boolean;
  showAccount: boolean;
  accountLabels: Map<string, string>;
  setSize: number;
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
      aria-posinset={row.position}
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

// Rows that stay on screen while the list scrolls keep their props: they are not drawn again.
const MemoTaskRow = memo(TaskRowView);

export function TasksView({ accountId }: { accountId: string | null }) {
  const { api, i18n, accounts, navigate, notifyError } = useApp();
  const list = useMemo(() => accounts ?? [], [accounts]);
  const [query, setQuery] = useState('');
  const [status, setStatus] = useState<StatusFilter>('open');
  const [active, setActive] = useState(-1);
  const now = useNow(60_000);
  const today = localDay(now);
  const scrollRef = useRef<HTMLDivElement>(null);
  const searchRef = useRef<HTMLInputElement>(null);

  // The core sorts, groups and searches; this view holds the totals and the rows near the screen.
  const accountIds = useMemo(() => (accountId ? [accountId] : list.map((a) => a.id)), [accountId, list]);
  const { view, shape, loading, rowAt, ensure, reload, reloadAll } = useTaskView(api, accountIds, {
    query,
    status,
    today,
  });
  const total = shape?.total ?? 0;
  const matched = shape?.matched ?? 0;
  const headers = useMemo(() => new Map((shape?.groups ?? []).map((g) => [g.start, g])), [shape]);
  const accountLabels = useMemo(() => new Map(list.map((a) => [a.id, a.label])), [list]);

  // Positions by arithmetic from the group starts: nothing in the page grows with the list.
  const virtualizer = useGroupedRows({
    total,
    groups: shape?.groups ?? NO_GROUPS,
    headerHeight: HEADER_HEIGHT,
    rowHeight: ROW_HEIGHT,
    overscan: 6,
    scrollRef,
  });
  const items = virtualizer.items;
  const firstItem = items[0]?.index ?? 0;
  const lastItem = items.at(-1)?.index ?? -1;
  useEffect(() => {
    if (lastItem >= 0) ensure(firstItem, lastItem + PAGE_ROWS / 2);
  }, [ensure, firstItem, lastItem, shape]);

  // A new result (filter, search, another account) starts at its top with nothing selected.
  const [resetKey, setResetKey] = useState(shape);
  if (resetKey?.seq !== shape?.seq) {
    setResetKey(shape);
    setActive(-1);
  }
  // A new filter or search starts at its top (the live list replacing the cached one keeps the place).
  useEffect(() => {
    scrollRef.current?.scrollTo({ top: 0 });
  }, [query, status]);

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

  const open = useCallback(
    async (task: Task): Promise<void> => {
      if (!task.url) return;
      const result = await api.openExternal({ url: task.url });
      if (!result.ok) notifyError(result.error);
    },
    [api, notifyError],
  );
  const onOpen = useCallback((task: Task) => void open(task), [open]);

  // Headers are known from the totals, so moving skips them without the rows being here.
  const move = (from: number, step: number): number => {
    for (let i = from + step; i >= 0 && i < total; i += step) if (!headers.has(i)) return i;
    return from;
  };

  // A keyboard user in the list when a new result lands (a late search answer, a refilter) keeps an
  // active task, its first, as on arriving by Tab: focus never sits in a listbox that has none.
  useEffect(() => {
    if (active >= 0 || document.activeElement !== scrollRef.current) return;
    let first = 0;
    while (headers.has(first)) first += 1;
    if (first < total) setActive(first);
  }, [active, headers, total]);

  const onListKey = (e: KeyboardEvent<HTMLDivElement>): void => {
    let next = active;
    if (e.key === 'ArrowDown') next = move(active, 1);
    else if (e.key === 'ArrowUp') next = move(active < 0 ? total : active, -1);
    else if (e.key === 'Home') next = move(-1, 1);
    else if (e.key === 'End') next = move(total, -1);
    else if (e.key === 'PageDown') next = move(Math.min(total - 1, active + 9), 1);
    else if (e.key === 'PageUp') next = move(Math.max(0, active - 9), -1);
    else if (e.key === 'Enter') {
      const row = rowAt(active);
      if (row?.kind === 'task') void open(row.task);
      return;
    } else return;
    e.preventDefault();
    if (next >= 0) {
      setActive(next);
      virtualizer.scrollToIndex(next);
    }
  };

  // While the cached lists stand in for the live fetch they are not "offline", only not yet updated.
  const offline = view && !view.stale ? view.sources.filter((l) => l.offline) : [];
  const oldest = offline.reduce<string | null>(
    (min, l) => (l.fetchedAt && (min === null || l.fetchedAt < min) ? l.fetchedAt : min),
    null,
  );
  const selected = accountId ? list.find((a) => a.id === accountId) : undefined;
  // What a live fetch could not read while the rest came (a Basecamp account gone inactive, a ClickUp
  // workspace the token was not granted, a deleted list): named, so a missing task has a reason.
  const skipped = view && !view.stale ? view.sources.flatMap((l) => l.skipped) : [];
  // How fresh the live lists are: when they were last brought up to date, and, when that asked only
  // for changes, when the whole account was last read (the read that notices deleted tasks).
  const live = view && !view.stale ? view.sources.filter((l) => !l.offline && l.fetchedAt !== null) : [];
  const syncedAt = live.reduce<string | null>(
    (min, l) => (min === null || l.fetchedAt! < min ? l.fetchedAt : min),
    null,
  );
  const walkedAt = live.reduce<string | null>(
    (min, l) => (l.fullWalkAt !== null && (min === null || l.fullWalkAt < min) ? l.fullWalkAt : min),
    null,
  );
  const incremental = live.some((l) => l.syncMode === 'incremental');

  return (
    <div className="view view--fill">
      <PageHeader
        title={i18n.t('tasks.title')}
        subtitle={selected ? `${selected.label} · ${selected.providerName}` : i18n.t('tasks.subtitleAll')}
        actions={
          <>
            <button
              type="button"
              className="button button--ghost"
              onClick={reloadAll}
              disabled={loading}
              title={i18n.t('tasks.refreshAllHint')}
            >
              {i18n.t('tasks.refreshAll')}
            </button>
            <button type="button" className="button" data-testid="tasks-reload" onClick={reload} disabled={loading}>
              {loading ? <Spinner /> : <RefreshIcon size={16} />}
              {i18n.t('tasks.reload')}
            </button>
          </>
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
          {shape ? i18n.tn('tasks.count', matched) : ''}
          {view?.stale ? <span className="toolbar__updating"> · {i18n.t('tasks.updating')}</span> : null}
        </span>
      </div>
      {syncedAt !== null ? (
        <p className="tasks-freshness" data-testid="tasks-freshness">
          {incremental && walkedAt !== null
            ? i18n.t('tasks.freshIncremental', {
                time: formatTime(syncedAt, i18n.locale, null),
                walked: formatRelative(walkedAt, now, i18n.locale),
              })
            : i18n.t('tasks.freshFull', { time: formatTime(syncedAt, i18n.locale, null) })}
        </p>
      ) : null}
      {offline.length > 0 ? (
        <WarningBanner testId="offline-badge">
          <span>
            <strong className="warning-banner__badge">{i18n.t('tasks.offline')}</strong>
            {!oldest
              ? i18n.t('tasks.cachedNever')
              : now - Date.parse(oldest) < JUST_NOW_MS
                ? i18n.t('tasks.cachedJustNow')
                : i18n.t('tasks.cachedAge', { age: formatRelative(oldest, now, i18n.locale) })}
          </span>
          {offline
            .map((l) => l.error)
            .filter((e): e is AppError => e !== null)
            .slice(0, 1)
            .map((e) => (
              <span key={e.code} className="warning-banner__reason">
                {i18n.errorTitle(e.code)} · {e.message}
              </span>
            ))}
        </WarningBanner>
      ) : null}
      {skipped.length > 0 ? (
        <WarningBanner testId="skipped-notice" icon={<AlertIcon size={16} className="warning-banner__icon" />}>
          <strong className="warning-banner__badge">{i18n.tn('tasks.skipped', skipped.length)}</strong>
          <ul className="warning-banner__list">
            {skipped.map((s) => (
              <li key={`${s.kind}|${s.workspace}|${s.name}`} className="warning-banner__reason">
                {s.message}
              </li>
            ))}
          </ul>
        </WarningBanner>
      ) : null}
      {view?.failures.map((f) => (
        <div key={f.accountId} className="view__inset">
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
      ) : !shape ? (
        <div className="view__body loading">
          <Spinner label={i18n.t('common.loading')} />
        </div>
      ) : total === 0 ? (
        <div className="view__body">
          <EmptyState
            icon={<SearchIcon size={28} />}
            title={shape.unfiltered === 0 ? i18n.t('tasks.emptyTitle') : i18n.t('tasks.noMatchTitle')}
            body={shape.unfiltered === 0 ? i18n.t('tasks.emptyBody') : i18n.t('tasks.noMatchBody')}
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
          data-query={shape.query}
        >
          <div className="task-list__inner" style={{ height: virtualizer.totalSize }}>
            {items.map((item) => {
              const header = headers.get(item.index);
              const row: TaskViewRow | undefined = header
                ? { kind: 'header', group: header.group, count: header.count }
                : rowAt(item.index);
              if (!row) {
                // Its page is still crossing from the core: hold the place, keep the frame short.
                return (
                  <div
                    key={item.key}
                    className="task-row task-row--pending"
                    style={{ height: item.size, transform: `translateY(${item.start}px)` }}
                    role="presentation"
                    aria-hidden="true"
                    data-index={item.index}
                  />
                );
              }
              return (
                <MemoTaskRow
                  key={item.key}
                  row={row}
                  index={item.index}
                  size={item.size}
                  start={item.start}
                  active={item.index === active}
                  showAccount={accountId === null}
                  accountLabels={accountLabels}
                  setSize={matched}
                  onOpen={onOpen}
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
