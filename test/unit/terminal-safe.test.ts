import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cellSafe, jsonForTerminal, table, terminalSafe } from '../../electron/cli/io';

const SEED = Number(process.env['FUZZ_SEED'] ?? Date.now() % 2_147_483_647);
/** Anything a terminal acts on: C0 but tab and newline, DEL, C1, and the bidi overrides and isolates. */
const ACTIVE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const BIDI = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'];
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
    'invoice \u202egpj.exe',
    '\u2067admin\u2069 \u2066user\u2069',
  ),
  fc.string({ unit: fc.constantFrom(...BIDI, 'a', ' ', '\u0085'), maxLength: 20 }),
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

  it('shows bidi overrides and isolates as \\uXXXX, so provider text cannot reorder a line', () => {
    expect(terminalSafe('invoice \u202egpj.exe')).toBe('invoice \\u202egpj.exe');
    expect(cellSafe('\u2066x\u2069')).toBe('\\u2066x\\u2069');
    for (const ch of BIDI) expect(table([[`a${ch}b`]])).not.toMatch(ACTIVE);
  });

  it(`JSON for a terminal escapes DEL, C1 and bidi controls and still parses to the same value (fuzzed, seed ${SEED})`, () => {
    fc.assert(
      fc.property(fc.array(hostile, { maxLength: 4 }), fc.dictionary(hostile, hostile, { maxKeys: 3 }), (list, map) => {
        const value = { list, map };
        const printed = jsonForTerminal(value, 2);
        expect(printed).not.toMatch(ACTIVE);
        expect(JSON.parse(printed)).toEqual(value);
      }),
      { seed: SEED, numRuns: 2000 },
    );
    expect(jsonForTerminal({ title: '\u009b31m\u202e' })).toBe('{"title":"\\u009b31m\\u202e"}');
  });
});
