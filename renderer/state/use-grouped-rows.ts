// A virtual list for rows of two fixed heights (group headers and tasks) whose
// header rows are known from the totals the core sends. Every position is
// arithmetic on at most six groups, so nothing here grows with the list: a
// general virtualizer keeps one position record per row, which at 100,000
// tasks was the only thing in the page that did.
import { useCallback, useEffect, useMemo, useState, type RefObject } from 'react';
import type { TaskViewGroup } from '../../electron/shared/task-view-contract';
import { rowAt, rowStart, type Layout } from '../lib/grouped-rows';

export interface GroupedRow {
  index: number;
  start: number;
  size: number;
  key: number;
}

export function useGroupedRows(options: {
  total: number;
  groups: readonly TaskViewGroup[];
  headerHeight: number;
  rowHeight: number;
  overscan: number;
  scrollRef: RefObject<HTMLElement | null>;
}) {
  const { total, groups, headerHeight, rowHeight, overscan, scrollRef } = options;
  const layout = useMemo<Layout>(
    () => ({ total, header: headerHeight, row: rowHeight, headers: groups.map((g) => g.start) }),
    [total, groups, headerHeight, rowHeight],
  );
  const [viewport, setViewport] = useState({ top: 0, height: 0 });

  useEffect(() => {
    const el = scrollRef.current;
    if (!el) return undefined;
    const read = (): void => setViewport({ top: el.scrollTop, height: el.clientHeight });
    read();
    el.addEventListener('scroll', read, { passive: true });
    const resize = new ResizeObserver(read);
    resize.observe(el);
    return () => {
      el.removeEventListener('scroll', read);
      resize.disconnect();
    };
    // The element appears once there are rows to show.
  }, [scrollRef, total]);

  const items = useMemo<GroupedRow[]>(() => {
    if (total === 0) return [];
    const first = Math.max(0, rowAt(layout, viewport.top) - overscan);
    const last = Math.min(total - 1, rowAt(layout, viewport.top + viewport.height) + overscan);
    const out: GroupedRow[] = [];
    let start = rowStart(layout, first);
    const isHeader = new Set(layout.headers);
    for (let index = first; index <= last; index += 1) {
      const size = isHeader.has(index) ? layout.header : layout.row;
      out.push({ index, start, size, key: index });
      start += size;
    }
    return out;
  }, [layout, viewport, overscan, total]);

  const totalSize = total === 0 ? 0 : rowStart(layout, total);

  /** Scrolls just enough to show row `index` (the keyboard's "auto" alignment). */
  const scrollToIndex = useCallback(
    (index: number): void => {
      const el = scrollRef.current;
      if (!el) return;
      const top = rowStart(layout, index);
      const bottom = top + (layout.headers.includes(index) ? layout.header : layout.row);
      if (top < el.scrollTop) el.scrollTop = top;
      else if (bottom > el.scrollTop + el.clientHeight) el.scrollTop = bottom - el.clientHeight;
    },
    [layout, scrollRef],
  );

  return { items, totalSize, scrollToIndex };
}
