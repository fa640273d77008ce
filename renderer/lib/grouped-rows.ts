// Where rows of two fixed heights (group headers and tasks) sit, by arithmetic on
// the header rows alone: nothing here grows with the list. Pure, so it is tested
// without a DOM.

export interface Layout {
  total: number;
  header: number;
  row: number;
  /** Header row indexes, ascending. */
  headers: readonly number[];
}

/** Top of row `index`: every row before it is a task row, except the headers among them. */
export function rowStart(layout: Layout, index: number): number {
  let headersBefore = 0;
  for (const h of layout.headers) if (h < index) headersBefore += 1;
  return index * layout.row + headersBefore * (layout.header - layout.row);
}

/** The row at a vertical offset. */
export function rowAt(layout: Layout, offset: number): number {
  if (layout.total === 0) return 0;
  let index = 0;
  let top = 0;
  // Walk group by group: between two headers every row has the same height.
  const bounds = [...layout.headers, layout.total];
  for (let g = 0; g < bounds.length; g += 1) {
    const next = bounds[g]!;
    const span = (next - index) * layout.row;
    if (offset < top + span) return Math.min(layout.total - 1, index + Math.floor((offset - top) / layout.row));
    top += span;
    index = next;
    if (index >= layout.total) break;
    if (offset < top + layout.header) return index;
    top += layout.header;
    index += 1;
  }
  return layout.total - 1;
}
