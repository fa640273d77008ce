import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cellSafe, table, terminalSafe } from '../../electron/cli/io';

const SEED = Number(process.env['FUZZ_SEED'] ?? Date.now() % 2_147_483_647);
/** Anything a terminal acts on: C0 but tab and newline, DEL, C1. */
const ACTIVE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '\u001b[31mred\u001b[0m',
    '\u001b]52;c;aGVsbG8=\u0007',
    '\u001b]0;owned\u001b\\',
    '\u009b31m',
    '\u009d52;c;eA==\u009c',
    'a\rb',
    '\u007f\u0000\u0008',
  ),
  fc.string({ unit: fc.integer({ min: 0, max: 0x9f }).map((c) => String.fromCharCode(c)), maxLength: 30 }),
);

describe('human CLI output cannot carry terminal escapes', () => {
  it(`the table printer never emits a control character but its own row breaks (fuzzed, seed ${SEED})`, () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(hostile, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 6 }),
        (rows) => {
          const printed = table(rows);
          expect(printed).not.toMatch(ACTIVE);
          expect(printed).not.toContain('\t');
          expect(printed.split('\n')).toHaveLength(rows.length);
        },
      ),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it(`messages keep tab and newline and show everything else as \\xNN (fuzzed, seed ${SEED})`, () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const safe = terminalSafe(text);
        expect(safe).not.toMatch(ACTIVE);
        expect(safe.split('\n')).toHaveLength(text.split('\n').length);
      }),
      { seed: SEED, numRuns: 3000 },
    );
    expect(terminalSafe('a\u001b[31mb\tc\nd\u009b')).toBe('a\\x1b[31mb\tc\nd\\x9b');
    expect(cellSafe('x\ty\nz')).toBe('x y z');
    expect(terminalSafe('Задачи — 東京 ✓')).toBe('Задачи — 東京 ✓');
  });
});
