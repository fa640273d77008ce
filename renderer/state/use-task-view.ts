// The tasks view's side of the paged task list. The core holds each view's
// whole list, sorted and grouped; this hook holds the shape of the current
// result (totals, group headers) and a bounded set of pages of rows around
// what is on screen, so the page's heap does not grow with the list. Every new
// filter or search gets a higher sequence number; answers for an older one are
// dropped here, and the core stops working on them.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { TokentrayApi } from '../../electron/shared/ipc-contract';
import type { AppError } from '../../electron/shared/models';
import type {
  StatusFilter,
  TaskViewGroup,
  TaskViewRow,
  TaskViewSource,
  TaskWindow,
} from '../../electron/shared/task-view-contract';

/** Rows per page asked of the core; the first answer carries two, enough for a tall window. */
export const PAGE_ROWS = 50;
const FIRST_ROWS = PAGE_ROWS * 2;
/** Pages kept around the visible ones; the farthest go first. */
const MAX_PAGES = 24;
/**
 * At most one round of page requests per this many ms: a flick crosses three screens a
 * frame, and asking for every page it flies past only fills the wire (and the frames)
 * with rows nobody will see. A slow scroll still gets its rows within this time.
 */
const REQUEST_EVERY_MS = 48;

export interface TaskQuery {
  query: string;
  status: StatusFilter;
  today: string;
}

export interface TaskViewState {
  /** Which accounts (and reload) this view is for; a new key means a new view is on its way. */
  key: string;
  viewId: string;
  sources: TaskViewSource[];
  failures: Array<{ accountId: string; error: AppError }>;
  /** The cached lists standing in until the live fetch answers. */
  stale: boolean;
}

export interface TaskShape {
  seq: number;
  /** The search text this result answers. */
  query: string;
  total: number;
  matched: number;
  unfiltered: number;
  groups: TaskViewGroup[];
}

type Fresh = Extract<TaskWindow, { stale: false }>;

/**
 * While the view is open its lists are brought up to date this often, in place (the place in the
 * list is kept): an incremental sync asks the provider only what changed, so this is cheap.
 */
export const LIVE_REFRESH_MS = 5 * 60_000;

