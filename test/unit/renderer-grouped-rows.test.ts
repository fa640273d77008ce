import { describe, expect, it } from 'vitest';
import { rowAt, rowStart } from '../../renderer/lib/grouped-rows';

// Two groups: header at row 0 with 3 tasks, header at row 4 with 2 tasks (rows 0..6).
const layout = { total: 7, header: 40, row: 60, headers: [0, 4] };

describe('grouped rows placed by arithmetic', () => {
  it('puts each row below the headers and tasks before it', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => rowStart(layout, i))).toEqual([0, 40, 100, 160, 220, 260, 320, 380]);
  });

  it('finds the row at any offset, the inverse of where rows start', () => {
    for (let i = 0; i < layout.total; i += 1) {
      const top = rowStart(layout, i);
      const bottom = rowStart(layout, i + 1) - 1;
      expect(rowAt(layout, top)).toBe(i);
      expect(rowAt(layout, bottom)).toBe(i);
    }
    expect(rowAt(layout, 10_000)).toBe(6);
    expect(rowAt({ ...layout, total: 0, headers: [] }, 50)).toBe(0);
  });

  it("places the last of 100,000 rows at the list's full height", () => {
    const big = { total: 100_006, header: 40, row: 60, headers: [0, 20_001, 40_002, 60_003, 80_004, 100_005] };
    expect(rowStart(big, big.total)).toBe(100_000 * 60 + 6 * 40);
    expect(rowAt(big, rowStart(big, big.total) - 1)).toBe(big.total - 1);
    expect(rowAt(big, rowStart(big, 60_003))).toBe(60_003);
  });
});
