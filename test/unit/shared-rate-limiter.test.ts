import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SharedRateLimiter } from '../../electron/core/http/rate-limiter';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Two limiters on one folder stand for two processes; the clock only moves when someone sleeps. */
function pair(): { a: SharedRateLimiter; b: SharedRateLimiter; slept: number[]; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tokentray-rate-'));
  dirs.push(dir);
  let now = 1_000_000;
  const clock = { now: () => now };
  const slept: number[] = [];
  const sleep = async (ms: number): Promise<void> => {
    slept.push(ms);
    now += ms;
  };
  return { a: new SharedRateLimiter(dir, clock, sleep), b: new SharedRateLimiter(dir, clock, sleep), slept, dir };
}

describe('request slots shared through the state directory', () => {
  it('two "processes" taking turns on one key get evenly spaced slots, never a burst', async () => {
    const { a, b, slept } = pair();
    for (let i = 0; i < 4; i += 1) {
      expect(await a.take('amocrm:client', 7)).toBeNull();
      expect(await b.take('amocrm:client', 7)).toBeNull();
    }
    // The first request goes at once; every later one waits one slot (1000/7 ms plus slack).
    expect(slept).toHaveLength(7);
    for (const ms of slept) expect(ms).toBeGreaterThanOrEqual(1000 / 7);
    expect(slept.reduce((x, y) => x + y, 0)).toBeGreaterThanOrEqual(1000);
  });

  it('a block seen by one process makes the other hold off without taking a slot', async () => {
    const { a, b } = pair();
    await a.pause('amocrm:client', 10 * 60_000);
    const held = await b.take('amocrm:client', 7, 60_000);
    expect(held).toBeGreaterThan(9 * 60_000);
    // Other keys (another integration) are not affected.
    expect(await b.take('amocrm:other', 7, 60_000)).toBeNull();
  });

  it('keeps only numbers in its slot files, named after the key', async () => {
    const { a, dir } = pair();
    await a.take('amocrm:0b3c/../x', 7);
    const files = readdirSync(dir).filter((f) => f.endsWith('.slot'));
    expect(files).toEqual(['amocrm_0b3c_.._x.slot']);
    expect(readFileSync(join(dir, files[0]!), 'utf8')).toMatch(/^\d+(\.\d+)?$/);
  });
});