export function useTaskView(
  api: TokentrayApi,
  accountIds: readonly string[],
  filter: TaskQuery,
  options: { refreshEveryMs?: number } = {},
) {
  const refreshEveryMs = options.refreshEveryMs ?? LIVE_REFRESH_MS;
  const [reloads, setReloads] = useState(0);
  /** The next live open walks every account in full ("Refresh everything"). */
  const fullNext = useRef(false);
  /** Brings the open view's lists up to date in place; set by the effect that opened it. */
  const refreshInPlace = useRef<(() => void) | null>(null);
  const ids = accountIds.join('\n');
  const key = `${ids}|${reloads}`;
  const [view, setView] = useState<TaskViewState | null>(null);
  const [shape, setShape] = useState<TaskShape | null>(null);
  // Bumped when a page arrives: pages live in a ref so a flick does not copy a map per answer.
  const [, setPagesVersion] = useState(0);
  const pages = useRef(new Map<number, TaskViewRow[]>());
  const inFlight = useRef(new Set<string>());
  const seq = useRef(0);
  /** The view and filter whose rows were last asked for. */
  const applied = useRef('');
  const renderQueued = useRef(0);
  /** The rows on screen now, and when pages were last asked for. */
  const wantedRange = useRef<[number, number]>([0, -1]);
  const throttle = useRef<{ at: number; timer: ReturnType<typeof setTimeout> | null }>({ at: 0, timer: null });
  const viewRef = useRef<TaskViewState | null>(null);
  const shapeRef = useRef<TaskShape | null>(null);
  const filterRef = useRef(filter);
  useEffect(() => {
    filterRef.current = filter;
  });

  const apply = useCallback((win: Fresh, forQuery: string): void => {
    if (shapeRef.current?.seq !== win.seq) {
      pages.current = new Map();
      inFlight.current.clear();
    }
    for (let i = 0; i < win.rows.length; i += PAGE_ROWS) {
      pages.current.set(Math.floor((win.offset + i) / PAGE_ROWS), win.rows.slice(i, i + PAGE_ROWS));
    }
    const next = {
      seq: win.seq,
      query: forQuery,
      total: win.total,
      matched: win.matched,
      unfiltered: win.unfiltered,
      groups: win.groups,
    };
    // Every answer for one query has the same totals: only a new query changes the shape.
    if (shapeRef.current?.seq !== next.seq) {
      shapeRef.current = next;
      setShape(next);
    }
    // Several pages can land in one frame: one render for all of them.
    if (renderQueued.current === 0) {
      renderQueued.current = requestAnimationFrame(() => {
        renderQueued.current = 0;
        setPagesVersion((v) => v + 1);
      });
    }
  }, []);

  /** Asks for the current filter's first rows; a newer query makes the answer (and the core's work) moot. */
  const query = useCallback(
    (viewId: string): void => {
      const mine = ++seq.current;
      const asked = filterRef.current;
      // One page answers a keystroke: the smallest message that fills the screen.
      void api.taskViewWindow({ viewId, ...asked, seq: mine, offset: 0, count: PAGE_ROWS }).then((result) => {
        if (!result.ok || result.data.stale || result.data.seq !== seq.current) return;
        if (viewRef.current?.viewId !== viewId) return;
        apply(result.data, asked.query);
      });
    },
    [api, apply],
  );

  // Opening a view: the offline cache first (on screen at once), then the live lists replace it.
  useEffect(() => {
    let current = true;
    const wanted = ids === '' ? [] : ids.split('\n');
    if (wanted.length === 0) return undefined;
    const opened: string[] = [];
    let asked = filterRef.current;
    const adopt = (
      data: { viewId: string; sources: TaskViewSource[]; failures: TaskViewState['failures'] },
      win: TaskWindow,
      stale: boolean,
    ): void => {
      const previous = viewRef.current;
      const next = { key, viewId: data.viewId, sources: data.sources, failures: data.failures, stale };
      viewRef.current = next;
      applied.current = `${next.viewId}|${asked.query}|${asked.status}|${asked.today}`;
      setView(next);
      if (previous && previous.viewId !== next.viewId) void api.taskViewClose({ viewId: previous.viewId });
      // The rows the core sent are for the filter at open time; typed since? Ask again.
      if (!win.stale && win.seq === seq.current) {
        shapeRef.current = null;
        apply(win, asked.query);
      } else query(data.viewId);
    };
    const open = (offline: boolean) => {
      asked = filterRef.current;
      const full = !offline && fullNext.current;
      if (full) fullNext.current = false;
      return api.taskViewOpen({
        accountIds: wanted,
        offline,
        ...(full ? { full } : {}),
        ...asked,
        seq: ++seq.current,
        count: FIRST_ROWS,
      });
    };
    refreshInPlace.current = () => {
      void open(false).then((live) => {
        if (!live.ok) return;
        if (current) adopt(live.data, live.data.window, false);
        else void api.taskViewClose({ viewId: live.data.viewId });
      });
    };
    void open(true)
      .then((cached) => {
        if (!cached.ok) return;
        opened.push(cached.data.viewId);
        const complete = cached.data.failures.length === 0 && cached.data.sources.every((s) => s.fetchedAt !== null);
        if (current && complete) adopt(cached.data, cached.data.window, true);
        else void api.taskViewClose({ viewId: cached.data.viewId });
      })
      .finally(() => {
        if (!current) return;
        void open(false).then((live) => {
          if (!live.ok) return;
          opened.push(live.data.viewId);
          if (current) adopt(live.data, live.data.window, false);
          else void api.taskViewClose({ viewId: live.data.viewId });
        });
      });
    return () => {
      current = false;
      refreshInPlace.current = null;
    };
  }, [api, ids, key, apply, query]);

  // The open view follows the provider without a reload: the lists come again, the place stays.
  useEffect(() => {
    if (refreshEveryMs <= 0) return undefined;
    const timer = setInterval(() => {
      if (viewRef.current && !viewRef.current.stale) refreshInPlace.current?.();
    }, refreshEveryMs);
    return () => clearInterval(timer);
  }, [refreshEveryMs]);

  // The view goes with the page: the core need not keep its list.
  useEffect(
    () => () => {
      const last = viewRef.current;
      if (last) void api.taskViewClose({ viewId: last.viewId });
    },
    [api],
  );

  // A new filter, search or day: the first rows of the new result, everything older dropped.
  const { query: text, status, today } = filter;
  const viewId = view?.viewId ?? null;
  useEffect(() => {
    // Already answered when the view opened (or by the last query): no second request.
    if (viewId === null || applied.current === `${viewId}|${text}|${status}|${today}`) return;
    applied.current = `${viewId}|${text}|${status}|${today}`;
    query(viewId);
  }, [text, status, today, viewId, query]);

  /** Makes sure rows first..last are here or on their way; pages far from them are let go. */
  const fetchPages = useCallback(
    (first: number, last: number): void => {
      const v = viewRef.current;
      const s = shapeRef.current;
      if (!v || !s || s.total === 0) return;
      const from = Math.max(0, Math.floor(first / PAGE_ROWS));
      const to = Math.min(Math.floor((s.total - 1) / PAGE_ROWS), Math.floor(last / PAGE_ROWS));
      for (let p = from; p <= to; p += 1) {
        if (pages.current.has(p) || inFlight.current.has(`${s.seq}|${p}`)) continue;
        // Neighbouring missing pages go in one request.
        let end = p;
        while (
          end + 1 <= to &&
          !pages.current.has(end + 1) &&
          !inFlight.current.has(`${s.seq}|${end + 1}`) &&
          end + 1 - p < 8
        ) {
          end += 1;
        }
        for (let q = p; q <= end; q += 1) inFlight.current.add(`${s.seq}|${q}`);
        const wanted = { viewId: v.viewId, seq: s.seq };
        void api
          .taskViewWindow({
            viewId: v.viewId,
            ...filterRef.current,
            seq: s.seq,
            offset: p * PAGE_ROWS,
            count: (end - p + 1) * PAGE_ROWS,
          })
          .then((result) => {
            for (let q = p; q <= end; q += 1) inFlight.current.delete(`${wanted.seq}|${q}`);
            if (!result.ok || result.data.stale) return;
            if (viewRef.current?.viewId !== wanted.viewId || shapeRef.current?.seq !== wanted.seq) return;
            // Flown past already: not worth a render.
            const [nowFirst, nowLast] = wantedRange.current;
            if (end * PAGE_ROWS + PAGE_ROWS < nowFirst - PAGE_ROWS || p * PAGE_ROWS > nowLast + PAGE_ROWS) return;
            apply(result.data, shapeRef.current.query);
          });
        p = end;
      }
      if (pages.current.size > MAX_PAGES) {
        const centre = (from + to) / 2;
        const far = [...pages.current.keys()].sort((a, b) => Math.abs(b - centre) - Math.abs(a - centre));
        for (const p of far.slice(0, pages.current.size - MAX_PAGES)) pages.current.delete(p);
      }
    },
    [api, apply],
  );

  const ensure = useCallback(
    (first: number, last: number): void => {
      wantedRange.current = [first, last];
      const t = throttle.current;
      if (t.timer !== null) return;
      const wait = t.at + REQUEST_EVERY_MS - performance.now();
      const run = (): void => {
        t.timer = null;
        t.at = performance.now();
        fetchPages(...wantedRange.current);
      };
      if (wait <= 0) run();
      else t.timer = setTimeout(run, wait);
    },
    [fetchPages],
  );

  useEffect(
    () => () => {
      if (throttle.current.timer !== null) clearTimeout(throttle.current.timer);
      cancelAnimationFrame(renderQueued.current);
    },
    [],
  );

  const rowAt = useCallback((index: number): TaskViewRow | undefined => {
    return pages.current.get(Math.floor(index / PAGE_ROWS))?.[index % PAGE_ROWS];
  }, []);

  const reload = useCallback(() => setReloads((n) => n + 1), []);
  /** "Refresh everything": every account walked in full, which also drops deleted and moved-away tasks. */
  const reloadAll = useCallback(() => {
    fullNext.current = true;
    setReloads((n) => n + 1);
  }, []);
  const current = view && ids !== '' ? view : null;
  return {
    view: current,
    shape: current ? shape : null,
    loading: view?.key !== key || view.stale,
    rowAt,
    ensure,
    reload,
    reloadAll,
  };
}
