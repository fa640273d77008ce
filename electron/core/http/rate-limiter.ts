import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { withAccountLock } from '../refresh/account-lock';
import type { Clock } from '../clock';

/** Spaces requests per rate key; `pause` pushes the next slot out after a 429 or a block. */
export interface PacingLimiter {
  /**
   * Waits for this key's next slot and takes it. When the key is paused for longer than
   * `maxWaitMs` (a block measured in minutes) it takes nothing and returns how long the
   * pause still lasts, so the caller can say so instead of hanging; null otherwise.
   */
  take(key: string, perSecond: number, maxWaitMs?: number): Promise<number | null>;
  pause(key: string, ms: number): Promise<void> | void;
}

// Slack per slot: a request that leaves late (a busy event loop) followed by one on time must
// still not put perSecond + 1 arrivals into one sliding second at the provider. Across processes
// a late start is likelier (several processes on a loaded machine), so shared slots get more.
const intervalFor = (perSecond: number, slack = 1.15): number => (1000 / perSecond) * slack;
const SHARED_SLACK = 1.3;

/**
 * Spaces requests per key so a provider never sees more than its documented
 * rate, even in bursts (amoCRM blocks IPs that burst past 7/s). Each key gets
 * evenly spaced slots; `pause` pushes the next slot out after a 429.
 * Per process; SharedRateLimiter below is the one the product uses.
 */
export class RateLimiter implements PacingLimiter {
  private readonly nextSlot = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  async take(key: string, perSecond: number, maxWaitMs = Infinity): Promise<number | null> {
    const interval = intervalFor(perSecond);
    const now = this.clock.now();
    const slot = Math.max(now, this.nextSlot.get(key) ?? 0);
    if (slot - now > maxWaitMs) return slot - now;
    this.nextSlot.set(key, slot + interval);
    if (slot > now) await this.sleep(slot - now);
    return null;
  }

  pause(key: string, ms: number): void {
    const until = this.clock.now() + ms;
    if ((this.nextSlot.get(key) ?? 0) < until) this.nextSlot.set(key, until);
  }
}

/**
 * The same slots, kept in one small file per rate key under a folder every
 * Tokentray process on this machine shares. A provider's ceiling is per
 * integration (amoCRM: 7 requests/second), not per process, so the tray app and
 * any number of `tokentray tasks` runs must draw from one schedule. Each `take`
 * reserves the next free slot under a lock (read, advance, write: a few ms),
 * then sleeps until its slot outside the lock. A slot file that cannot be read
 * is treated as "no reservation": the worst case is one slot too early, never
 * a wedged account.
 */
export class SharedRateLimiter implements PacingLimiter {
  private readonly local: RateLimiter;
  private ready: Promise<void> | null = null;

  constructor(
    private readonly dir: string,
    private readonly clock: Clock,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    this.local = new RateLimiter(clock, sleep);
  }

  async take(key: string, perSecond: number, maxWaitMs = Infinity): Promise<number | null> {
    const interval = intervalFor(perSecond, SHARED_SLACK);
    let held = false;
    let slot: number;
    try {
      slot = await this.reserve(key, (next, now) => {
        const s = Math.max(now, next);
        // Paused for longer than the caller will wait (another process saw a block): take nothing.
        held = s - now > maxWaitMs;
        return held ? { value: s, next } : { value: s, next: s + interval };
      });
    } catch {
      // The folder is unusable (read-only home, full disk): still pace this process.
      return this.local.take(key, perSecond, maxWaitMs);
    }
    const wait = slot - this.clock.now();
    if (held) return Math.max(0, wait);
    if (wait > 0) await this.sleep(wait);
    return null;
  }

  async pause(key: string, ms: number): Promise<void> {
    this.local.pause(key, ms);
    await this.reserve(key, (next, now) => ({ value: 0, next: Math.max(next, now + ms) })).catch(() => undefined);
  }

  private async reserve(
    key: string,
    step: (next: number, now: number) => { value: number; next: number },
  ): Promise<number> {
    this.ready ??= fs.mkdir(this.dir, { recursive: true, mode: 0o700 }).then(() => undefined);
    await this.ready;
    const name = `${key.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 120)}`;
    const file = join(this.dir, `${name}.slot`);
    // The same holder-liveness lock as refreshes: a frozen holder is waited for, a dead one reaped at once.
    return withAccountLock(this.dir, `${name}.slot`, async () => {
      const text = await fs.readFile(file, 'utf8').catch(() => '');
      const stored = Number(text.trim());
      const now = this.clock.now();
      const { value, next } = step(Number.isFinite(stored) ? stored : 0, now);
      await fs.writeFile(file, String(next), { mode: 0o600 });
      return value;
    });
  }
}
